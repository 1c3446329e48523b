import Netfilter
import PacketModel

/// Renders generated rules the ways `istio-iptables` writes them.
public enum RuleText {
    /// `BuildV4()`/`BuildV6()`: `-t T -N CHAIN` for each user chain with rules (first use), then
    /// `-t T -A|-I …` for every rule.
    public static func commandArguments(_ rules: [GeneratedRule]) -> [[String]] {
        var commands: [[String]] = []
        var declared = Set<String>()
        for entry in rules {
            let rule = entry.chainRule
            if !rule.chain.isBuiltin && declared.insert("\(rule.chain):\(rule.table)").inserted {
                commands.append(["-t", rule.table.rawValue, "-N", rule.chain.rawValue])
            }
        }
        for entry in rules {
            commands.append(["-t", entry.chainRule.table.rawValue] + placementArguments(entry.chainRule))
        }
        return commands
    }

    /// The same, as command lines (`iptables -t nat -N ISTIO_INBOUND`).
    public static func commands(_ rules: [GeneratedRule], family: IPFamily) -> [String] {
        let binary = family == .ipv4 ? "iptables" : "ip6tables"
        return commandArguments(rules).map { ([binary] + $0).joined(separator: " ") }
    }

    /// `BuildCheckV4()`: each rule as `iptables -C`, insert positions dropped.
    public static func checkArguments(_ rules: [GeneratedRule]) -> [[String]] {
        rules.map {
            ["-t", $0.chainRule.table.rawValue, "-C", $0.chainRule.chain.rawValue]
                + $0.chainRule.rule.arguments
        }
    }

    /// `BuildCleanupV4()`: newest rule first, `-D` for rules outside ISTIO chains (and for
    /// jumps between ISTIO chains), then `-F`/`-X` of each ISTIO chain.
    public static func cleanupArguments(_ rules: [GeneratedRule]) -> [[String]] {
        let reversed = rules.reversed().map(\.chainRule)
        var commands: [[String]] = []
        for rule in reversed {
            let inIstioChain = rule.chain.rawValue.hasPrefix("ISTIO_")
            let jumpsToIstioChain = rule.rule.arguments.enumerated().contains { index, word in
                word == "-j" && index + 1 < rule.rule.arguments.count
                    && rule.rule.arguments[index + 1].hasPrefix("ISTIO_")
            }
            if inIstioChain && !jumpsToIstioChain { continue }
            commands.append(["-t", rule.table.rawValue, "-D", rule.chain.rawValue] + rule.rule.arguments)
        }
        var seen = Set<String>()
        for rule in reversed
        where !rule.chain.isBuiltin && seen.insert("\(rule.chain):\(rule.table)").inserted {
            commands.append(["-t", rule.table.rawValue, "-F", rule.chain.rawValue])
            commands.append(["-t", rule.table.rawValue, "-X", rule.chain.rawValue])
        }
        return commands
    }

    /// Rules that stop all TCP/UDP while an existing configuration is being replaced.
    public static func guardrails() -> [[String]] {
        guardrailRules.map { ["-t", "filter", "-I", $0.0, "1", "-p", $0.1, "-j", "DROP"] }
    }

    public static func guardrailCleanup() -> [[String]] {
        guardrailRules.map { ["-t", "filter", "-D", $0.0, "-p", $0.1, "-j", "DROP"] }
    }

    static let guardrailRules = [
        ("INPUT", "tcp"), ("INPUT", "udp"), ("FORWARD", "tcp"), ("FORWARD", "udp"), ("OUTPUT", "tcp"),
        ("OUTPUT", "udp"),
    ]

    static func placementArguments(_ rule: ChainRule) -> [String] {
        rule.restoreLine.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    }

    /// `BuildV4Restore()`/`BuildV6Restore()`: per table `* table`, its `-N` lines, its rules and
    /// `COMMIT`; tables without rules are left out.
    public static func restore(_ rules: [GeneratedRule], layout: RuleLayout) -> String {
        var perTable: [Table: [String]] = [:]
        var declared = Set<String>()
        for entry in rules {
            let rule = entry.chainRule
            let key = "\(rule.chain):\(rule.table)"
            if declared.insert(key).inserted && !rule.chain.isBuiltin {
                perTable[rule.table, default: []].append("-N \(rule.chain)")
            }
        }
        if layout.restoreDeclaresJumpTargets {
            for entry in rules {
                let rule = entry.chainRule
                guard let target = rule.rule.target.jumpedChain else { continue }
                if declared.insert("\(target):\(rule.table)").inserted && !target.isBuiltin {
                    perTable[rule.table, default: []].append("-N \(target)")
                }
            }
        }
        for entry in rules {
            perTable[entry.chainRule.table, default: []].append(entry.chainRule.restoreLine)
        }
        var text = ""
        for table in perTable.keys.sorted() {
            guard let lines = perTable[table], !lines.isEmpty else { continue }
            text += "* \(table)\n"
            for line in lines { text += line + "\n" }
            text += "COMMIT\n"
        }
        return text
    }
}
