import Netfilter
import PacketModel

/// Renders generated rules the ways `istio-iptables` writes them.
public enum RuleText {
    /// `BuildV4()`/`BuildV6()`: `-t T -N CHAIN` for each user chain with rules (first use), then
    /// `-t T -A|-I …` for every rule; prefixed with the binary name.
    public static func commands(_ rules: [GeneratedRule], family: IPFamily) -> [String] {
        let binary = family == .ipv4 ? "iptables" : "ip6tables"
        var lines: [String] = []
        var declared = Set<String>()
        for entry in rules {
            let rule = entry.chainRule
            if !rule.chain.isBuiltin && declared.insert("\(rule.chain):\(rule.table)").inserted {
                lines.append("\(binary) -t \(rule.table) -N \(rule.chain)")
            }
        }
        for entry in rules {
            lines.append("\(binary) -t \(entry.chainRule.table) \(entry.chainRule.restoreLine)")
        }
        return lines
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
