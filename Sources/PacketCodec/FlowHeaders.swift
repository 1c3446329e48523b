import PacketModel

/// What a flow table reads from a packet: the 5-tuple as words, TCP flags and the SLL2
/// interface index. Filled by ``PacketDecoder/decodeFlowHeaders(_:linkType:into:)`` for the
/// packets that make up nearly every capture, without building a ``DecodedPacket``.
///
/// Addresses are two big-endian words: an IPv4 address is the low word (high 0), as a
/// ``PacketModel/IPv6Address`` stores its two halves.
public struct FlowHeaders: Sendable, Equatable {
    public var sourceHigh: UInt64 = 0
    public var sourceLow: UInt64 = 0
    public var destinationHigh: UInt64 = 0
    public var destinationLow: UInt64 = 0
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    /// Empty for UDP.
    public var tcpFlags: TCPFlags = []
    /// 6 (TCP) or 17 (UDP).
    public var proto: UInt8 = 0
    public var isV6 = false
    /// LINUX_SLL2's interface index, when `hasInterfaceIndex`.
    public var interfaceIndex: UInt32 = 0
    public var hasInterfaceIndex = false

    public init() {}
}

extension PacketDecoder {
    /// The fast path of ``decode(_:linkType:into:)`` for a flow table: a complete, unfragmented
    /// TCP or UDP packet over IPv4 (options allowed) or IPv6 without extension headers, framed by
    /// Ethernet without VLAN tags, LINUX_SLL, LINUX_SLL2 or RAW. Returns false for anything
    /// else (and for anything the full decoder would report an issue for); the caller then uses
    /// the full decoder, which handles every case. When it returns true, `headers` holds exactly
    /// what the full decoder would find (a test checks this on fuzzed input).
    @inline(__always)
    public static func decodeFlowHeaders(
        _ bytes: UnsafeRawBufferPointer, linkType: LinkType, into headers: inout FlowHeaders
    ) -> Bool {
        let data = Bytes(bytes)
        let start: Int
        let etherType: UInt16
        headers.hasInterfaceIndex = false
        switch linkType.rawValue {
        case LinkType.ethernet.rawValue:
            guard data.count >= 14 else { return false }
            etherType = data.u16(12)
            start = 14
        case LinkType.linuxSLL2.rawValue:
            guard data.count >= 20 else { return false }
            etherType = data.u16(0)
            headers.interfaceIndex = data.u32(4)
            headers.hasInterfaceIndex = true
            start = 20
        case LinkType.linuxSLL.rawValue:
            guard data.count >= 16 else { return false }
            etherType = data.u16(14)
            start = 16
        case LinkType.raw.rawValue, LinkType.rawDLT.rawValue:
            etherType = data[0] >> 4 == 6 ? 0x86DD : 0x0800
            start = 0
        default:
            return false
        }
        let version = data[start] >> 4
        var end = data.count
        let transportStart: Int
        if etherType == 0x0800 && version == 4 {
            // RFC 791 §3.1; the flags/offset word without DF (0x4000) must be 0: not a fragment.
            let headerLength = Int(data[start] & 0x0f) &* 4
            guard headerLength >= 20, data.count >= start &+ headerLength,
                data.u16(start &+ 6) & 0x3fff == 0
            else { return false }
            let totalLength = Int(data.u16(start &+ 2))
            if totalLength != 0 {
                guard totalLength >= headerLength else { return false }
                if start &+ totalLength < end { end = start &+ totalLength }
            }
            headers.proto = data[start &+ 9]
            headers.isV6 = false
            headers.sourceHigh = 0
            headers.sourceLow = UInt64(data.u32(start &+ 12))
            headers.destinationHigh = 0
            headers.destinationLow = UInt64(data.u32(start &+ 16))
            transportStart = start &+ headerLength
        } else if etherType == 0x86DD && version == 6 {
            // RFC 8200 §3; a Next Header other than TCP/UDP (extension headers) takes the full path.
            guard data.count >= start &+ 40 else { return false }
            let totalLength = 40 &+ Int(data.u16(start &+ 4))
            if start &+ totalLength < end { end = start &+ totalLength }
            headers.proto = data[start &+ 6]
            headers.isV6 = true
            headers.sourceHigh = data.u64(start &+ 8)
            headers.sourceLow = data.u64(start &+ 16)
            headers.destinationHigh = data.u64(start &+ 24)
            headers.destinationLow = data.u64(start &+ 32)
            transportStart = start &+ 40
        } else {
            return false
        }
        let available = end &- transportStart
        switch headers.proto {
        case 6:
            // The whole TCP header, options included, must have been captured.
            guard available >= 20 else { return false }
            let tcpLength = Int(data[transportStart &+ 12] >> 4) &* 4
            guard tcpLength >= 20, tcpLength <= available else { return false }
            headers.tcpFlags = TCPFlags(rawValue: data.u16(transportStart &+ 12) & 0x01ff)
        case 17:
            guard available >= 8 else { return false }
            headers.tcpFlags = []
        default:
            return false
        }
        headers.sourcePort = data.u16(transportStart)
        headers.destinationPort = data.u16(transportStart &+ 2)
        return true
    }
}
