/// `text` as a JSON string (RFC 8259 §7): quotes and backslashes escaped, `\n` and `\t` by their
/// short forms, other control characters as `\u00XX`; everything else as is (UTF-8 output).
/// Shared by every JSON writer (rules, replay flows), so they quote alike.
public func jsonQuote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
