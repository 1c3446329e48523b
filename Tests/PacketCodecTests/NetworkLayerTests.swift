import PacketCodec
import PacketModel
import Testing

/// IPv4 options and fragments, IPv6 extension headers and fragments, UDP, ICMP errors.
@Suite struct NetworkLayerTests {
    @Test func ipv4OptionsAreSkipped() {
        let datagram = PacketEncoder.ip(
            source: client, destination: pod,
            transport: .tcp(sourcePort: 40000, destinationPort: 8080, flags: [.syn, .ack]),
            ipv4Options: [0x94, 0x04, 0, 0, 1, 1, 1, 0])  // router alert + NOPs
        let packet = PacketDecoder.decode(datagram, linkType: .raw)
        #expect(packet.ip?.headerLength == 28)
        #expect(packet.transport?.destinationPort == 8080)
        #expect(packet.transport?.tcpFlags == [.syn, .ack])
        #expect(packet.issue == nil)
    }

    @Test func ipv4FirstFragmentHasPortsLaterOnesDoNot() {
        let first = PacketDecoder.decode(
            PacketEncoder.ip(
                source: client, destination: pod, transport: .udp(sourcePort: 5353, destinationPort: 53),
                payload: [UInt8](repeating: 1, count: 64), identification: 77, moreFragments: true),
            linkType: .raw)
        #expect(first.ip?.fragment == Fragment(offset: 0, moreFragments: true, identification: 77))
        #expect(first.transport?.destinationPort == 53)
        #expect(!first.isLaterFragment)

        let later = PacketDecoder.decode(
            PacketEncoder.ip(
                source: client, destination: pod,
                transport: .raw(proto: .udp, bytes: [UInt8](repeating: 1, count: 16)),
                identification: 77, fragmentOffset: 72),
            linkType: .raw)
        #expect(later.ip?.fragment == Fragment(offset: 72, moreFragments: false, identification: 77))
        #expect(later.ip?.proto == .udp)
        #expect(later.transport == nil)
        #expect(later.isLaterFragment)
        #expect(later.issue == nil)
    }

    @Test func ipv6ExtensionHeadersAreWalked() {
        let datagram = PacketEncoder.ip(
            source: client6, destination: pod6,
            transport: .tcp(sourcePort: 40000, destinationPort: 8080, flags: .syn),
            ipv6ExtensionHeaders: [
                PacketEncoder.ipv6Options(0), PacketEncoder.ipv6Options(43, length: 22),
                PacketEncoder.ipv6Options(60, length: 14),
                PacketEncoder.ipv6Fragment(offset: 0, more: true, identification: 0xdead_beef),
            ])
        let packet = PacketDecoder.decode(datagram, linkType: .raw)
        #expect(packet.issue == nil)
        #expect(packet.ip?.proto == .tcp)
        #expect(packet.ip?.extensionHeaderCount == 4)
        #expect(packet.ip?.headerLength == 40 + 8 + 24 + 16 + 8)
        #expect(packet.ip?.fragment == Fragment(offset: 0, moreFragments: true, identification: 0xdead_beef))
        #expect(packet.transport?.sourcePort == 40000)
        #expect(packet.transport?.destinationPort == 8080)
    }

    @Test func ipv6LaterFragmentHasNoPorts() {
        let datagram = PacketEncoder.ip(
            source: client6, destination: pod6,
            transport: .raw(proto: .udp, bytes: [UInt8](repeating: 0, count: 24)),
            ipv6ExtensionHeaders: [PacketEncoder.ipv6Fragment(offset: 1232, more: false, identification: 9)])
        let packet = PacketDecoder.decode(datagram, linkType: .raw)
        #expect(packet.ip?.proto == .udp)
        #expect(packet.ip?.fragment == Fragment(offset: 1232, moreFragments: false, identification: 9))
        #expect(packet.transport == nil)
        #expect(packet.isLaterFragment)
    }

    @Test func udpPorts() {
        let packet = PacketDecoder.decode(
            PacketEncoder.ip(
                source: pod, destination: .v4(IPv4Address(10, 96, 0, 10)),
                transport: .udp(sourcePort: 33333, destinationPort: 53), payload: [1, 2, 3]),
            linkType: .raw)
        #expect(packet.ip?.proto == .udp)
        #expect(packet.transport == TransportHeader(sourcePort: 33333, destinationPort: 53))
        #expect(packet.payloadOffset == 28)
    }

