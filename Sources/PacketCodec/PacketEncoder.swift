import PacketModel

/// Builds frames: the mirror of ``PacketDecoder`` (gopacket's "encode as its mirror"), for tests,
/// synthetic captures and rewritten packets. Checksums are computed (IPv4 header; TCP, UDP and
/// ICMPv6 with their pseudo-headers; ICMP).
public enum PacketEncoder {
    /// A transport header to put after the IP header.
    public enum Transport: Sendable {
        case tcp(sourcePort: UInt16, destinationPort: UInt16, flags: TCPFlags, sequence: UInt32 = 0)
        case udp(sourcePort: UInt16, destinationPort: UInt16)
        /// ICMP or ICMPv6 (by the IP version): type, code, the 4 "rest of header" bytes.
        case icmp(type: UInt8, code: UInt8, rest: UInt32 = 0)
        /// Raw bytes with this protocol number (extension headers, fragments, unknown protocols).
        case raw(proto: IPProtocol, bytes: [UInt8])
    }

    /// An IPv4 or IPv6 datagram. `fragment` sets IPv4's offset/MF; for IPv6 use
    /// ``ipv6Fragment(offset:more:identification:)`` as an extension header.
    public static func ip(
        source: IPAddress, destination: IPAddress, transport: Transport, payload: [UInt8] = [],
        hopLimit: UInt8 = 64, identification: UInt16 = 0, fragmentOffset: UInt16 = 0,
        moreFragments: Bool = false,
        ipv4Options: [UInt8] = [], ipv6ExtensionHeaders: [(type: UInt8, bytes: [UInt8])] = []
    ) -> [UInt8] {
        let (proto, upper) = transportBytes(transport, payload, source, destination)
        switch (source, destination) {
        case (.v4(let s), .v4(let d)):
            let options = ipv4Options + [UInt8](repeating: 0, count: (4 - ipv4Options.count % 4) % 4)
            let headerLength = 20 + options.count
            var header: [UInt8] = [0x40 | UInt8(headerLength / 4), 0]
            header += be16(UInt16(headerLength + upper.count))
            header += be16(identification)
            header += be16((moreFragments ? 0x2000 : 0) | (fragmentOffset / 8 & 0x1fff))
            header += [hopLimit, proto.rawValue, 0, 0]
            header += be32(s.value) + be32(d.value) + options
            let checksum = internetChecksum(header)
            header[10] = UInt8(checksum >> 8)
            header[11] = UInt8(checksum & 0xff)
            return header + upper
        case (.v6(let s), .v6(let d)):
            // Extension headers chain: IPv6 next header -> first extension -> … -> transport.
            var chain: [UInt8] = []
            for (index, extensionHeader) in ipv6ExtensionHeaders.enumerated() {
                var bytes = extensionHeader.bytes
                bytes[0] =
                    index + 1 < ipv6ExtensionHeaders.count
                    ? ipv6ExtensionHeaders[index + 1].type : proto.rawValue
                chain += bytes
            }
            let first = ipv6ExtensionHeaders.first?.type ?? proto.rawValue
            var header: [UInt8] = [0x60, 0, 0, 0]
            header += be16(UInt16(chain.count + upper.count))
            header += [first, hopLimit]
            header += be64(s.high) + be64(s.low) + be64(d.high) + be64(d.low)
            return header + chain + upper
        default:
            preconditionFailure("source and destination families differ")
        }
    }

    /// An IPv6 extension header with `length` bytes of options (hop-by-hop 0, routing 43,
    /// destination options 60), padded to a multiple of 8; its next-header byte is filled by ``ip``.
    public static func ipv6Options(_ type: UInt8, length: Int = 6) -> (type: UInt8, bytes: [UInt8]) {
        let total = (2 + length + 7) / 8 * 8
        var bytes = [UInt8](repeating: 0, count: total)
        bytes[1] = UInt8(total / 8 - 1)
        if type != 43 {
            // One PadN option filling the header (RFC 8200 §4.2); routing: type 0, 0 segments left.
            bytes[2] = 1
            bytes[3] = UInt8(total - 4)
        }
        return (type, bytes)
    }

    /// The IPv6 Fragment header (RFC 8200 §4.5).
    public static func ipv6Fragment(offset: UInt16, more: Bool, identification: UInt32) -> (
        type: UInt8, bytes: [UInt8]
    ) {
        (44, [0, 0] + be16(offset & 0xfff8 | (more ? 1 : 0)) + be32(identification))
    }

