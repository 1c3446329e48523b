import PacketModel

/// Decodes a captured frame's headers in place: link layer, IP (options, extension headers,
/// fragments), TCP/UDP ports and flags, ICMP/ICMPv6 with the datagram its errors quote.
///
/// Never traps on any input: every read is bounds-checked against the captured length, and what
/// cannot be read is reported in ``DecodedPacket/issue``.
public enum PacketDecoder {
    /// IPv6 extension headers walked before giving up (a packet could chain them endlessly).
    public static let maxExtensionHeaders = 16

    public static func decode(_ bytes: [UInt8], linkType: LinkType) -> DecodedPacket {
        bytes.withUnsafeBytes { decode($0, linkType: linkType) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, linkType: LinkType) -> DecodedPacket {
        var packet = DecodedPacket(linkType: linkType)
        decode(bytes, linkType: linkType, into: &packet)
        return packet
    }

    /// Decodes into `packet`, overwriting it: a caller reading many packets keeps one value and
    /// avoids copying it per packet.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, linkType: LinkType, into packet: inout DecodedPacket
    ) {
        packet.reset(linkType: linkType)
        let data = Bytes(bytes)
        var offset = 0
        var etherType: EtherType
        switch linkType.rawValue {
        case LinkType.ethernet.rawValue:
            // IEEE 802.3: destination(6) source(6) type(2); 802.1Q/802.1ad tags: TPID(2) TCI(2).
            guard data.count >= 14 else { return packet.setTruncated(.link, 14, data.count) }
            var type = data.u16(12)
            offset = 14
            var tags = 0
            while type == EtherType.vlan.rawValue || type == EtherType.qinq.rawValue || type == 0x9100 {
                guard tags < 4 else { return packet.setMalformed(.link, .tooManyVLANTags) }
                guard data.count >= offset + 4 else {
                    return packet.setTruncated(.link, offset + 4, data.count)
                }
                if packet.vlanID == nil { packet.vlanID = data.u16(offset) & 0x0fff }
                type = data.u16(offset + 2)
                offset += 4
                tags += 1
            }
            etherType = EtherType(rawValue: type)
        case LinkType.linuxSLL.rawValue:
            // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2).
            guard data.count >= 16 else { return packet.setTruncated(.link, 16, data.count) }
            packet.sllPacketType = SLLPacketType(rawValue: UInt8(truncatingIfNeeded: data.u16(0)))
            etherType = EtherType(rawValue: data.u16(14))
            offset = 16
        case LinkType.linuxSLL2.rawValue:
            // protocol(2) reserved(2) interface index(4) ARPHRD(2) packet type(1) address length(1)
            // address(8).
            guard data.count >= 20 else { return packet.setTruncated(.link, 20, data.count) }
            etherType = EtherType(rawValue: data.u16(0))
            packet.interfaceIndex = data.u32(4)
            packet.sllPacketType = SLLPacketType(rawValue: data[10])
            offset = 20
        case LinkType.raw.rawValue, LinkType.rawDLT.rawValue:
            guard data.count >= 1 else { return packet.setTruncated(.network, 1, 0) }
            switch data[0] >> 4 {
            case 4: etherType = .ipv4
            case 6: etherType = .ipv6
            default: return packet.setMalformed(.network, .ipVersion(data[0] >> 4))
            }
        case LinkType.ipv4.rawValue:
            etherType = .ipv4
        case LinkType.ipv6.rawValue:
            etherType = .ipv6
        case LinkType.null.rawValue, LinkType.loop.rawValue:
            // A 4-byte address family: NULL in the writer's byte order, LOOP in network order.
            guard data.count >= 4 else { return packet.setTruncated(.link, 4, data.count) }
            var family = data.u32(0)
            if linkType == .null && family > 0xffff { family = family.byteSwapped }
            switch family {
            case 2: etherType = .ipv4
            // AF_INET6 differs per system: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30.
            case 10, 24, 28, 30: etherType = .ipv6
            default: return packet.setMalformed(.link, .addressFamily(family))
            }
            offset = 4
        case LinkType.nflog.rawValue:
            guard let (start, type) = decodeNFLOG(data, &packet) else { return }
            offset = start
            etherType = type
        default:
            packet.issue = .unsupportedLinkType(linkType)
            return
        }
        packet.etherType = etherType
        packet.networkOffset = offset
        packet.payloadOffset = offset
        if etherType.rawValue == 0x0800 || etherType.rawValue == 0x86DD {
            decodeIP(data, at: offset, into: &packet)
        }
    }

