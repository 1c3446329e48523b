/// A word of a rule line and the column it starts at.
struct Token: Equatable {
    let text: String
    /// 1-based.
    let column: Int
    /// Written inside quotes (so `"!"` is a value, not negation).
    let quoted: Bool
}

/// Splits a line into words the way iptables-restore does: white space separates, double or
/// single quotes group (`--comment "a b"`), a backslash escapes the next character.
enum Tokenizer {
    static func split(_ line: Substring, lineNumber: Int) -> Result<[Token], RulesParseError> {
        var tokens: [Token] = []
        var current = ""
        var start = 0
        var inWord = false
        var quoted = false
        var quote: Character?
        var quoteColumn = 0
        var escape = false
        for (offset, character) in line.enumerated() {
            let column = offset + 1
            if escape {
                current.append(character)
                escape = false
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escape = true
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case " ", "\t":
                if inWord {
                    tokens.append(Token(text: current, column: start, quoted: quoted))
                    current = ""
                    inWord = false
                    quoted = false
                }
            case "\"", "'":
                if !inWord {
                    inWord = true
                    start = column
                }
                quote = character
                quoted = true
                quoteColumn = column
            case "\\":
                if !inWord {
                    inWord = true
                    start = column
                }
                escape = true
            default:
                if !inWord {
                    inWord = true
                    start = column
                }
                current.append(character)
            }
        }
        if quote != nil {
            return .failure(
                RulesParseError(line: lineNumber, column: quoteColumn, message: "unterminated quote"))
        }
        if inWord { tokens.append(Token(text: current, column: start, quoted: quoted)) }
        return .success(tokens)
    }
}
