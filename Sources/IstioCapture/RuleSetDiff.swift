import Netfilter
import PacketModel

/// What changed between the rules two releases (or two configurations) write: rules added,
/// removed and moved, chain by chain in the kernel's final order, and what that means for traffic.
public struct RuleSetDiff: Sendable {
    public enum Kind: String, Sendable {
        case added
        case removed
        case moved
    }

    public struct Change: Sendable, Equatable {
        public let kind: Kind
        public let family: IPFamily
        public let table: Table
        public let chain: ChainName
        /// For a move between chains: where the rule was.
        public let fromChain: ChainName?
        /// The rule as in iptables-restore input, without `-A CHAIN`.
        public let rule: String
        /// 1-based position in the final chain (in the older rule set for a removal).
        public let position: Int
        public let fromPosition: Int?
        public let reason: String
    }

    public let changes: [Change]
    /// What the changes mean for traffic, one sentence each.
    public let meanings: [String]

    public var isEmpty: Bool { changes.isEmpty }

    public init(from old: GeneratedRules, to new: GeneratedRules) {
        var changes: [Change] = []
        for family in IPFamily.allCases {
            changes += Self.compare(FinalChains(old[family]), FinalChains(new[family]), family: family)
        }
        self.changes = changes
        self.meanings = Meaning.all.compactMap { $0.describe(old, new) }
    }

    static func compare(_ old: FinalChains, _ new: FinalChains, family: IPFamily) -> [Change] {
        var removed: [Change] = []
        var added: [Change] = []
        var moved: [Change] = []
        for key in (old.keys + new.keys).uniqued() {
            let a = old.chains[key] ?? []
            let b = new.chains[key] ?? []
            let (onlyA, onlyB) = lcsDifference(a.map(\.text), b.map(\.text))
            // A rule that disappears and reappears in the same chain has moved.
            var pendingB = onlyB
            for index in onlyA {
                if let match = pendingB.firstIndex(where: { b[$0].text == a[index].text }) {
                    let to = pendingB.remove(at: match)
                    moved.append(
                        Change(
                            kind: .moved, family: family, table: key.table, chain: key.chain, fromChain: nil,
                            rule: a[index].text,
                            position: to + 1, fromPosition: index + 1, reason: b[to].reason))
                } else {
                    removed.append(
                        Change(
                            kind: .removed, family: family, table: key.table, chain: key.chain,
                            fromChain: nil,
                            rule: a[index].text, position: index + 1, fromPosition: nil,
                            reason: a[index].reason))
                }
            }
            for index in pendingB {
                added.append(
                    Change(
                        kind: .added, family: family, table: key.table, chain: key.chain, fromChain: nil,
                        rule: b[index].text,
                        position: index + 1, fromPosition: nil, reason: b[index].reason))
            }
        }
        // The same rule removed from one chain and added to another of its table has moved chains.
        var remainingAdded = added
        var remainingRemoved: [Change] = []
        for change in removed {
            if let match = remainingAdded.firstIndex(where: {
                $0.table == change.table && $0.rule == change.rule
            }) {
                let target = remainingAdded.remove(at: match)
                moved.append(
                    Change(
                        kind: .moved, family: family, table: target.table, chain: target.chain,
                        fromChain: change.chain,
                        rule: target.rule, position: target.position, fromPosition: change.position,
                        reason: target.reason))
            } else {
                remainingRemoved.append(change)
            }
        }
        return remainingRemoved + remainingAdded + moved
    }

    /// Indexes of `a` and of `b` outside their longest common subsequence.
    public static func lcsDifference(_ a: [String], _ b: [String]) -> ([Int], [Int]) {
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var onlyA: [Int] = []
        var onlyB: [Int] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count && j < b.count && a[i] == b[j] {
                i += 1
                j += 1
            } else if j < b.count && (i == a.count || table[i][j + 1] >= table[i + 1][j]) {
                onlyB.append(j)
                j += 1
            } else {
                onlyA.append(i)
                i += 1
            }
        }
        return (onlyA, onlyB)
    }
}

/// Chains as the kernel holds them once every `-A` and `-I` has run.
struct FinalChains {
    struct Key: Hashable {
        let table: Table
        let chain: ChainName
    }

    struct Entry {
        let text: String
        let reason: String
        let rule: Rule
    }

    private(set) var chains: [Key: [Entry]] = [:]
    private(set) var keys: [Key] = []

