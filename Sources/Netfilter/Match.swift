/// A rule's match: the built-in selectors (`-p`, `-s`, `-d`, `-i`, `-o`) and the match extensions.
/// Each case's payload lives in its own file under `Matches/`.
public enum Match: Hashable, Sendable {
    case `protocol`(ProtocolMatch)
    case address(AddressMatch)
    case interface(InterfaceMatch)
    case port(PortMatch)
    case multiport(MultiportMatch)
    case owner(OwnerMatch)
    case conntrack(ConntrackMatch)
    case mark(MarkMatch)
    case connmark(ConnmarkMatch)
    case comment(CommentMatch)
    case statistic(StatisticMatch)
    case addrType(AddrTypeMatch)
    case state(StateMatch)
    case icmp(ICMPMatch)
    case tcpFlags(TCPFlagsMatch)
    case ipRange(IPRangeMatch)
    case pktType(PktTypeMatch)
    case socket(SocketMatch)
    /// `-m tcp` (or udp, icmp…) loaded without options of its own.
    case moduleOnly(String)

    public var arguments: [String] {
        switch self {
        case .comment(let match): match.arguments
        case .statistic(let match): match.arguments
        case .addrType(let match): match.arguments
        case .state(let match): match.arguments
        case .icmp(let match): match.arguments
        case .tcpFlags(let match): match.arguments
        case .ipRange(let match): match.arguments
        case .pktType(let match): match.arguments
        case .socket(let match): match.arguments
        case .moduleOnly(let name): ["-m", name]
        case .protocol(let match): match.arguments
        case .address(let match): match.arguments
        case .interface(let match): match.arguments
        case .port(let match): match.arguments
        case .multiport(let match): match.arguments
        case .owner(let match): match.arguments
        case .conntrack(let match): match.arguments
        case .mark(let match): match.arguments
        case .connmark(let match): match.arguments
        }
    }
}

/// A 32-bit mark as written (`1337`, `0x539`), with the value netfilter uses.
public struct MarkValue: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let value: UInt32?
    public let mask: UInt32?

    /// Parses `value[/mask]` the way iptables does (decimal, `0x` hex or leading-zero octal).
    public init(_ text: String) {
        self.text = text
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        value = MarkValue.parseNumber(parts[0])
        mask = parts.count == 2 ? MarkValue.parseNumber(parts[1]) : nil
    }

    static func parseNumber(_ text: Substring) -> UInt32? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt32(text.dropFirst(2), radix: 16) }
        if text.count > 1 && text.hasPrefix("0") { return UInt32(text.dropFirst(), radix: 8) }
        return UInt32(text)
    }

    public var isValid: Bool {
        let hasMask = text.contains("/")
        return value != nil && (!hasMask || mask != nil)
    }

    public var description: String { text }
}
