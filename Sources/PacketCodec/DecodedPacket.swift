import PacketModel

/// The layer of a packet a ``DecodeIssue`` is about.
public enum PacketLayer: String, Hashable, Sendable {
    case link
    case network
    case transport
    /// The original datagram quoted inside an ICMP error.
    case icmpQuote = "icmp-quote"
}

/// Why decoding stopped before the end of the headers. Decoding never fails: what could be
/// read is in the ``DecodedPacket``, and this says what could not.
public enum DecodeIssue: Hashable, Sendable, CustomStringConvertible {
    /// The captured bytes end inside a header (snaplen, or a cut record): `needed` bytes from the
    /// start of the packet would have been required, `available` were captured.
    case truncated(PacketLayer, needed: Int, available: Int)
    /// A header contradicts itself (IPv4 header length below 20, wrong version nibble, …).
    case malformed(PacketLayer, Malformation)
    /// The capture's link type is not one ``LinkType/decodable`` lists.
    case unsupportedLinkType(LinkType)

    public var description: String {
        switch self {
        case .truncated(let layer, let needed, let available):
            "\(layer.rawValue) header truncated: needs \(needed) bytes, \(available) captured"
        case .malformed(let layer, let why): "\(layer.rawValue) header malformed: \(why)"
        case .unsupportedLinkType(let type): "unsupported link type \(type)"
        }
    }
}

/// What is wrong with a malformed header (plain values: decoding allocates nothing).
public enum Malformation: Hashable, Sendable, CustomStringConvertible {
    /// The version nibble is neither 4 nor 6 (RFC 791, RFC 8200).
    case ipVersion(UInt8)
    /// IPv4 IHL below 5 (RFC 791 §3.1).
    case ipv4HeaderLength(UInt8)
    /// IPv4 total length shorter than its header.
    case ipv4TotalLength(UInt16)
    /// TCP data offset below 5 (RFC 9293 §3.1).
    case tcpDataOffset(UInt8)
    case tooManyVLANTags
    case tooManyExtensionHeaders
    /// NULL/LOOP address family that is not IPv4 or IPv6.
    case addressFamily(UInt32)
    /// An NFLOG TLV shorter than its own 4-byte header, at a byte offset.
    case nflogTLVLength(UInt16, at: Int)

    public var description: String {
        switch self {
        case .ipVersion(let version): "IP version \(version)"
        case .ipv4HeaderLength(let words): "IPv4 header length \(words) (x4 bytes, minimum 5)"
        case .ipv4TotalLength(let length): "IPv4 total length \(length) shorter than its header"
        case .tcpDataOffset(let words): "TCP data offset \(words) (x4 bytes, minimum 5)"
        case .tooManyVLANTags: "more than 4 VLAN tags"
        case .tooManyExtensionHeaders: "more than \(PacketDecoder.maxExtensionHeaders) IPv6 extension headers"
        case .addressFamily(let family): "address family \(family) is neither IPv4 nor IPv6"
        case .nflogTLVLength(let length, let offset): "NFLOG TLV of length \(length) at byte \(offset)"
        }
    }
}

/// One packet's headers as read from its bytes: whatever layers were present and complete.
///
/// Decoding reads the bytes in place (no copies, no allocation) and stops at the first layer it
/// cannot read, saying why in ``issue``.
public struct DecodedPacket: Hashable, Sendable {
    public var linkType: LinkType
    /// The protocol the link layer announces (after VLAN tags); nil for link types without one.
    public var etherType: EtherType?
    /// The outermost 802.1Q / 802.1ad VLAN identifier (12 bits).
    public var vlanID: UInt16?
    /// LINUX_SLL2's interface index (map it to a name with `--ifindex`).
    public var interfaceIndex: UInt32?
    /// LINUX_SLL / SLL2 packet type (incoming to this host, outgoing, …).
    public var sllPacketType: SLLPacketType?
    /// NFLOG's attributes (owner uid/gid, mark, group).
    public var nflog: NFLOGInfo?
    /// Where the IP header starts in the packet's bytes.
    public var networkOffset: Int
    public var ip: IPHeader?
    /// TCP or UDP ports (and TCP flags); nil for later fragments and other protocols.
    public var transport: TransportHeader?
    public var icmp: ICMPHeader?
    /// Where the transport payload starts (the end of the last decoded header).
    public var payloadOffset: Int
    public var issue: DecodeIssue?

    public init(linkType: LinkType) {
        self.linkType = linkType
        networkOffset = 0
        payloadOffset = 0
    }

    /// Clears every field for the next packet, in place (no temporary copy).
    @inline(__always) mutating func reset(linkType: LinkType) {
        self.linkType = linkType
        etherType = nil
        vlanID = nil
        interfaceIndex = nil
        sllPacketType = nil
        nflog = nil
        networkOffset = 0
        ip = nil
        transport = nil
        icmp = nil
        payloadOffset = 0
        issue = nil
    }

    /// A header was cut by the capture's snaplen (or the record ended early).
    public var isTruncated: Bool {
        if case .truncated = issue { return true }
        return false
    }

    /// Whether the protocol's header starts with two ports (TCP, UDP, SCTP, UDP-Lite).
    public static func hasPorts(_ proto: IPProtocol) -> Bool {
        let value = proto.rawValue
        return value == 6 || value == 17 || value == 132 || value == 136
    }

    /// A later fragment: it has no transport header, so no ports.
    public var isLaterFragment: Bool { ip?.fragment.map { !$0.isFirst } ?? false }

    /// The headers as the netfilter model sees them (nil without an IP header).
    public var packetHeader: PacketHeader? {
        guard let ip else { return nil }
        return PacketHeader(
            proto: ip.proto, source: ip.source, sourcePort: transport?.sourcePort ?? 0,
            destination: ip.destination, destinationPort: transport?.destinationPort ?? 0,
            tcpFlags: ip.proto == .tcp ? Set(transport?.tcpFlags.names ?? []) : [], icmpType: icmp?.type,
            icmpCode: icmp?.code)
    }
}
