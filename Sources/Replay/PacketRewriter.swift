import PacketCodec
import PacketModel

/// How one packet looks to the pod's socket: the destination NAT gave it (towards the socket),
/// or the source before un-NAT (from the socket).
public struct Translation: Hashable, Sendable {
    public var rewritesDestination: Bool
    public var address: IPAddress
    public var port: UInt16
}

/// Rewrites a frame's IP address and TCP/UDP port in place, with the IPv4 header checksum and
/// the transport checksum updated incrementally (RFC 1624), so tshark reads it as valid.
public enum PacketRewriter {
    /// Returns false (and leaves the bytes alone) when the packet is cut before the fields, is a
    /// later fragment, or the families differ.
    public static func apply(_ translation: Translation, to bytes: inout [UInt8], _ packet: DecodedPacket)
        -> Bool
    {
        guard let ip = packet.ip, packet.transport != nil, !packet.isLaterFragment,
            (ip.version == 4) == (translation.address.family == .ipv4)
        else { return false }
        let network = packet.networkOffset
        let transport = network + ip.headerLength
        let isTCP = ip.proto == .tcp
        let checksumAt = transport + (isTCP ? 16 : 6)
        guard bytes.count >= checksumAt + 2 else { return false }
        let addressAt =
            network
            + (ip.version == 4
                ? (translation.rewritesDestination ? 16 : 12) : (translation.rewritesDestination ? 24 : 8))
        let portAt = transport + (translation.rewritesDestination ? 2 : 0)
        let newAddress: [UInt8]
        switch translation.address {
        case .v4(let v4): newAddress = withUnsafeBytes(of: v4.value.bigEndian, Array.init)
        case .v6(let v6):
            newAddress =
                withUnsafeBytes(of: v6.high.bigEndian, Array.init)
                + withUnsafeBytes(of: v6.low.bigEndian, Array.init)
        }
        let newPort: [UInt8] = [UInt8(translation.port >> 8), UInt8(translation.port & 0xff)]
        var transportSum = UInt32(~word(bytes, checksumAt) & 0xffff)
        let udpWithoutChecksum = !isTCP && ip.version == 4 && word(bytes, checksumAt) == 0
        var headerSum = UInt32(~word(bytes, network + 10) & 0xffff)
        // Replace 16-bit words: subtract the old (add its complement), add the new.
        func replace(_ at: Int, _ new: [UInt8], _ sum: inout UInt32, alsoHeader: Bool) {
            var index = 0
            while index < new.count {
                let old = word(bytes, at + index)
                let value = UInt16(new[index]) << 8 | UInt16(new[index + 1])
                sum += UInt32(~old & 0xffff) + UInt32(value)
                if alsoHeader { headerSum += UInt32(~old & 0xffff) + UInt32(value) }
                bytes[at + index] = new[index]
                bytes[at + index + 1] = new[index + 1]
                index += 2
            }
        }
        replace(addressAt, newAddress, &transportSum, alsoHeader: ip.version == 4)
        replace(portAt, newPort, &transportSum, alsoHeader: false)
        if !udpWithoutChecksum { store(fold(transportSum), at: checksumAt, in: &bytes) }
        if ip.version == 4 { store(fold(headerSum), at: network + 10, in: &bytes) }
        return true
    }

    static func word(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }

    static func fold(_ sum: UInt32) -> UInt16 {
        var sum = sum
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func store(_ value: UInt16, at: Int, in bytes: inout [UInt8]) {
        bytes[at] = UInt8(value >> 8)
        bytes[at + 1] = UInt8(value & 0xff)
    }
}