    /// Ethernet II (optionally with one 802.1Q tag) around an IP datagram.
    public static func ethernet(_ datagram: [UInt8], vlan: UInt16? = nil) -> [UInt8] {
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]
        if let vlan { frame += be16(EtherType.vlan.rawValue) + be16(vlan & 0x0fff) }
        return frame + be16(etherType(of: datagram).rawValue) + datagram
    }

    /// Linux cooked v1 (LINUX_SLL, 16 bytes).
    public static func linuxSLL(_ datagram: [UInt8], packetType: SLLPacketType = .host) -> [UInt8] {
        be16(UInt16(packetType.rawValue)) + be16(1) + be16(6) + [2, 0, 0, 0, 0, 1, 0, 0]
            + be16(etherType(of: datagram).rawValue) + datagram
    }

    /// Linux cooked v2 (LINUX_SLL2, 20 bytes) with an interface index.
    public static func linuxSLL2(
        _ datagram: [UInt8], interfaceIndex: UInt32, packetType: SLLPacketType = .host
    )
        -> [UInt8]
    {
        be16(etherType(of: datagram).rawValue) + [0, 0] + be32(interfaceIndex) + be16(1) + [
            packetType.rawValue, 6,
        ]
            + [2, 0, 0, 0, 0, 1, 0, 0] + datagram
    }

    /// BSD loopback: NULL (family in the given byte order) or LOOP (network order).
    public static func loopback(_ datagram: [UInt8], family: UInt32, bigEndian: Bool) -> [UInt8] {
        (bigEndian ? be32(family) : le32(family)) + datagram
    }

    /// An NFLOG message: nfgenmsg header, then UID (11), GID (14) and payload (9) TLVs with
    /// length/type in little-endian (this host's order) and values big-endian.
    public static func nflog(_ datagram: [UInt8], uid: UInt32?, gid: UInt32?, group: UInt16 = 1) -> [UInt8] {
        let family: UInt8 = datagram.first.map { $0 >> 4 == 6 ? 10 : 2 } ?? 2
        var bytes: [UInt8] = [family, 0] + be16(group)
        func tlv(_ type: UInt16, _ value: [UInt8]) {
            bytes += le16(UInt16(4 + value.count)) + le16(type) + value
            bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        }
        tlv(NFLOGAttribute.prefix.rawValue, Array("replay".utf8) + [0])
        if let uid { tlv(NFLOGAttribute.uid.rawValue, be32(uid)) }
        if let gid { tlv(NFLOGAttribute.gid.rawValue, be32(gid)) }
        tlv(NFLOGAttribute.payload.rawValue, datagram)
        return bytes
    }

    static func etherType(of datagram: [UInt8]) -> EtherType {
        datagram.first.map { $0 >> 4 == 6 ? EtherType.ipv6 : .ipv4 } ?? .ipv4
    }

    static func transportBytes(
        _ transport: Transport, _ payload: [UInt8], _ source: IPAddress, _ destination: IPAddress
    )
        -> (IPProtocol, [UInt8])
    {
        let isV6 = source.family == .ipv6
        switch transport {
        case .tcp(let sourcePort, let destinationPort, let flags, let sequence):
            var bytes = be16(sourcePort) + be16(destinationPort) + be32(sequence) + be32(0)
            bytes +=
                [0x50 | UInt8(flags.rawValue >> 8 & 1), UInt8(flags.rawValue & 0xff)] + be16(65535) + [
                    0, 0, 0, 0,
                ]
            bytes += payload
            let checksum = pseudoChecksum(bytes, .tcp, source, destination)
            bytes[16] = UInt8(checksum >> 8)
            bytes[17] = UInt8(checksum & 0xff)
            return (.tcp, bytes)
        case .udp(let sourcePort, let destinationPort):
            var bytes =
                be16(sourcePort) + be16(destinationPort) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
            let checksum = pseudoChecksum(bytes, .udp, source, destination)
            bytes[6] = UInt8(checksum >> 8)
            bytes[7] = UInt8(checksum & 0xff)
            return (.udp, bytes)
        case .icmp(let type, let code, let rest):
            var bytes = [type, code, 0, 0] + be32(rest) + payload
            let checksum =
                isV6 ? pseudoChecksum(bytes, .icmpv6, source, destination) : internetChecksum(bytes)
            bytes[2] = UInt8(checksum >> 8)
            bytes[3] = UInt8(checksum & 0xff)
            return (isV6 ? .icmpv6 : .icmp, bytes)
        case .raw(let proto, let bytes):
            return (proto, bytes + payload)
        }
    }

    /// RFC 1071.
    public static func internetChecksum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var index = 0
        while index + 1 < bytes.count {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index < bytes.count { sum += UInt32(bytes[index]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func pseudoChecksum(
        _ bytes: [UInt8], _ proto: IPProtocol, _ source: IPAddress, _ destination: IPAddress
    )
        -> UInt16
    {
        var pseudo: [UInt8]
        switch (source, destination) {
        case (.v4(let s), .v4(let d)):
            pseudo = be32(s.value) + be32(d.value) + [0, proto.rawValue] + be16(UInt16(bytes.count))
        case (.v6(let s), .v6(let d)):
            pseudo = be64(s.high) + be64(s.low) + be64(d.high) + be64(d.low) + be32(UInt32(bytes.count))
            pseudo += [0, 0, 0, proto.rawValue]
        default:
            pseudo = []
        }
        return internetChecksum(pseudo + bytes)
    }

    static func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }
    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
    static func be32(_ value: UInt32) -> [UInt8] { be16(UInt16(value >> 16)) + be16(UInt16(value & 0xffff)) }
    static func le32(_ value: UInt32) -> [UInt8] { le16(UInt16(value & 0xffff)) + le16(UInt16(value >> 16)) }
    static func be64(_ value: UInt64) -> [UInt8] {
        be32(UInt32(value >> 32)) + be32(UInt32(value & 0xffff_ffff))
    }
}
