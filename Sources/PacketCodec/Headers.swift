import PacketModel

/// TCP control bits (RFC 9293 §3.1; ECE/CWR RFC 3168; NS RFC 3540, historic).
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    public static let ns = TCPFlags(rawValue: 0x100)

    /// The names iptables uses (`--tcp-flags SYN,ACK SYN`), in bit order.
    public var names: [String] {
        let all: [(TCPFlags, String)] = [
            (.fin, "FIN"), (.syn, "SYN"), (.rst, "RST"), (.psh, "PSH"), (.ack, "ACK"), (.urg, "URG"),
            (.ece, "ECE"), (.cwr, "CWR"), (.ns, "NS"),
        ]
        return all.filter { contains($0.0) }.map(\.1)
    }

    public var description: String { names.joined(separator: ",") }
}

/// An IPv4 or IPv6 fragment (RFC 791 §3.1 flags/offset; RFC 8200 §4.5 Fragment header).
public struct Fragment: Hashable, Sendable {
    /// Offset of this fragment's data in the original payload, in bytes.
    public var offset: UInt16
    public var moreFragments: Bool
    /// 16 bits for IPv4, 32 for IPv6.
    public var identification: UInt32

    public init(offset: UInt16, moreFragments: Bool, identification: UInt32) {
        self.offset = offset
        self.moreFragments = moreFragments
        self.identification = identification
    }

    /// Only the first fragment carries the transport header (and its ports).
    public var isFirst: Bool { offset == 0 }
}

/// The network layer of a packet: addresses, and the protocol after any IPv6 extension headers.
public struct IPHeader: Hashable, Sendable {
    /// 4 or 6.
    public var version: UInt8
    public var source: IPAddress
    public var destination: IPAddress
    /// The upper-layer protocol (the last Next Header for IPv6).
    public var proto: IPProtocol
    /// IPv4 TTL / IPv6 hop limit.
    public var hopLimit: UInt8
    /// Bytes from the start of the IP header to the transport header (options and
    /// extension headers included).
    public var headerLength: Int
    /// The datagram's length as its header states it (IPv4 total length; IPv6 40 + payload length).
    public var totalLength: Int
    public var fragment: Fragment?
    /// IPv6 extension headers walked, in order (their Next Header numbers, RFC 8200 §4).
    public var extensionHeaderCount: UInt8

    public init(
        version: UInt8, source: IPAddress, destination: IPAddress, proto: IPProtocol, hopLimit: UInt8 = 64,
        headerLength: Int, totalLength: Int, fragment: Fragment? = nil, extensionHeaderCount: UInt8 = 0
    ) {
        self.version = version
        self.source = source
        self.destination = destination
        self.proto = proto
        self.hopLimit = hopLimit
        self.headerLength = headerLength
        self.totalLength = totalLength
        self.fragment = fragment
        self.extensionHeaderCount = extensionHeaderCount
    }

    /// Nothing read yet (version 0).
    static let empty = IPHeader(
        version: 0, source: .v4(.any), destination: .v4(.any), proto: IPProtocol(rawValue: 0), hopLimit: 0,
        headerLength: 0, totalLength: 0)
}

/// Ports and flags of a TCP or UDP header (RFC 9293 §3.1, RFC 768).
public struct TransportHeader: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Empty for UDP.
    public var tcpFlags: TCPFlags
    /// TCP sequence number (0 for UDP).
    public var sequence: UInt32

    public init(sourcePort: UInt16, destinationPort: UInt16, tcpFlags: TCPFlags = [], sequence: UInt32 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.tcpFlags = tcpFlags
        self.sequence = sequence
    }
}

/// The headers of the datagram an ICMP error quotes (RFC 792 "Internet Header + 64 bits of
/// Original Data Datagram"; RFC 4443 §2.4 "as much of invoking packet as possible"): what lets
/// conntrack treat the error as RELATED to the flow that caused it.
public struct QuotedPacket: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var proto: IPProtocol
    /// nil when the quote is too short for the ports (or the protocol has none).
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?

    public init(
        source: IPAddress, destination: IPAddress, proto: IPProtocol, sourcePort: UInt16? = nil,
        destinationPort: UInt16? = nil
    ) {
        self.source = source
        self.destination = destination
        self.proto = proto
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }
}

/// An ICMP (RFC 792) or ICMPv6 (RFC 4443) message's type and code, with the quoted packet of
/// error messages.
public struct ICMPHeader: Hashable, Sendable {
    public var type: UInt8
    public var code: UInt8
    /// Echo identifier (echo request/reply only).
    public var identifier: UInt16?
    public var quoted: QuotedPacket?
    public var isV6: Bool

    public init(type: UInt8, code: UInt8, isV6: Bool, identifier: UInt16? = nil, quoted: QuotedPacket? = nil)
    {
        self.type = type
        self.code = code
        self.isV6 = isV6
        self.identifier = identifier
        self.quoted = quoted
    }

    /// Destination unreachable, source quench, redirect, time exceeded, parameter problem
    /// (ICMPv4 3, 4, 5, 11, 12); ICMPv6 types below 128 (RFC 4443 §2.1).
    public var isError: Bool {
        if isV6 { return type < 128 }
        switch type {
        case 3, 4, 5, 11, 12: return true
        default: return false
        }
    }
}

/// What an NFLOG message says besides the packet (nfnetlink_log `NFULA_*` attributes).
public struct NFLOGInfo: Hashable, Sendable {
    /// nfgenmsg family: 2 (AF_INET), 10 (AF_INET6).
    public var family: UInt8
    /// The NFLOG group (`--nflog-group`), the header's resource id.
    public var group: UInt16
    /// NFULA_UID (type 11), the sending socket's owner.
    public var uid: UInt32?
    /// NFULA_GID (type 14).
    public var gid: UInt32?
    /// NFULA_MARK (type 2).
    public var mark: UInt32?
    /// NFULA_IFINDEX_INDEV / OUTDEV (types 4, 5).
    public var inInterface: UInt32?
    public var outInterface: UInt32?

    public init(family: UInt8, group: UInt16) {
        self.family = family
        self.group = group
    }
}

/// TLV types of an NFLOG message (linux/netfilter/nfnetlink_log.h `enum nfulnl_attr_type`).
public struct NFLOGAttribute: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let packetHeader = NFLOGAttribute(rawValue: 1)
    public static let mark = NFLOGAttribute(rawValue: 2)
    public static let timestamp = NFLOGAttribute(rawValue: 3)
    public static let inInterface = NFLOGAttribute(rawValue: 4)
    public static let outInterface = NFLOGAttribute(rawValue: 5)
    public static let payload = NFLOGAttribute(rawValue: 9)
    public static let prefix = NFLOGAttribute(rawValue: 10)
    public static let uid = NFLOGAttribute(rawValue: 11)
    public static let gid = NFLOGAttribute(rawValue: 14)
}
