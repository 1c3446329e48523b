/// `-m comment --comment TEXT`: a note on the rule, no effect on packets.
public struct CommentMatch: Hashable, Sendable {
    public var text: String
    /// Written in double quotes (iptables-save always quotes comments).
    public var quoted: Bool

    public init(_ text: String, quoted: Bool = false) {
        self.text = text
        self.quoted = quoted
    }

    public var arguments: [String] {
        ["-m", "comment", "--comment", quoted ? "\"" + text.replacingOccurrencesOfQuote() + "\"" : text]
    }
}

extension String {
    func replacingOccurrencesOfQuote() -> String {
        var out = ""
        for character in self {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
