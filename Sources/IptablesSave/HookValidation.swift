import Netfilter

/// What the kernel's `checkentry` refuses when rules are loaded: a match or target used at a
/// hook where it has no meaning, including in user chains reached from such a hook (the kernel
/// follows jumps). Returns one message per offending rule.
public enum HookValidation {
    public static func problems(_ tables: RuleTables) -> [String] {
        var problems: [String] = []
        for state in tables.tables {
            let hooks = reachingHooks(state)
            for chain in state.chains {
                for (index, rule) in chain.rules.enumerated() {
                    for hook in (hooks[chain.name] ?? []).sorted(by: { $0.rawValue < $1.rawValue }) {
                        if let problem = problem(rule, at: hook) {
                            problems.append(
                                "\(state.table) \(chain.name) rule \(index + 1): \(problem) (reached from \(hook))"
                            )
                            break
                        }
                    }
                }
            }
        }
        return problems
    }

    /// The built-in chains (hooks) from which each chain can be reached.
    static func reachingHooks(_ state: RuleTables.TableState) -> [ChainName: Set<ChainName>] {
        var hooks: [ChainName: Set<ChainName>] = [:]
        for chain in state.chains where chain.policy != nil { hooks[chain.name] = [chain.name] }
        var changed = true
        while changed {
            changed = false
            for chain in state.chains {
                guard let from = hooks[chain.name] else { continue }
                for rule in chain.rules {
                    guard let target = rule.target.jumpedChain else { continue }
                    let before = hooks[target] ?? []
                    let after = before.union(from)
                    if after != before {
                        hooks[target] = after
                        changed = true
                    }
                }
            }
        }
        return hooks
    }

    static func problem(_ rule: Rule, at hook: ChainName) -> String? {
        for match in rule.matches {
            switch match {
            case .owner where !OwnerMatch.validHooks.contains(hook):
                return "the owner match only works in OUTPUT and POSTROUTING"
            case .interface(let interface) where !interface.isValid(atHook: hook):
                return interface.direction == .incoming
                    ? "-i has no meaning in OUTPUT and POSTROUTING"
                    : "-o has no meaning in PREROUTING and INPUT"
            default: continue
            }
        }
        switch rule.target {
        case .redirect where !RedirectTarget.validHooks.contains(hook):
            return "REDIRECT only works in PREROUTING and OUTPUT"
        case .tproxy where !TProxyTarget.validHooks.contains(hook):
            return "TPROXY only works in PREROUTING"
        case .nat(let nat):
            let valid: Set<ChainName> =
                nat.kind == .dnat ? [.prerouting, .output] : [.postrouting, .input]
            return valid.contains(hook)
                ? nil
                : "\(nat.kind.rawValue) only works in \(valid.map(\.rawValue).sorted().joined(separator: " and "))"
        default:
            return nil
        }
    }
}
