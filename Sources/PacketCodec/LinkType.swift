/// A capture's link-layer header type: the `LINKTYPE_*` value of a pcap file header or a pcapng
/// Interface Description Block, or the `DLT_*` value libpcap reports (they differ only for RAW).
///
/// Values and header layouts: tcpdump.org "Link-layer header types" (LINKTYPE registry) and
/// draft-ietf-opsawg-pcaplinktype. Only the types below are decoded; others are reported as
/// unsupported, never guessed.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// LINKTYPE_NULL (0): BSD loopback; a 4-byte address family in the *writer's* byte order.
    public static let null = LinkType(rawValue: 0)
    /// LINKTYPE_ETHERNET (1, DLT_EN10MB): IEEE 802.3 header, 14 bytes, 802.1Q tags allowed.
    public static let ethernet = LinkType(rawValue: 1)
    /// DLT_RAW (12 on Linux): raw IPv4 or IPv6, version in the first nibble. libpcap reports this
    /// for files whose header says LINKTYPE_RAW (101).
    public static let rawDLT = LinkType(rawValue: 12)
    /// LINKTYPE_RAW (101): raw IPv4 or IPv6, as written in pcap and pcapng files.
    public static let raw = LinkType(rawValue: 101)
    /// LINKTYPE_LOOP (108): like NULL, but the family is always in network byte order.
    public static let loop = LinkType(rawValue: 108)
    /// LINKTYPE_LINUX_SLL (113): Linux "cooked" v1, 16 bytes, protocol at bytes 14–15.
    public static let linuxSLL = LinkType(rawValue: 113)
    /// LINKTYPE_IPV4 (228): raw IPv4 only.
    public static let ipv4 = LinkType(rawValue: 228)
    /// LINKTYPE_IPV6 (229): raw IPv6 only.
    public static let ipv6 = LinkType(rawValue: 229)
    /// LINKTYPE_NFLOG (239): Linux netfilter NFLOG messages (nfgenmsg header + TLVs).
    public static let nflog = LinkType(rawValue: 239)
    /// LINKTYPE_LINUX_SLL2 (276): Linux "cooked" v2, 20 bytes, protocol at bytes 0–1 and the
    /// interface *index* at bytes 4–7 (what `tcpdump -i any` writes since 4.99).
    public static let linuxSLL2 = LinkType(rawValue: 276)

    /// Every type ``PacketDecoder`` understands.
    public static let decodable: [LinkType] = [
        .null, .ethernet, .rawDLT, .raw, .loop, .linuxSLL, .ipv4, .ipv6, .nflog, .linuxSLL2,
    ]

    public var isDecodable: Bool {
        switch rawValue {
        case 0, 1, 12, 101, 108, 113, 228, 229, 239, 276: true
        default: false
        }
    }

    /// The DLT value libpcap uses on Linux for this LINKTYPE (only RAW differs: 101 -> 12).
    /// `pcap_open_dead` and `pcap_compile` want DLT values.
    public var dltValue: UInt32 { self == .raw ? LinkType.rawDLT.rawValue : rawValue }

    public var name: String {
        switch rawValue {
        case 0: "NULL"
        case 1: "EN10MB"
        case 12, 101: "RAW"
        case 108: "LOOP"
        case 113: "LINUX_SLL"
        case 228: "IPV4"
        case 229: "IPV6"
        case 239: "NFLOG"
        case 276: "LINUX_SLL2"
        default: "LINKTYPE \(rawValue)"
        }
    }

    public var description: String { "\(name) (\(rawValue))" }
}

/// An Ethernet type / protocol number of the link layer (IEEE 802 EtherType registry).
public struct EtherType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// RFC 894.
    public static let ipv4 = EtherType(rawValue: 0x0800)
    /// RFC 826.
    public static let arp = EtherType(rawValue: 0x0806)
    /// IEEE 802.1Q customer VLAN tag.
    public static let vlan = EtherType(rawValue: 0x8100)
    /// IEEE 802.1ad service VLAN tag (Q-in-Q outer tag).
    public static let qinq = EtherType(rawValue: 0x88A8)
    /// RFC 8200 (via RFC 2464).
    public static let ipv6 = EtherType(rawValue: 0x86DD)

    public var description: String {
        switch self {
        case .ipv4: "IPv4"
        case .ipv6: "IPv6"
        case .arp: "ARP"
        case .vlan: "802.1Q"
        case .qinq: "802.1ad"
        default: "0x" + String(rawValue, radix: 16)
        }
    }
}

/// The Linux cooked-capture packet type (`sll_pkttype`, `PACKET_*` in linux/if_packet.h).
public struct SLLPacketType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// PACKET_HOST: addressed to this host.
    public static let host = SLLPacketType(rawValue: 0)
    /// PACKET_BROADCAST.
    public static let broadcast = SLLPacketType(rawValue: 1)
    /// PACKET_MULTICAST.
    public static let multicast = SLLPacketType(rawValue: 2)
    /// PACKET_OTHERHOST: to someone else, seen in promiscuous mode.
    public static let otherHost = SLLPacketType(rawValue: 3)
    /// PACKET_OUTGOING: sent by this host.
    public static let outgoing = SLLPacketType(rawValue: 4)
}