    init(_ rules: [GeneratedRule]) {
        for generated in rules {
            let chainRule = generated.chainRule
            let key = Key(table: chainRule.table, chain: chainRule.chain)
            if chains[key] == nil {
                chains[key] = []
                keys.append(key)
            }
            let entry = Entry(
                text: chainRule.rule.text, reason: generated.provenance.reason, rule: chainRule.rule)
            switch chainRule.placement {
            case .append: chains[key]!.append(entry)
            case .insert(let position):
                chains[key]!.insert(entry, at: min(max(position - 1, 0), chains[key]!.count))
            }
        }
    }

    subscript(table: Table, chain: ChainName) -> [Entry] { chains[Key(table: table, chain: chain)] ?? [] }
}

/// Traffic-level properties of a rule set; a difference in one between two rule sets is
/// reported in plain words.
struct Meaning: Sendable {
    let describe: @Sendable (GeneratedRules, GeneratedRules) -> String?

    static let all: [Meaning] = [
        protocolsIntoOutputChain, sshCapture, tunnelPortOnLoopback, udpPortExclusions, dnsChains,
        dnsAnswerZone,
        trailingReturn, dropInvalid, traceLogging, ipv6,
    ]

    /// Which protocols the nat OUTPUT hook sends into ISTIO_OUTPUT (nil: all).
    static func outputProtocols(_ rules: GeneratedRules) -> Set<String>? {
        let jumps = FinalChains(rules.v4)[.nat, .output].filter { $0.rule.target == .jump(.istioOutput) }
        if jumps.isEmpty { return [] }
        var protocols = Set<String>()
        for jump in jumps {
            guard
                case .protocol(let match)? = jump.rule.matches.first(where: {
                    if case .protocol = $0 { true } else { false }
                })
            else { return nil }
            protocols.insert(match.proto.description)
        }
        return protocols
    }

    static let protocolsIntoOutputChain = Meaning { old, new in
        let before = outputProtocols(old)
        let after = outputProtocols(new)
        guard before != after else { return nil }
        let phrase = { (set: Set<String>?) -> String in
            guard let set else { return "all locally generated traffic" }
            if set.isEmpty { return "no locally generated traffic" }
            return "locally generated " + set.sorted().map { $0.uppercased() }.joined(separator: " and ")
                + " traffic"
        }
        var text = "Now \(phrase(after)) traverses nat ISTIO_OUTPUT (before: \(phrase(before)))"
        let udpBefore = before.map { $0.contains("udp") } ?? true
        let udpAfter = after.map { $0.contains("udp") } ?? true
        if udpAfter && !udpBefore {
            text +=
                ", so the rules there — excluded outbound ports (-o), the proxy's uid/gid returns, owner groups — now apply to UDP too"
        }
        return text + "."
    }

    static func hasSSHReturn(_ rules: GeneratedRules) -> Bool {
        rules.v4.contains {
            $0.chainRule.chain == .istioInbound && $0.chainRule.rule.text == "-p tcp --dport 22 -j RETURN"
        }
    }

    static let sshCapture = Meaning { old, new in
        switch (hasSSHReturn(old), hasSSHReturn(new)) {
        case (true, false):
            "Inbound SSH (port 22) is now captured like any other port when all inbound ports are (-b '*')."
        case (false, true): "Inbound SSH (port 22) now bypasses Envoy."
        default: String?.none
        }
    }

    /// Whether the proxy's loopback re-redirect excludes the inbound tunnel port.
    static func loopbackRedirectSkipsTunnel(_ rules: GeneratedRules) -> Bool? {
        guard
            let tunnel = rules.v4.first(where: {
                $0.chainRule.chain == .istioInbound && $0.chainRule.table == .nat
                    && $0.provenance.settings == [.inboundTunnelPort]
            }),
            case .port(let tunnelPort)? = tunnel.chainRule.rule.matches.last
        else { return nil }
        let redirects = rules.v4.filter {
            $0.chainRule.chain == .istioOutput && $0.chainRule.rule.target == .jump(.istioInRedirect)
        }
        guard !redirects.isEmpty else { return nil }
        return redirects.allSatisfy { rule in
            rule.chainRule.rule.matches.contains {
                switch $0 {
                case .port(let port): port.negation.isInverted && port.port == tunnelPort.port
                case .multiport(let ports): ports.negation.isInverted && ports.ports.contains(tunnelPort.port)
                default: false
                }
            }
        }
    }

