/// Why a textual address or prefix was rejected.
///
/// The messages follow Go's `net/netip` (`ParseAddr`, `ParsePrefix`) word for word, because
/// Istio's `istio-iptables` reports exactly those messages for a bad CIDR and users search for them.
public struct AddressParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        case address
        case prefix
        /// Go's `net.ParseCIDR` (`*net.ParseError`), which says only what it could not parse.
        case netParseCIDR
    }
    /// Whole text that was parsed.
    public let input: String
    public let message: String
    /// The unparsed rest of the input at the point of failure, when it helps.
    public let at: String?
    public let kind: Kind

    public init(input: String, message: String, at: String? = nil, kind: Kind = .address) {
        self.input = input
        self.message = message
        self.at = at
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .address:
            var text = "ParseAddr(\(goQuote(input))): \(message)"
            if let at, !at.isEmpty { text += " (at \(goQuote(at)))" }
            return text
        case .prefix:
            return "netip.ParsePrefix(\(goQuote(input))): \(message)"
        case .netParseCIDR:
            return "invalid CIDR address: \(input)"
        }
    }
}

/// Go's `strconv.Quote` for the printable-ASCII texts we meet; other bytes are escaped as `\xNN`.
public func goQuote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value >= 0x20 && scalar.value < 0x7f || scalar.value >= 0xa0 {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
            }
        }
    }
    return out + "\""
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
