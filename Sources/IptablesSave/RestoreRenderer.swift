import Netfilter

/// Renders a document as iptables-restore input, statement by statement, options as written
/// (the inverse of `RestoreParser` for what it accepts in canonical spelling).
public enum RestoreRenderer {
    public static func render(_ document: RestoreDocument) -> String {
        var text = ""
        for block in document.blocks {
            text += (block.spacedHeader ? "* " : "*") + "\(block.table)\n"
            for statement in block.statements { text += line(statement) + "\n" }
            text += "COMMIT\n"
        }
        return text
    }

    static func line(_ statement: Statement) -> String {
        switch statement {
        case .chain(let name, let policy, let counters):
            return ":\(name) \(policy?.rawValue ?? "-")"
                + (counters.map { " [\($0.packets):\($0.bytes)]" } ?? "")
        case .newChain(let name):
            return "-N \(name)"
        case .rule(let rule, let counters):
            var words: [String]
            switch rule.placement {
            case .append: words = ["-A", rule.chain.rawValue]
            case .insert(let position): words = ["-I", rule.chain.rawValue, String(position)]
            }
            words += rule.rule.arguments
            return (counters.map { "[\($0.packets):\($0.bytes)] " } ?? "")
                + words.map(quoteWord).joined(separator: " ")
        case .delete(let chain, .position(let position)):
            return "-D \(chain) \(position)"
        case .delete(let chain, .rule(let rule)):
            return (["-D", chain.rawValue] + rule.arguments).map(quoteWord).joined(separator: " ")
        case .flush(let chain):
            return "-F" + (chain.map { " \($0)" } ?? "")
        case .deleteChain(let chain):
            return "-X" + (chain.map { " \($0)" } ?? "")
        case .policy(let chain, let policy):
            return "-P \(chain) \(policy.rawValue)"
        }
    }

    /// Quotes a word that would not survive splitting (`--comment "a b"`).
    static func quoteWord(_ word: String) -> String {
        // Already quoted as a whole (NFLOG prefixes as Istio ≤1.23 wrote them).
        if word.count >= 2 && word.hasPrefix("\"") && word.hasSuffix("\"") {
            return word
        }
        guard word.isEmpty || word.contains(where: { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" })
        else { return word }
        return "\"" + word.replacingQuotes() + "\""
    }
}

extension String {
    func replacingQuotes() -> String {
        var out = ""
        for character in self {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