    @Test func icmpErrorQuotesTheOriginalTCPPacket() {
        // The pod's SYN to 93.184.216.34:80 came back as port unreachable from a router.
        let remote = IPAddress.v4(IPv4Address(93, 184, 216, 34))
        let original = syn(pod, remote, sport: 40001, dport: 80)
        let error = PacketEncoder.ip(
            source: .v4(IPv4Address(10, 44, 0, 1)), destination: pod, transport: .icmp(type: 3, code: 3),
            payload: Array(original.prefix(28)))
        let packet = PacketDecoder.decode(error, linkType: .raw)
        #expect(packet.issue == nil)
        #expect(packet.icmp?.type == 3)
        #expect(packet.icmp?.isError == true)
        #expect(
            packet.icmp?.quoted
                == QuotedPacket(
                    source: pod, destination: remote, proto: .tcp, sourcePort: 40001, destinationPort: 80))
    }

    @Test func icmpv6ErrorQuotesTheOriginalUDPPacket() {
        let original = PacketEncoder.ip(
            source: pod6, destination: client6, transport: .udp(sourcePort: 5000, destinationPort: 6000),
            payload: [9, 9])
        let error = PacketEncoder.ip(
            source: client6, destination: pod6, transport: .icmp(type: 1, code: 4), payload: original)
        let packet = PacketDecoder.decode(error, linkType: .raw)
        #expect(packet.icmp?.isV6 == true)
        #expect(packet.icmp?.isError == true)
        #expect(packet.icmp?.quoted?.destinationPort == 6000)
        #expect(packet.icmp?.quoted?.source == pod6)
    }

    @Test func icmpErrorWithAShortQuoteKeepsTheAddresses() {
        let original = syn(pod, client)
        let error = PacketEncoder.ip(
            source: client, destination: pod, transport: .icmp(type: 11, code: 0),
            payload: Array(original.prefix(22)))
        let packet = PacketDecoder.decode(error, linkType: .raw)
        #expect(packet.icmp?.quoted?.source == pod)
        #expect(packet.icmp?.quoted?.sourcePort == nil)
    }

    @Test func echoHasAnIdentifierAndIsNoError() {
        let echo = PacketEncoder.ip(
            source: pod, destination: client, transport: .icmp(type: 8, code: 0, rest: 0x1234_0001))
        let packet = PacketDecoder.decode(echo, linkType: .raw)
        #expect(packet.icmp?.identifier == 0x1234)
        #expect(packet.icmp?.isError == false)
        let echo6 = PacketEncoder.ip(
            source: pod6, destination: client6, transport: .icmp(type: 128, code: 0, rest: 0x0042_0001))
        #expect(PacketDecoder.decode(echo6, linkType: .raw).icmp?.identifier == 0x42)
    }

    @Test func packetHeaderForTheNetfilterModel() {
        let header = PacketDecoder.decode(syn(), linkType: .raw).packetHeader
        #expect(
            header
                == PacketHeader(
                    proto: .tcp, source: client, sourcePort: 40000, destination: pod, destinationPort: 8080,
                    tcpFlags: ["SYN"]))
    }

    @Test func checksumsAreValid() {
        let datagram = syn()
        #expect(PacketEncoder.internetChecksum(Array(datagram.prefix(20))) == 0)
    }
}

/// Truncation is data: every prefix of a frame decodes, and says which layer was cut.
@Suite struct TruncationTests {
    @Test func everyPrefixOfAnEthernetFrame() {
        let frame = PacketEncoder.ethernet(syn(), vlan: 7)
        for length in 0...frame.count {
            let packet = PacketDecoder.decode(Array(frame.prefix(length)), linkType: .ethernet)
            if length < frame.count {
                #expect(packet.isTruncated, "length \(length)")
            } else {
                #expect(packet.issue == nil)
            }
            if length >= 18 + 20 { #expect(packet.ip?.destination == pod, "length \(length)") }
            if length >= 18 + 20 + 4 {
                #expect(packet.transport?.destinationPort == 8080, "length \(length)")
            }
        }
    }

    @Test func truncatedLayersAreNamed() {
        let frame = PacketEncoder.ethernet(syn())
        #expect(
            PacketDecoder.decode(Array(frame.prefix(10)), linkType: .ethernet).issue
                == .truncated(.link, needed: 14, available: 10))
        #expect(
            PacketDecoder.decode(Array(frame.prefix(30)), linkType: .ethernet).issue
                == .truncated(.network, needed: 34, available: 30))
        let cut = PacketDecoder.decode(Array(frame.prefix(40)), linkType: .ethernet)
        #expect(cut.issue == .truncated(.transport, needed: 54, available: 40))
        #expect(cut.transport?.sourcePort == 40000)
    }

    @Test func everyPrefixOfAnIPv6FrameWithExtensionHeaders() {
        let datagram = PacketEncoder.ip(
            source: client6, destination: pod6, transport: .udp(sourcePort: 1, destinationPort: 2),
            ipv6ExtensionHeaders: [PacketEncoder.ipv6Options(0), PacketEncoder.ipv6Options(60, length: 30)])
        for length in 0..<datagram.count {
            let packet = PacketDecoder.decode(Array(datagram.prefix(length)), linkType: .raw)
            #expect(packet.isTruncated, "length \(length)")
        }
    }

    @Test func malformedHeaders() {
        var datagram = syn()
        datagram[0] = 0x43  // IHL 3
        #expect(
            PacketDecoder.decode(datagram, linkType: .ipv4).issue
                == .malformed(.network, .ipv4HeaderLength(3)))
        datagram[0] = 0x55  // version 5
        #expect(PacketDecoder.decode(datagram, linkType: .ipv4).issue == .malformed(.network, .ipVersion(5)))
        var tcp = syn()
        tcp[20 + 12] = 0x20  // data offset 2
        let packet = PacketDecoder.decode(tcp, linkType: .ipv4)
        #expect(packet.issue == .malformed(.transport, .tcpDataOffset(2)))
        #expect(packet.transport?.destinationPort == 8080)
    }

    @Test func snapLengthCutsOnlyThePayload() {
        let datagram = PacketEncoder.ip(
            source: client, destination: pod, transport: .tcp(sourcePort: 1, destinationPort: 2, flags: .ack),
            payload: [UInt8](repeating: 0, count: 1000))
        let packet = PacketDecoder.decode(Array(datagram.prefix(96)), linkType: .raw)
        #expect(packet.issue == nil)
        #expect(packet.ip?.totalLength == 1040)
        #expect(packet.transport?.destinationPort == 2)
    }
}