    /// nfgenmsg (family(1) version(1) resource id(2, big-endian)), then TLVs: length(2) type(2)
    /// in the byte order of the host reading the file (libpcap swaps them), value padded to 4
    /// bytes; attribute values are big-endian (netlink). Returns where the payload (TLV 9) starts.
    static func decodeNFLOG(_ data: Bytes, _ packet: inout DecodedPacket) -> (Int, EtherType)? {
        guard data.count >= 4 else {
            packet.setTruncated(.link, 4, data.count)
            return nil
        }
        var info = NFLOGInfo(family: data[0], group: data.u16(2))
        var offset = 4
        var payload: (Int, Int)?
        tlvs: while offset + 4 <= data.count {
            let length = Int(data.u16le(offset))
            let type = data.u16le(offset + 2) & 0x7fff
            guard length >= 4 else {
                packet.nflog = info
                packet.setMalformed(.link, .nflogTLVLength(UInt16(length), at: offset))
                return nil
            }
            let value = offset + 4
            let valueLength = length - 4
            if value + valueLength > data.count {
                packet.nflog = info
                if type == NFLOGAttribute.payload.rawValue {
                    payload = (value, data.count - value)
                    break tlvs
                }
                packet.setTruncated(.link, value + valueLength, data.count)
                return nil
            }
            switch NFLOGAttribute(rawValue: type) {
            case .payload: payload = (value, valueLength)
            case .uid where valueLength >= 4: info.uid = data.u32(value)
            case .gid where valueLength >= 4: info.gid = data.u32(value)
            case .mark where valueLength >= 4: info.mark = data.u32(value)
            case .inInterface where valueLength >= 4: info.inInterface = data.u32(value)
            case .outInterface where valueLength >= 4: info.outInterface = data.u32(value)
            default: break
            }
            offset += (length + 3) & ~3
        }
        packet.nflog = info
        guard let (start, _) = payload else { return nil }
        // The payload is the IP datagram; its family is the header's (AF_INET 2, AF_INET6 10).
        switch info.family {
        case 2: return (start, .ipv4)
        case 10: return (start, .ipv6)
        default:
            guard start < data.count else { return (start, .ipv4) }
            return (start, data[start] >> 4 == 6 ? .ipv6 : .ipv4)
        }
    }

    static func decodeIP(_ data: Bytes, at start: Int, into packet: inout DecodedPacket) {
        packet.ip = IPHeader(
            version: 0, source: .v4(IPv4Address(0)), destination: .v4(IPv4Address(0)),
            proto: IPProtocol(rawValue: 0),
            hopLimit: 0, headerLength: 0, totalLength: 0)
        let issue = parseIP(data, at: start, quoted: false, into: &packet.ip!)
        if let issue {
            packet.issue = issue
            if packet.ip!.version == 0 { packet.ip = nil }
            return
        }
        let headerLength = packet.ip!.headerLength
        let totalLength = packet.ip!.totalLength
        let proto = packet.ip!.proto.rawValue
        let transportStart = start + headerLength
        packet.payloadOffset = transportStart
        if let fragment = packet.ip!.fragment, fragment.offset != 0 { return }
        // The datagram's end: the header's length, bounded by what was captured (a zero IPv4
        // total length, as TSO captures show, means "up to the end").
        var end = data.count
        if totalLength >= headerLength && start + totalLength < end { end = start + totalLength }
        let available = end - transportStart
        switch proto {
        case 6:
            // TCP: source port(2) destination port(2) sequence(4) ack(4) data offset/flags(2) …
            guard available >= 4 else {
                packet.setTruncated(.transport, transportStart + 20, end)
                return
            }
            packet.transport = TransportHeader(
                sourcePort: data.u16(transportStart), destinationPort: data.u16(transportStart + 2))
            guard available >= 20 else {
                packet.setTruncated(.transport, transportStart + 20, end)
                return
            }
            packet.transport!.sequence = data.u32(transportStart + 4)
            packet.transport!.tcpFlags = TCPFlags(rawValue: data.u16(transportStart + 12) & 0x01ff)
            let tcpLength = Int(data[transportStart + 12] >> 4) * 4
            if tcpLength < 20 {
                packet.setMalformed(.transport, .tcpDataOffset(UInt8(tcpLength / 4)))
            } else if transportStart + tcpLength > end {
                packet.setTruncated(.transport, transportStart + tcpLength, end)
            } else {
                packet.payloadOffset = transportStart + tcpLength
            }
        case 17, 132, 136:
            // UDP (RFC 768), SCTP (RFC 9260), UDP-Lite (RFC 3828): ports in the first 4 bytes.
            let length = proto == 132 ? 12 : 8
            guard available >= 4 else {
                packet.setTruncated(.transport, transportStart + length, end)
                return
            }
            packet.transport = TransportHeader(
                sourcePort: data.u16(transportStart), destinationPort: data.u16(transportStart + 2))
            if available < length {
                packet.setTruncated(.transport, transportStart + length, end)
            } else {
                packet.payloadOffset = transportStart + length
            }
        case 1, 58:
            decodeICMP(data, at: transportStart, end: end, isV6: proto == 58, into: &packet)
        default:
            break
        }
    }

