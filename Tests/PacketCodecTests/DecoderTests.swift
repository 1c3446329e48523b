import PacketCodec
import PacketModel
import Testing

let client = IPAddress.v4(IPv4Address(10, 44, 1, 7))
let pod = IPAddress.v4(IPv4Address(10, 44, 0, 2))
let client6 = IPAddress.v6(IPv6Address(high: 0xfd00_0044_0000_0000, low: 0x107))
let pod6 = IPAddress.v6(IPv6Address(high: 0xfd00_0044_0000_0000, low: 2))

func syn(
    _ source: IPAddress = client, _ destination: IPAddress = pod, sport: UInt16 = 40000, dport: UInt16 = 8080
)
    -> [UInt8]
{
    PacketEncoder.ip(
        source: source, destination: destination,
        transport: .tcp(sourcePort: sport, destinationPort: dport, flags: .syn, sequence: 7))
}

/// Every link type around the same datagram gives the same addresses, ports and flags.
@Suite struct LinkLayerTests {
    func expectTCP(_ packet: DecodedPacket, _ source: IPAddress = client, _ destination: IPAddress = pod) {
        #expect(packet.issue == nil, "\(packet.issue.map(String.init(describing:)) ?? "")")
        #expect(packet.ip?.source == source)
        #expect(packet.ip?.destination == destination)
        #expect(packet.ip?.proto == .tcp)
        #expect(packet.transport?.sourcePort == 40000)
        #expect(packet.transport?.destinationPort == 8080)
        #expect(packet.transport?.tcpFlags == .syn)
        #expect(packet.transport?.sequence == 7)
    }

    @Test func ethernet() {
        let packet = PacketDecoder.decode(PacketEncoder.ethernet(syn()), linkType: .ethernet)
        expectTCP(packet)
        #expect(packet.etherType == .ipv4)
        #expect(packet.networkOffset == 14)
        #expect(packet.payloadOffset == 14 + 20 + 20)
        #expect(packet.vlanID == nil)
    }

    @Test func ethernetWithVLANTag() {
        let packet = PacketDecoder.decode(PacketEncoder.ethernet(syn(), vlan: 42), linkType: .ethernet)
        expectTCP(packet)
        #expect(packet.vlanID == 42)
        #expect(packet.networkOffset == 18)
    }

    @Test func ethernetIPv6() {
        let packet = PacketDecoder.decode(PacketEncoder.ethernet(syn(client6, pod6)), linkType: .ethernet)
        expectTCP(packet, client6, pod6)
        #expect(packet.etherType == .ipv6)
    }

    @Test func linuxCookedV1() {
        let packet = PacketDecoder.decode(
            PacketEncoder.linuxSLL(syn(), packetType: .outgoing), linkType: .linuxSLL)
        expectTCP(packet)
        #expect(packet.sllPacketType == .outgoing)
        #expect(packet.networkOffset == 16)
    }

    @Test func linuxCookedV2CarriesTheInterfaceIndex() {
        let packet = PacketDecoder.decode(
            PacketEncoder.linuxSLL2(syn(client6, pod6), interfaceIndex: 2), linkType: .linuxSLL2)
        expectTCP(packet, client6, pod6)
        #expect(packet.interfaceIndex == 2)
        #expect(packet.networkOffset == 20)
    }

    @Test(arguments: [LinkType.raw, .rawDLT])
    func rawIPBothValues(_ linkType: LinkType) {
        expectTCP(PacketDecoder.decode(syn(), linkType: linkType))
        expectTCP(PacketDecoder.decode(syn(client6, pod6), linkType: linkType), client6, pod6)
    }

    @Test func ipv4AndIPv6LinkTypes() {
        expectTCP(PacketDecoder.decode(syn(), linkType: .ipv4))
        expectTCP(PacketDecoder.decode(syn(client6, pod6), linkType: .ipv6), client6, pod6)
    }

    @Test(arguments: [
        (UInt32(2), false), (UInt32(2), true), (UInt32(10), false), (UInt32(30), false), (UInt32(24), true),
    ])
    func nullInEitherByteOrder(_ family: UInt32, _ bigEndian: Bool) {
        let datagram = family == 2 ? syn() : syn(client6, pod6)
        let packet = PacketDecoder.decode(
            PacketEncoder.loopback(datagram, family: family, bigEndian: bigEndian), linkType: .null)
        expectTCP(packet, family == 2 ? client : client6, family == 2 ? pod : pod6)
    }

    @Test func loopIsNetworkOrder() {
        let packet = PacketDecoder.decode(
            PacketEncoder.loopback(syn(), family: 2, bigEndian: true), linkType: .loop)
        expectTCP(packet)
        let wrong = PacketDecoder.decode(
            PacketEncoder.loopback(syn(), family: 2, bigEndian: false), linkType: .loop)
        #expect(wrong.ip == nil)
        #expect(wrong.issue == .malformed(.link, .addressFamily(0x0200_0000)))
    }

    @Test func nflogCarriesOwnerAndPayload() {
        let packet = PacketDecoder.decode(
            PacketEncoder.nflog(syn(pod, client, sport: 40000, dport: 8080), uid: 1337, gid: 1338, group: 5),
            linkType: .nflog)
        expectTCP(packet, pod, client)
        #expect(packet.nflog?.uid == 1337)
        #expect(packet.nflog?.gid == 1338)
        #expect(packet.nflog?.group == 5)
        #expect(packet.nflog?.family == 2)
    }

    @Test func nflogIPv6WithoutOwner() {
        let packet = PacketDecoder.decode(
            PacketEncoder.nflog(syn(client6, pod6), uid: nil, gid: nil), linkType: .nflog)
        expectTCP(packet, client6, pod6)
        #expect(packet.nflog?.uid == nil)
        #expect(packet.nflog?.family == 10)
    }

    @Test func nflogWithABadTLVLength() {
        var bytes = PacketEncoder.nflog(syn(), uid: 1, gid: 1)
        bytes[4] = 2  // the first TLV claims 2 bytes, less than its own header
        bytes[5] = 0
        let packet = PacketDecoder.decode(bytes, linkType: .nflog)
        #expect(packet.ip == nil)
        #expect(packet.issue == .malformed(.link, .nflogTLVLength(2, at: 4)))
    }

    @Test func unsupportedLinkTypeIsReported() {
        let packet = PacketDecoder.decode(syn(), linkType: LinkType(rawValue: 147))
        #expect(packet.issue == .unsupportedLinkType(LinkType(rawValue: 147)))
        #expect(packet.ip == nil)
        #expect(!LinkType(rawValue: 147).isDecodable)
        #expect(LinkType.decodable.allSatisfy { $0.isDecodable })
    }

    @Test func nonIPEthernetHasNoNetworkLayer() {
        let arp: [UInt8] =
            [UInt8](repeating: 0xff, count: 12) + [0x08, 0x06] + [UInt8](repeating: 0, count: 28)
        let packet = PacketDecoder.decode(arp, linkType: .ethernet)
        #expect(packet.etherType == .arp)
        #expect(packet.ip == nil)
        #expect(packet.issue == nil)
    }
}
