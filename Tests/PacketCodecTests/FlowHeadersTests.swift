import PacketCodec
import PacketModel
import Testing

/// The flow fast path against the full decoder: it takes the common packets, and whenever it
/// takes one it reads exactly what the full decoder reads.
@Suite struct FlowHeadersTests {
    /// What `decodeFlowHeaders` should give for a packet, worked out from the full decoder; nil
    /// when the packet is not a plain TCP/UDP one.
    static func expected(_ bytes: [UInt8], _ linkType: LinkType) -> FlowHeaders? {
        let packet = PacketDecoder.decode(bytes, linkType: linkType)
        guard packet.issue == nil, let ip = packet.ip, ip.fragment == nil, let transport = packet.transport,
            ip.proto == .tcp || ip.proto == .udp
        else { return nil }
        var headers = FlowHeaders()
        switch (ip.source, ip.destination) {
        case (.v4(let source), .v4(let destination)):
            headers.sourceLow = UInt64(source.value)
            headers.destinationLow = UInt64(destination.value)
        case (.v6(let source), .v6(let destination)):
            (headers.sourceHigh, headers.sourceLow) = (source.high, source.low)
            (headers.destinationHigh, headers.destinationLow) = (destination.high, destination.low)
            headers.isV6 = true
        default: return nil
        }
        headers.sourcePort = transport.sourcePort
        headers.destinationPort = transport.destinationPort
        headers.tcpFlags = transport.tcpFlags
        headers.proto = ip.proto.rawValue
        if let index = packet.interfaceIndex {
            headers.interfaceIndex = index
            headers.hasInterfaceIndex = true
        }
        return headers
    }

    static func fast(_ bytes: [UInt8], _ linkType: LinkType) -> FlowHeaders? {
        var headers = FlowHeaders()
        let taken = bytes.withUnsafeBytes {
            PacketDecoder.decodeFlowHeaders($0, linkType: linkType, into: &headers)
        }
        return taken ? headers : nil
    }

    static let tcp4 = PacketEncoder.ip(
        source: client, destination: pod,
        transport: .tcp(sourcePort: 40000, destinationPort: 8080, flags: [.syn, .ack]), payload: [1, 2, 3])
    static let udp6 = PacketEncoder.ip(
        source: client6, destination: pod6, transport: .udp(sourcePort: 5353, destinationPort: 53),
        payload: [9])
    static let tcp4Options = PacketEncoder.ip(
        source: client, destination: pod, transport: .tcp(sourcePort: 1, destinationPort: 2, flags: .fin),
        ipv4Options: [1, 1, 1, 0])

    static let common: [(String, [UInt8], LinkType)] = [
        ("Ethernet IPv4 TCP", PacketEncoder.ethernet(tcp4), .ethernet),
        ("Ethernet IPv6 UDP", PacketEncoder.ethernet(udp6), .ethernet),
        ("IPv4 options", PacketEncoder.ethernet(tcp4Options), .ethernet),
        ("LINUX_SLL2", PacketEncoder.linuxSLL2(tcp4, interfaceIndex: 7), .linuxSLL2),
        ("LINUX_SLL", PacketEncoder.linuxSLL(udp6), .linuxSLL),
        ("RAW", tcp4, .raw),
        ("RAW (DLT 12)", udp6, .rawDLT),
    ]

    @Test func theCommonPacketsTakeTheFastPath() throws {
        for (name, bytes, linkType) in Self.common {
            let fast = try #require(Self.fast(bytes, linkType), "\(name) should take the fast path")
            #expect(fast == Self.expected(bytes, linkType), "\(name)")
        }
        #expect(
            Self.fast(PacketEncoder.linuxSLL2(Self.tcp4, interfaceIndex: 7), .linuxSLL2)?.interfaceIndex == 7)
    }

    @Test func everythingElseIsLeftToTheFullDecoder() {
        let others: [(String, [UInt8], LinkType)] = [
            ("VLAN tag", PacketEncoder.ethernet(Self.tcp4, vlan: 3), .ethernet),
            ("NFLOG (carries the owner)", PacketEncoder.nflog(Self.tcp4, uid: 1000, gid: 1000), .nflog),
            (
                "first fragment",
                PacketEncoder.ip(
                    source: client, destination: pod, transport: .udp(sourcePort: 1, destinationPort: 2),
                    payload: [UInt8](repeating: 0, count: 16), identification: 4, moreFragments: true),
                .raw
            ),
            (
                "IPv6 extension header",
                PacketEncoder.ip(
                    source: client6, destination: pod6, transport: .udp(sourcePort: 1, destinationPort: 2),
                    ipv6ExtensionHeaders: [PacketEncoder.ipv6Options(0)]),
                .raw
            ),
            (
                "ICMP",
                PacketEncoder.ip(source: client, destination: pod, transport: .icmp(type: 8, code: 0)),
                .raw
            ),
            (
                "TCP cut by the snaplen", Array(PacketEncoder.ethernet(Self.tcp4).prefix(14 + 20 + 12)),
                .ethernet
            ),
            (
                "IPv6 in an IPv4 EtherType",
                PacketEncoder.linuxSLL(Self.udp6).enumerated().map { $0 == 14 ? 0x08 : $0 == 15 ? 0 : $1 },
                .linuxSLL
            ),
        ]
        for (name, bytes, linkType) in others {
            #expect(Self.fast(bytes, linkType) == nil, "\(name)")
        }
    }

    /// Random mutations of the common packets (and random bytes): whenever the fast path takes a
    /// packet, the full decoder agrees with every field.
    @Test func agreesWithTheFullDecoderOnFuzzedInput() {
        var random = SeededGenerator(seed: 3)
        var taken = 0
        for _ in 0..<40_000 {
            let (_, seed, linkType) = Self.common[Int.random(in: 0..<Self.common.count, using: &random)]
            var bytes = seed
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where !bytes.isEmpty:
                    // Mostly the headers: flip bits in the first 80 bytes.
                    let at = Int.random(in: 0..<min(bytes.count, 80), using: &random)
                    bytes[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                case 1 where !bytes.isEmpty:
                    bytes.removeLast(Int.random(in: 0...min(bytes.count, 24), using: &random))
                case 2: bytes += [UInt8](repeating: 0xab, count: Int.random(in: 1...8, using: &random))
                default:
                    if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &random)] = 0xff }
                }
            }
            let fast = Self.fast(bytes, linkType)
            if let fast {
                taken += 1
                #expect(fast == Self.expected(bytes, linkType), "\(bytes) as \(linkType)")
            }
        }
        // Most mutations keep a valid packet (payload bytes, flags): the comparison ran.
        #expect(taken > 5_000)
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...80, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            for linkType in LinkType.decodable {
                if let fast = Self.fast(bytes, linkType) { #expect(fast == Self.expected(bytes, linkType)) }
            }
        }
    }
}
