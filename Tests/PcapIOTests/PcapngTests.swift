import Foundation
import PacketCodec
import PacketModel
import PcapIO
import Testing

/// pcapng: one link type (libpcap), several (our block reader), damage, and real tools' files.
@Suite struct PcapngTests {
    static let sll2 = PacketEncoder.linuxSLL2(Array(tcpFrame(8080).dropFirst(14)), interfaceIndex: 2)

    @Test func oneLinkTypeGoesThroughLibpcap() {
        let directory = TemporaryDirectory()
        let bytes =
            Pcapng.section() + Pcapng.interface(1)
            + Pcapng.packet(interface: 0, timestamp: 1_000_001, tcpFrame(80))
            + Pcapng.packet(interface: 0, timestamp: 2_000_002, tcpFrame(81))
        let result = readAll(directory.write("one.pcapng", bytes))
        #expect(result.error == nil)
        #expect(result.records.map(\.timestamp) == [1_000_001_000, 2_000_002_000])
        #expect(result.records.map(\.linkType) == [.ethernet, .ethernet])
    }

    @Test func twoLinkTypesGoThroughOurReader() {
        let directory = TemporaryDirectory()
        let bytes =
            Pcapng.section() + Pcapng.interface(1, nanoseconds: true)
            + Pcapng.interface(276, nanoseconds: true)
            + Pcapng.packet(interface: 0, timestamp: 1_700_000_000_000_000_001, tcpFrame(80))
            + Pcapng.packet(interface: 1, timestamp: 1_700_000_000_000_000_002, Self.sll2)
            + Pcapng.block(5, [0, 0, 0, 0])  // an Interface Statistics Block, skipped
            + Pcapng.packet(interface: 0, timestamp: 1_700_000_000_000_000_003, tcpFrame(82), original: 1000)
        let result = readAll(directory.write("two.pcapng", bytes))
        #expect(result.error == nil)
        #expect(result.records.map(\.linkType) == [.ethernet, .linuxSLL2, .ethernet])
        #expect(result.records.map(\.interface) == [0, 1, 0])
        #expect(
            result.records.map(\.timestamp) == [
                1_700_000_000_000_000_001, 1_700_000_000_000_000_002, 1_700_000_000_000_000_003,
            ])
        #expect(result.records[2].original == 1000)
        let packet = PacketDecoder.decode(result.records[1].bytes, linkType: result.records[1].linkType)
        #expect(packet.interfaceIndex == 2)
        #expect(packet.transport?.destinationPort == 8080)
    }

    @Test func aSecondLinkTypeMidFileSwitchesReaders() {
        // libpcap reads the first packets, then refuses the new interface; ours takes over.
        let directory = TemporaryDirectory()
        let bytes =
            Pcapng.section() + Pcapng.interface(1)
            + Pcapng.packet(interface: 0, timestamp: 1, tcpFrame(80))
            + Pcapng.packet(interface: 0, timestamp: 2, tcpFrame(81))
            + Pcapng.interface(276) + Pcapng.packet(interface: 1, timestamp: 3, Self.sll2)
            + Pcapng.packet(interface: 0, timestamp: 4, tcpFrame(83))
        let result = readAll(directory.write("late.pcapng", bytes))
        #expect(result.error == nil)
        #expect(result.records.map(\.linkType) == [.ethernet, .ethernet, .linuxSLL2, .ethernet])
        #expect(result.records.map(\.timestamp) == [1000, 2000, 3000, 4000])
    }

    @Test func simplePacketBlocksUseTheSnapLength() {
        let directory = TemporaryDirectory()
        let bytes =
            Pcapng.section() + Pcapng.interface(1, snapLength: 60) + Pcapng.interface(101)
            + Pcapng.simplePacket(tcpFrame(80, payload: 20))
        let result = readAll(directory.write("simple.pcapng", bytes))
        #expect(result.error == nil)
        #expect(result.records.first?.captured == 60)
        #expect(result.records.first?.original == 74)
    }

    @Test func truncatedLastBlockKeepsThePacketsBefore() {
        let directory = TemporaryDirectory()
        let bytes =
            Pcapng.section() + Pcapng.interface(1) + Pcapng.interface(113)
            + Pcapng.packet(interface: 0, timestamp: 1, tcpFrame(80))
            + Pcapng.packet(interface: 0, timestamp: 2, tcpFrame(81))
        let result = readAll(directory.write("cut.pcapng", Array(bytes.dropLast(9))))
        #expect(result.records.count == 1)
        guard case .truncatedRecord(_, let record, let offset, _) = result.error else {
            Issue.record("expected truncatedRecord, got \(String(describing: result.error))")
            return
        }
        #expect(record == 2)
        #expect(
            offset
                == Int64(
                    Pcapng.section().count + 2 * 20
                        + Pcapng.packet(interface: 0, timestamp: 1, tcpFrame(80)).count))
    }

    @Test func unknownLinkTypeOnAnInterface() {
        let directory = TemporaryDirectory()
        let bytes =
            Pcapng.section() + Pcapng.interface(1) + Pcapng.interface(189)
            + Pcapng.packet(interface: 1, timestamp: 1, [1, 2, 3])
        let path = directory.write("usb.pcapng", bytes)
        #expect(
            readAll(path).error
                == .unsupportedLinkType(path: path, linkType: LinkType(rawValue: 189), interface: 1))
    }

    @Test func packetOnAnUndescribedInterface() {
        let directory = TemporaryDirectory()
        let bytes =
            Pcapng.section() + Pcapng.interface(1) + Pcapng.interface(276)
            + Pcapng.packet(interface: 5, timestamp: 1, tcpFrame(80))
        guard case .malformed(_, _, let detail) = readAll(directory.write("bad.pcapng", bytes)).error else {
            Issue.record("expected malformed")
            return
        }
        #expect(detail.contains("interface 5"))
    }

    @Test func mutatedPcapngNeverCrashes() {
        let directory = TemporaryDirectory()
        let valid =
            Pcapng.section() + Pcapng.interface(1, nanoseconds: true) + Pcapng.interface(276)
            + Pcapng.packet(interface: 0, timestamp: 1, tcpFrame(80))
            + Pcapng.packet(interface: 1, timestamp: 2, Self.sll2)
            + Pcapng.simplePacket(tcpFrame(81))
        var random = SystemRandomNumberGenerator()
        var state: UInt64 = 12345
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        _ = random.next()
        for iteration in 0..<300 {
            var bytes = valid
            for _ in 0..<(1 + next() % 4) {
                let index = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: next())
                case 1: bytes = Array(bytes.prefix(index))
                default: bytes.insert(contentsOf: [0xff, 0xff, 0xff, 0x7f], at: index)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            let path = directory.write("fuzz\(iteration).pcapng", bytes)
            let result = readAll(path)
            for record in result.records {
                _ = PacketDecoder.decode(record.bytes, linkType: record.linkType)
            }
            if let reader = try? PcapngReader(path: path, fileSize: Int64(bytes.count)) {
                while (try? reader.next()) ?? nil != nil {}
            }
        }
    }

    @Test func filesFromEditcapAndMergecap() throws {
        let directory = TemporaryDirectory()
        let ethernet = directory.write("eth.pcap", pcapFile(linkType: 1, [(1_000_000_000, tcpFrame(80), 54)]))
        let cooked = directory.write(
            "any.pcap", pcapFile(linkType: 276, [(2_000_000_000, Self.sll2, Self.sll2.count)]))
        let converted = directory.path("eth.pcapng")
        let merged = directory.path("merged.pcapng")
        guard run("editcap", ["-F", "pcapng", ethernet, converted]) == 0,
            run("mergecap", ["-F", "pcapng", "-w", merged, ethernet, cooked]) == 0
        else { return }  // tshark's tools are not installed: nothing to compare with
        #expect(readAll(converted).records.map(\.timestamp) == [1_000_000_000])
        let result = readAll(merged)
        #expect(result.error == nil)
        #expect(result.records.map(\.linkType) == [.ethernet, .linuxSLL2])
    }
}
