import Foundation
import PacketCodec
import PacketModel
import PcapIO
import Testing

/// pcap through libpcap, written by our writer or by hand; nanosecond timestamps; filters.
@Suite struct CaptureFileTests {
    @Test func writerRoundTripKeepsNanosecondsAndLengths() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("round.pcap")
        let writer = try PcapWriter(path: path, linkType: .ethernet)
        writer.write(timestampNanoseconds: 1_700_000_000_123_456_789, bytes: tcpFrame(80))
        writer.write(
            timestampNanoseconds: 1_700_000_001_000_000_001, bytes: tcpFrame(443, payload: 100),
            originalLength: 400)
        writer.close()
        let result = readAll(path)
        #expect(result.error == nil)
        #expect(result.records.count == 2)
        #expect(result.records[0].timestamp == 1_700_000_000_123_456_789)
        #expect(result.records[1].timestamp == 1_700_000_001_000_000_001)
        #expect(result.records[1].captured == tcpFrame(443, payload: 100).count)
        #expect(result.records[1].original == 400)
        #expect(result.records[0].linkType == .ethernet)
        #expect(result.records[0].bytes == tcpFrame(80))
    }

    @Test func rawIsWrittenAs101AndReadAsDLT12() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("raw.pcap")
        let writer = try PcapWriter(path: path, linkType: .raw)
        writer.write(timestampNanoseconds: 0, bytes: Array(tcpFrame(80).dropFirst(14)))
        writer.close()
        let header = try #require(FileManager.default.contents(atPath: path))
        #expect(Array(header[20..<24]) == le32(101))
        let result = readAll(path)
        #expect(result.records.first?.linkType == .rawDLT)
        let packet = PacketDecoder.decode(result.records[0].bytes, linkType: result.records[0].linkType)
        #expect(packet.transport?.destinationPort == 80)
    }

    @Test func microsecondFilesAreScaledToNanoseconds() {
        let directory = TemporaryDirectory()
        let path = directory.write(
            "micro.pcap", pcapFile(linkType: 1, [(1_500_000_000_000_001_000, tcpFrame(80), 54)]))
        #expect(readAll(path).records.first?.timestamp == 1_500_000_000_000_001_000)
    }

    @Test func missingFile() {
        #expect(
            readAll("/nonexistent/capture.pcap").error == .fileNotFound(path: "/nonexistent/capture.pcap"))
    }

    @Test func emptyFile() {
        let directory = TemporaryDirectory()
        let path = directory.write("empty.pcap", [])
        let error = readAll(path).error
        #expect(error == .emptyFile(path: path))
        #expect(error?.description.contains("empty file") == true)
    }

    @Test func textFile() {
        let directory = TemporaryDirectory()
        let path = directory.write("rules.txt", Array("*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n".utf8))
        guard case .notACapture(let reported, let detail) = readAll(path).error else {
            Issue.record("expected notACapture")
            return
        }
        #expect(reported == path)
        #expect(detail.contains("looks like text"))
        #expect(detail.contains("*nat"))
    }

    @Test func binaryFileWithAnUnknownMagic() {
        let directory = TemporaryDirectory()
        let path = directory.write("blob.bin", [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])
        guard case .notACapture(_, let detail) = readAll(path).error else {
            Issue.record("expected notACapture")
            return
        }
        #expect(detail == "unknown magic number 0x7f454c46")
    }

    @Test func fileShorterThanItsHeader() {
        let directory = TemporaryDirectory()
        let path = directory.write("short.pcap", Array(pcapFile(linkType: 1, []).prefix(10)))
        #expect(readAll(path).error == .truncatedHeader(path: path, needed: 24, available: 10))
    }

    @Test func cutMidRecordKeepsThePacketsBefore() {
        let directory = TemporaryDirectory()
        let frames = [tcpFrame(80), tcpFrame(81), tcpFrame(82, payload: 40)]
        let whole = pcapFile(
            linkType: 1, frames.enumerated().map { (Int64($0.offset), $0.element, $0.element.count) })
        let path = directory.write("cut.pcap", Array(whole.dropLast(10)))
        let result = readAll(path)
        #expect(result.records.count == 2)
        guard case .truncatedRecord(_, let record, let offset, _) = result.error else {
            Issue.record("expected truncatedRecord, got \(String(describing: result.error))")
            return
        }
        #expect(record == 3)
        #expect(offset == Int64(24 + 2 * (16 + 54)))
        #expect(result.error?.isTruncatedRecord == true)
        #expect(result.error?.description.contains("record 3 at byte offset 164 is truncated") == true)
    }

    @Test func cutInsideARecordHeader() {
        let directory = TemporaryDirectory()
        let whole = pcapFile(linkType: 1, [(0, tcpFrame(80), 54), (1, tcpFrame(81), 54)])
        let path = directory.write("cut-header.pcap", Array(whole.prefix(24 + 16 + 54 + 7)))
        let result = readAll(path)
        #expect(result.records.count == 1)
        #expect(result.error?.isTruncatedRecord == true)
    }

    @Test func unknownLinkType() {
        let directory = TemporaryDirectory()
        let path = directory.write("usb.pcap", pcapFile(linkType: 189, [(0, [1, 2, 3], 3)]))
        #expect(
            readAll(path).error
                == .unsupportedLinkType(path: path, linkType: LinkType(rawValue: 189), interface: nil))
        #expect(readAll(path).error?.description.contains("supported: NULL, EN10MB, RAW") == true)
    }

    @Test func jumboFramesWithA65535Snaplen() {
        let directory = TemporaryDirectory()
        let full = tcpFrame(80, payload: 65535 - 54)
        let cut = Array(tcpFrame(443, payload: 9000).prefix(65535))
        let path = directory.write(
            "jumbo.pcap", pcapFile(linkType: 1, snapLength: 65535, [(0, full, full.count), (1, cut, 70000)]))
        let result = readAll(path)
        #expect(result.error == nil)
        #expect(result.records.map(\.captured) == [65535, 9054])
        #expect(result.records.map(\.original) == [65535, 70000])
        let packet = PacketDecoder.decode(result.records[0].bytes, linkType: .ethernet)
        #expect(packet.issue == nil)
        #expect(packet.transport?.destinationPort == 80)
    }

    @Test func bpfFilterKeepsMatchingPackets() {
        let directory = TemporaryDirectory()
        let path = directory.write(
            "filter.pcap",
            pcapFile(linkType: 1, [(0, tcpFrame(80), 54), (1, tcpFrame(443), 54), (2, tcpFrame(80), 54)]))
        #expect(readAll(path, filter: "tcp dst port 80").records.count == 2)
        #expect(readAll(path, filter: "udp").records.isEmpty)
        guard case .badFilter(let expression, _, let message) = readAll(path, filter: "tcp port eighty").error
        else {
            Issue.record("expected badFilter")
            return
        }
        #expect(expression == "tcp port eighty")
        #expect(!message.isEmpty)
        #expect(throws: CaptureError.self) { try PacketFilter.validate("not a ( filter") }
    }

    @Test func writerReportsAnUnwritablePath() {
        #expect(throws: CaptureError.self) {
            try PcapWriter(path: "/nonexistent/dir/out.pcap", linkType: .ethernet)
        }
    }
}