    /// ICMP (RFC 792) / ICMPv6 (RFC 4443): type(1) code(1) checksum(2) rest(4), then for errors
    /// the quoted datagram.
    static func decodeICMP(
        _ data: Bytes, at start: Int, end: Int, isV6: Bool, into packet: inout DecodedPacket
    ) {
        guard end - start >= 4 else {
            packet.setTruncated(.transport, start + 8, end)
            return
        }
        var icmp = ICMPHeader(type: data[start], code: data[start + 1], isV6: isV6)
        guard end - start >= 8 else {
            packet.icmp = icmp
            packet.setTruncated(.transport, start + 8, end)
            return
        }
        packet.payloadOffset = start + 8
        let isEcho = isV6 ? (icmp.type == 128 || icmp.type == 129) : (icmp.type == 0 || icmp.type == 8)
        if isEcho { icmp.identifier = data.u16(start + 4) }
        if icmp.isError {
            // The quote starts after type, code, checksum and 4 bytes (unused / MTU / pointer).
            let quoteStart = start + 8
            var inner = IPHeader.empty
            let issue = parseIP(data.prefix(end), at: quoteStart, quoted: true, into: &inner)
            if inner.version != 0 {
                var quoted = QuotedPacket(
                    source: inner.source, destination: inner.destination, proto: inner.proto)
                let portsAt = quoteStart + inner.headerLength
                if inner.fragment.map({ $0.isFirst }) ?? true, portsAt + 4 <= end, hasPorts(inner.proto) {
                    quoted.sourcePort = data.u16(portsAt)
                    quoted.destinationPort = data.u16(portsAt + 2)
                }
                icmp.quoted = quoted
            } else if let issue {
                packet.issue = issue
            }
        }
        packet.icmp = icmp
    }

    @inline(__always) static func hasPorts(_ proto: IPProtocol) -> Bool {
        let value = proto.rawValue
        return value == 6 || value == 17 || value == 132 || value == 136
    }

