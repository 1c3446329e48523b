import PacketModel

/// Where a table's rules come from: built-in chain policies and every chain's rules.
public protocol RuleLookup {
    func rules(_ table: Table, _ chain: ChainName) -> [Rule]?
    func policy(_ table: Table, _ chain: ChainName) -> Target?
}

/// One step of a walk: a rule examined, whether it matched, and where that led.
public struct WalkStep: Hashable, Sendable {
    public let table: Table
    public let chain: ChainName
    /// 1-based.
    public let index: Int
    public let rule: Rule
    public let matched: Bool
}

/// How a walk of one table at one hook ended.
public enum WalkVerdict: Hashable, Sendable {
    case accept
    case drop
    /// A terminating extension target (REDIRECT, TPROXY, DNAT, REJECT, …) decided.
    case target(Target)
    /// The built-in chain's policy applied after its last rule.
    case policy(Target)
}

/// The result of walking one table's chain for one packet: the verdict, every rule looked at,
/// and the non-terminating targets that fired on the way (MARK, CONNMARK, CT, LOG, NFLOG).
public struct Walk: Hashable, Sendable {
    public var verdict: WalkVerdict
    public var steps: [WalkStep]
    public var effects: [Target]
    /// The packet's mark and connection mark after MARK / CONNMARK.
    public var mark: UInt32
    public var connectionMark: UInt32
}

/// Walks a built-in chain the way the kernel's `ipt_do_table` does: rule by rule, into user
/// chains on `-j` (and back on RETURN or at their end), across on `-g`, until a terminating
/// target or the policy.
public struct ChainWalker {
    public let rules: any RuleLookup

    public init(rules: any RuleLookup) { self.rules = rules }

    public func walk(_ table: Table, hook: ChainName, packet: PacketHeader, context: PacketContext) -> Walk {
        var context = context
        var walk = Walk(
            verdict: .accept, steps: [], effects: [], mark: context.mark,
            connectionMark: context.connectionMark)
        // Frames of (chain, next rule index); a goto replaces the current frame.
        var stack: [(ChainName, Int)] = [(hook, 0)]
        var guardCount = 0
        while let (chain, position) = stack.last {
            guardCount += 1
            if guardCount > 100_000 { break }  // a jump loop the kernel would have refused
            let chainRules = rules.rules(table, chain) ?? []
            if position >= chainRules.count {
                stack.removeLast()
                if stack.isEmpty {
                    let policy = rules.policy(table, hook) ?? .accept
                    walk.verdict = .policy(policy)
                }
                continue
            }
            stack[stack.count - 1].1 += 1
            let rule = chainRules[position]
            let matched = rule.matches.allSatisfy { $0.holds(for: packet, in: context) }
            walk.steps.append(
                WalkStep(table: table, chain: chain, index: position + 1, rule: rule, matched: matched))
            guard matched else { continue }
            switch rule.target {
            case .countOnly:
                continue
            case .accept:
                walk.verdict = .accept
                return walk
            case .drop:
                walk.verdict = .drop
                return walk
            case .return:
                stack.removeLast()
                if stack.isEmpty { walk.verdict = .policy(rules.policy(table, hook) ?? .accept) }
            case .jump(let target):
                stack.append((target, 0))
            case .goto(let target):
                stack[stack.count - 1] = (target, 0)
            case .mark(let mark):
                let (value, mask) = mark.xmark
                context.mark = (context.mark & ~mask) ^ value
                walk.mark = context.mark
                walk.effects.append(rule.target)
            case .connmark(let connmark):
                switch connmark {
                case .saveMark: context.connectionMark = context.mark
                case .restoreMark: context.mark = context.connectionMark
                case .set(_, let value):
                    let mark = value.value ?? 0
                    context.connectionMark = (context.connectionMark & ~(value.mask ?? .max)) ^ mark
                case .transfer(let save, _):
                    if save {
                        context.connectionMark = context.mark
                    } else {
                        context.mark = context.connectionMark
                    }
                }
                walk.mark = context.mark
                walk.connectionMark = context.connectionMark
                walk.effects.append(rule.target)
            case .ct, .notrack, .log, .nflog, .trace:
                // Non-terminating: CT/NOTRACK set up conntrack for the packet, the others observe.
                walk.effects.append(rule.target)
            default:
                walk.verdict = .target(rule.target)
                return walk
            }
        }
        return walk
    }
}
