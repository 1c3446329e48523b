import PacketCodec
import PacketModel
import Testing

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// Random and mutated bytes into the decoder, for every link type: it must never trap.
@Suite struct FuzzTests {
    static let seeds: [[UInt8]] = [
        PacketEncoder.ethernet(syn(), vlan: 3),
        PacketEncoder.ethernet(
            PacketEncoder.ip(
                source: client6, destination: pod6, transport: .udp(sourcePort: 1, destinationPort: 2),
                ipv6ExtensionHeaders: [
                    PacketEncoder.ipv6Options(0),
                    PacketEncoder.ipv6Fragment(offset: 0, more: true, identification: 1),
                ])),
        PacketEncoder.linuxSLL2(
            PacketEncoder.ip(
                source: client, destination: pod, transport: .icmp(type: 3, code: 1),
                payload: syn(pod, client)),
            interfaceIndex: 1),
        PacketEncoder.nflog(syn(), uid: 1000, gid: 1000),
        PacketEncoder.ip(
            source: client6, destination: pod6, transport: .icmp(type: 2, code: 0),
            payload: syn(pod6, client6)),
    ]

    @Test func randomBytes() {
        var random = SeededGenerator(seed: 1)
        for _ in 0..<20000 {
            let length = Int.random(in: 0...96, using: &random)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            for linkType in LinkType.decodable {
                _ = PacketDecoder.decode(bytes, linkType: linkType)
            }
        }
    }

    @Test func mutatedFrames() {
        var random = SeededGenerator(seed: 2)
        let linkTypes: [LinkType] = [.ethernet, .ethernet, .linuxSLL2, .nflog, .raw]
        for _ in 0..<4000 {
            let index = Int.random(in: 0..<Self.seeds.count, using: &random)
            var bytes = Self.seeds[index]
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where !bytes.isEmpty:
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(
                        in: 1...255, using: &random)
                case 1 where !bytes.isEmpty: bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
                case 2:
                    bytes.insert(
                        UInt8.random(in: 0...255, using: &random),
                        at: Int.random(in: 0...bytes.count, using: &random))
                default: bytes += [0xff, 0xff, 0, 0]
                }
            }
            let packet = PacketDecoder.decode(bytes, linkType: linkTypes[index])
            // Whatever was decoded lies within the bytes.
            #expect(packet.payloadOffset <= max(bytes.count, packet.networkOffset))
        }
    }
}