    /// One IP header, IPv4 options and IPv6 extension headers included, written into `header`
    /// (its version stays 0 when not even the addresses could be read). `quoted`: inside an ICMP
    /// error, where the length fields describe the original datagram, not what is quoted.
    static func parseIP(_ data: Bytes, at start: Int, quoted: Bool, into header: inout IPHeader)
        -> DecodeIssue?
    {
        let layer: PacketLayer = quoted ? .icmpQuote : .network
        guard data.count > start else {
            return .truncated(layer, needed: start + 20, available: data.count)
        }
        let version = data[start] >> 4
        if version == 4 {
            // RFC 791 §3.1: version/IHL(1) TOS(1) total length(2) id(2) flags/offset(2) TTL(1)
            // protocol(1) checksum(2) source(4) destination(4) options.
            guard data.count >= start + 20 else {
                return .truncated(layer, needed: start + 20, available: data.count)
            }
            let headerLength = Int(data[start] & 0x0f) * 4
            guard headerLength >= 20 else {
                return .malformed(layer, .ipv4HeaderLength(UInt8(headerLength / 4)))
            }
            let flagsOffset = data.u16(start + 6)
            let fragmentOffset = (flagsOffset & 0x1fff) << 3
            let more = flagsOffset & 0x2000 != 0
            header.version = 4
            header.source = .v4(IPv4Address(data.u32(start + 12)))
            header.destination = .v4(IPv4Address(data.u32(start + 16)))
            header.proto = IPProtocol(rawValue: data[start + 9])
            header.hopLimit = data[start + 8]
            header.headerLength = headerLength
            header.totalLength = Int(data.u16(start + 2))
            if more || fragmentOffset != 0 {
                header.fragment = Fragment(
                    offset: fragmentOffset, moreFragments: more, identification: UInt32(data.u16(start + 4)))
            }
            guard data.count >= start + headerLength else {
                return .truncated(layer, needed: start + headerLength, available: data.count)
            }
            if !quoted && header.totalLength != 0 && header.totalLength < headerLength {
                return .malformed(layer, .ipv4TotalLength(UInt16(header.totalLength)))
            }
            return nil
        }
        guard version == 6 else { return .malformed(layer, .ipVersion(version)) }
        // RFC 8200 §3: version/class/label(4) payload length(2) next header(1) hop limit(1)
        // source(16) destination(16).
        guard data.count >= start + 40 else {
            return .truncated(layer, needed: start + 40, available: data.count)
        }
        header.version = 6
        header.source = .v6(IPv6Address(high: data.u64(start + 8), low: data.u64(start + 16)))
        header.destination = .v6(IPv6Address(high: data.u64(start + 24), low: data.u64(start + 32)))
        header.proto = IPProtocol(rawValue: data[start + 6])
        header.hopLimit = data[start + 7]
        header.headerLength = 40
        header.totalLength = 40 + Int(data.u16(start + 4))
        var offset = start + 40
        var walked = 0
        extensions: while true {
            let next = header.proto.rawValue
            switch next {
            case 0, 43, 60, 135, 139, 140, 51:
                // Hop-by-hop (0), routing (43), destination options (60), mobility (135), HIP
                // (139), shim6 (140): next header(1), length in 8-byte units not counting the
                // first 8 (RFC 8200 §4.3–4.6). AH (51): length in 4-byte units minus 2 (RFC 4302).
                guard data.count >= offset + 2 else {
                    return .truncated(layer, needed: offset + 2, available: data.count)
                }
                let length = next == 51 ? (Int(data[offset + 1]) + 2) * 4 : (Int(data[offset + 1]) + 1) * 8
                guard data.count >= offset + length else {
                    return .truncated(layer, needed: offset + length, available: data.count)
                }
                header.proto = IPProtocol(rawValue: data[offset])
                offset += length
            case 44:
                // Fragment (RFC 8200 §4.5): next header(1) reserved(1) offset/res/M(2) id(4).
                guard data.count >= offset + 8 else {
                    return .truncated(layer, needed: offset + 8, available: data.count)
                }
                let field = data.u16(offset + 2)
                header.fragment = Fragment(
                    offset: field & 0xfff8, moreFragments: field & 1 != 0,
                    identification: data.u32(offset + 4))
                header.proto = IPProtocol(rawValue: data[offset])
                offset += 8
                if field & 0xfff8 != 0 { break extensions }
            default:
                break extensions
            }
            walked += 1
            header.extensionHeaderCount = UInt8(walked)
            header.headerLength = offset - start
            if walked >= maxExtensionHeaders { return .malformed(layer, .tooManyExtensionHeaders) }
        }
        header.headerLength = offset - start
        return nil
    }
}

extension DecodedPacket {
    fileprivate mutating func setTruncated(_ layer: PacketLayer, _ needed: Int, _ available: Int) {
        issue = .truncated(layer, needed: needed, available: available)
    }

    fileprivate mutating func setMalformed(_ layer: PacketLayer, _ why: Malformation) {
        issue = .malformed(layer, why)
    }
}

/// Bounds-checked big-endian reads from a captured buffer. Callers check `count` first; the
/// reads themselves never go past `count` (they return 0 instead of trapping).
struct Bytes {
    let base: UnsafeRawPointer?
    let count: Int

    init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress
        count = buffer.count
    }

    init(base: UnsafeRawPointer?, count: Int) {
        self.base = base
        self.count = count
    }

    /// The first `length` bytes (the datagram without the link layer's trailer).
    func prefix(_ length: Int) -> Bytes { Bytes(base: base, count: Swift.min(count, Swift.max(0, length))) }

    @inline(__always) subscript(_ offset: Int) -> UInt8 {
        guard let base, offset >= 0, offset < count else { return 0 }
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always) func u16(_ offset: Int) -> UInt16 {
        guard let base, offset >= 0, offset + 2 <= count else { return 0 }
        return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always) func u16le(_ offset: Int) -> UInt16 {
        guard let base, offset >= 0, offset + 2 <= count else { return 0 }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always) func u32(_ offset: Int) -> UInt32 {
        guard let base, offset >= 0, offset + 4 <= count else { return 0 }
        return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always) func u64(_ offset: Int) -> UInt64 {
        guard let base, offset >= 0, offset + 8 <= count else { return 0 }
        return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
