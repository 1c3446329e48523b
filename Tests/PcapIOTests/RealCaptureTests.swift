import Foundation
import PacketCodec
import PacketModel
import PcapIO
import Testing

/// The captures `tools/make-captures` recorded in network namespaces (Captures/README.md):
/// real tcpdump output for EN10MB, LINUX_SLL2 and NFLOG, decoded as tshark decodes them.
@Suite struct RealCaptureTests {
    static let captures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Captures")

    func decoded(_ name: String) throws -> [DecodedPacket] {
        let file = try CaptureFile(path: Self.captures.appendingPathComponent(name).path)
        var packets: [DecodedPacket] = []
        while let record = try file.next() {
            packets.append(PacketDecoder.decode(record.bytes, linkType: record.linkType))
        }
        return packets
    }

    func syns(_ packets: [DecodedPacket]) -> [UInt16] {
        packets.compactMap { packet in
            guard let tcp = packet.transport, tcp.tcpFlags == .syn else { return nil }
            return tcp.destinationPort
        }
    }

    @Test func eth0SeesEveryConnectionButTheRedirectedOne() throws {
        let packets = try decoded("lab-eth0.pcap")
        #expect(packets.allSatisfy { $0.linkType == .ethernet })
        #expect(packets.filter { $0.ip != nil }.allSatisfy { $0.issue == nil })
        // The app's connection to 93.184.216.34:80 went to lo (REDIRECT in OUTPUT); Envoy's
        // own went out on eth0.
        #expect(syns(packets) == [80, 8080, 15021, 9999])
        #expect(packets.contains { $0.transport?.destinationPort == 53 && $0.ip?.proto == .udp })
    }

    @Test func anyNamesInterfacesByIndex() throws {
        let packets = try decoded("lab-any.pcap")
        #expect(packets.allSatisfy { $0.linkType == .linuxSLL2 })
        #expect(Set(packets.compactMap(\.interfaceIndex)) == [1, 2])
        // On lo: the app's SYN to 127.0.0.1:15001, after REDIRECT.
        #expect(
            packets.contains {
                $0.interfaceIndex == 1 && $0.transport?.destinationPort == 15001
                    && $0.transport?.tcpFlags == .syn
            })
    }

    @Test func nflogCarriesTheSocketOwner() throws {
        let packets = try decoded("lab-nflog.pcap")
        #expect(packets.allSatisfy { $0.linkType == .nflog && $0.nflog?.group == 5 })
        // tshark -e nflog.uid: the app's packets to :80 are uid 1000, Envoy's are 1337.
        let owners = Set(
            packets.compactMap { packet -> String? in
                guard let uid = packet.nflog?.uid, let port = packet.transport?.destinationPort else {
                    return nil
                }
                return "\(uid)->\(port)"
            })
        #expect(owners.contains("1000->80"))
        #expect(owners.contains("1337->80"))
        #expect(owners.contains("1337->9999"))
        #expect(packets.compactMap(\.nflog?.gid).allSatisfy { $0 == 1000 || $0 == 1337 })
    }
}