    static let tunnelPortOnLoopback = Meaning { old, new in
        guard let before = loopbackRedirectSkipsTunnel(old), let after = loopbackRedirectSkipsTunnel(new),
            before != after
        else {
            return nil
        }
        return after
            ? "The proxy's own calls over lo to the inbound tunnel port are no longer sent back to Envoy's inbound listener."
            : "The proxy's own calls over lo to the inbound tunnel port are now sent to Envoy's inbound listener too."
    }

    static func udpExclusions(_ rules: GeneratedRules) -> Bool {
        rules.v4.contains {
            $0.chainRule.chain == .istioOutput && $0.chainRule.rule.text.hasPrefix("-p udp --dport")
                && $0.chainRule.rule.target == .return
                && $0.provenance.settings.contains(.outboundPortsExclude)
        }
    }

    static let udpPortExclusions = Meaning { old, new in
        switch (udpExclusions(old), udpExclusions(new)) {
        case (false, true): "Excluded outbound ports (-o) now exclude UDP as well as TCP."
        case (true, false): "Excluded outbound ports (-o) no longer exclude UDP."
        default: String?.none
        }
    }

    static func chains(_ rules: GeneratedRules) -> Set<String> {
        Set((rules.v4 + rules.v6).map { "\($0.chainRule.table) \($0.chainRule.chain)" })
    }

    static let dnsChains = Meaning { old, new in
        let added = chains(new).subtracting(chains(old)).filter { $0.contains("ISTIO_") }.sorted()
        let removed = chains(old).subtracting(chains(new)).filter { $0.contains("ISTIO_") }.sorted()
        guard !added.isEmpty || !removed.isEmpty else { return nil }
        var parts: [String] = []
        if !added.isEmpty { parts.append("new chains: " + added.joined(separator: ", ")) }
        if !removed.isEmpty { parts.append("chains no longer created: " + removed.joined(separator: ", ")) }
        return parts.joined(separator: "; ").capitalizedFirst + "."
    }

    static func answerZoneBySource(_ rules: GeneratedRules) -> Bool? {
        let answers = rules.v4.filter {
            $0.chainRule.table == .raw && $0.chainRule.rule.text.hasPrefix("-p udp --sport 53 ")
                && $0.chainRule.rule.text.contains("/32")
        }
        guard let first = answers.first else { return nil }
        return first.chainRule.rule.text.contains(" -s ")
    }

    static let dnsAnswerZone = Meaning { old, new in
        guard let before = answerZoneBySource(old), let after = answerZoneBySource(new), before != after
        else { return nil }
        return after
            ? "Nameserver answers now get conntrack zone 1 (the rule matches their source; before it matched the destination and never hit)."
            : "The nameserver-answer conntrack rule now matches the destination, so answers no longer get zone 1."
    }

    static func endsWithReturn(_ rules: GeneratedRules) -> Bool {
        FinalChains(rules.v4)[.nat, .istioOutput].last?.text == "-j RETURN"
    }

    static let trailingReturn = Meaning { old, new in
        switch (endsWithReturn(old), endsWithReturn(new)) {
        case (true, false):
            "ISTIO_OUTPUT no longer ends with an explicit RETURN; traffic outside the captured ranges still falls through to the OUTPUT chain's policy."
        case (false, true): "ISTIO_OUTPUT now ends with an explicit RETURN after the captured ranges."
        default: String?.none
        }
    }

    static let dropInvalid = Meaning { old, new in
        let chain = { (rules: GeneratedRules) in rules.v4.contains { $0.chainRule.chain == .istioDrop } }
        return switch (chain(old), chain(new)) {
        case (false, true):
            "INVALID packets are now dropped through the ISTIO_DROP chain (same effect, one more chain)."
        case (true, false): "INVALID packets are now dropped directly in mangle PREROUTING."
        default: String?.none
        }
    }

    static let traceLogging = Meaning { old, new in
        let logs = { (rules: GeneratedRules) in
            rules.v4.filter { if case .nflog = $0.chainRule.rule.target { true } else { false } }.count
        }
        return switch (logs(old), logs(new)) {
        case (let a, 0) where a > 0:
            "Trace logging (NFLOG) rules are gone: --iptables-trace-logging has no effect any more."
        case (0, let b) where b > 0: "Trace logging adds \(b) NFLOG rules."
        default: String?.none
        }
    }

    static let ipv6 = Meaning { old, new in
        switch (old.v6.isEmpty, new.v6.isEmpty) {
        case (true, false): "IPv6 traffic is now captured too (\(new.v6.count) ip6tables rules)."
        case (false, true): "No ip6tables rules any more."
        default: String?.none
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
