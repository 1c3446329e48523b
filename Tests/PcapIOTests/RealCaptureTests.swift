import Foundation
import PacketCodec
import PacketModel
import PcapIO
import Testing

/// The captures `tools/make-captures` recorded in network namespaces (Captures/README.md), here the lab's:
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

    @Test func eth0SeesEveryConnectionButTheRedirectedOnes() throws {
        let packets = try decoded("lab-redirect/eth0.pcap")
        #expect(packets.allSatisfy { $0.linkType == .ethernet })
        #expect(packets.filter { $0.ip != nil }.allSatisfy { $0.issue == nil })
        // Inbound SYNs in scenario order; outbound to :80 only from the proxy (uid 1337) and a
        // gid-1337 process: the app's and root's went to lo (REDIRECT in OUTPUT).
        #expect(syns(packets) == [8080, 15021, 80, 15090, 15020, 15008, 80])
        #expect(packets.contains { $0.transport?.destinationPort == 53 && $0.ip?.proto == .udp })
    }

    @Test func anyNamesInterfacesByIndex() throws {
        let packets = try decoded("lab-redirect/any.pcap")
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
        let packets = try decoded("lab-redirect/nflog.pcap")
        #expect(packets.allSatisfy { $0.linkType == .nflog && $0.nflog?.group == 7 })
        // As tshark's nflog.uid / nflog.gid say: the app (1000), the proxy (1337), a process of
        // gid 1337 and root all sent to :80; packets the kernel makes carry no owner.
        let owners = Set(
            packets.compactMap { packet -> String? in
                guard let uid = packet.nflog?.uid, let gid = packet.nflog?.gid,
                    let port = packet.transport?.destinationPort
                else { return nil }
                return "\(uid)/\(gid)->\(port)"
            })
        #expect(
            owners.isSuperset(of: [
                "1000/1000->80", "1337/1337->80", "1000/1337->80", "0/0->80", "1000/1000->53",
            ]))
        #expect(packets.contains { $0.nflog != nil && $0.nflog?.uid == nil })
    }
}
