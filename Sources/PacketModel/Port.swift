/// A port, or a `first:last` range, as written in a rule or a flag.
///
/// Istio passes port text through to iptables unchecked, so the text is kept for byte-exact
/// output; `range` is what netfilter would match, and is `nil` when iptables would reject the text
/// (`70000`, `abc`): such a value survives a dry run but fails when the rules are loaded.
public struct PortSpec: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let range: ClosedRange<UInt16>?

    public init(_ text: String) {
        self.text = text
        self.range = PortSpec.parseRange(text)
    }

    public init(_ port: UInt16) {
        self.text = String(port)
        self.range = port...port
    }

    public var isValid: Bool { range != nil }

    /// The single port when this is not a range.
    public var port: UInt16? {
        guard let range, range.lowerBound == range.upperBound else { return nil }
        return range.lowerBound
    }

    public func contains(_ port: UInt16) -> Bool { range?.contains(port) ?? false }

    public var description: String { text }

    static func parseNumber(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy(\.isASCIIDigit), let value = Int(text),
            value <= 65535
        else { return nil }
        return UInt16(value)
    }

    static func parseRange(_ text: String) -> ClosedRange<UInt16>? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return parseNumber(parts[0]).map { $0...$0 }
        case 2:
            // iptables: an empty bound means 0 or 65535.
            let low = parts[0].isEmpty ? 0 : parseNumber(parts[0])
            let high = parts[1].isEmpty ? 65535 : parseNumber(parts[1])
            guard let low, let high, low <= high else { return nil }
            return low...high
        default:
            return nil
        }
    }
}

/// The transport protocols netfilter rules name with `-p`.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    public static let icmpv6 = IPProtocol(rawValue: 58)
    public static let sctp = IPProtocol(rawValue: 132)

    /// The name iptables prints (`/etc/protocols`), or the number.
    public var description: String {
        switch self {
        case .icmp: "icmp"
        case .tcp: "tcp"
        case .udp: "udp"
        case .icmpv6: "ipv6-icmp"
        case .sctp: "sctp"
        default: String(rawValue)
        }
    }

    public init?(name: String) {
        switch name.lowercased() {
        case "tcp": self = .tcp
        case "udp": self = .udp
        case "icmp": self = .icmp
        case "icmpv6", "ipv6-icmp": self = .icmpv6
        case "sctp": self = .sctp
        default:
            guard let number = UInt8(name) else { return nil }
            self.init(rawValue: number)
        }
    }
}
