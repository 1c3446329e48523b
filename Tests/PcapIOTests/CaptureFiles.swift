import Foundation
import PacketCodec
import PacketModel
import PcapIO

/// Capture files built at test time in a temporary directory (no binary blobs in the repo).
final class TemporaryDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pcapio-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = path(name)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}

func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
func le32(_ value: UInt32) -> [UInt8] { le16(UInt16(value & 0xffff)) + le16(UInt16(value >> 16)) }

let pod = IPAddress.v4(IPv4Address(10, 44, 0, 2))
let peer = IPAddress.v4(IPv4Address(10, 44, 1, 7))

func tcpFrame(_ dport: UInt16, payload: Int = 0) -> [UInt8] {
    PacketEncoder.ethernet(
        PacketEncoder.ip(
            source: peer, destination: pod,
            transport: .tcp(sourcePort: 40000, destinationPort: dport, flags: .syn),
            payload: [UInt8](repeating: 0x61, count: payload)))
}

/// A classic pcap (little-endian, microseconds unless `nano`), records as given.
func pcapFile(
    linkType: UInt32, snapLength: UInt32 = 262_144, nano: Bool = false, _ records: [(Int64, [UInt8], Int)]
)
    -> [UInt8]
{
    var bytes =
        le32(nano ? 0xA1B2_3C4D : 0xA1B2_C3D4) + le16(2) + le16(4) + le32(0) + le32(0) + le32(snapLength)
    bytes += le32(linkType)
    for (timestamp, data, original) in records {
        let seconds = UInt32(timestamp / 1_000_000_000)
        let fraction = UInt32(timestamp % 1_000_000_000 / (nano ? 1 : 1000))
        bytes += le32(seconds) + le32(fraction) + le32(UInt32(data.count)) + le32(UInt32(original)) + data
    }
    return bytes
}

/// pcapng blocks (little-endian), draft-ietf-opsawg-pcapng.
enum Pcapng {
    static func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
        let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
        let length = UInt32(12 + padded.count)
        return le32(type) + le32(length) + padded + le32(length)
    }

    static func section() -> [UInt8] {
        block(
            0x0A0D_0D0A,
            le32(0x1A2B_3C4D) + le16(1) + le16(0) + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// An interface; `nanoseconds` adds if_tsresol = 9.
    static func interface(_ linkType: UInt16, snapLength: UInt32 = 0, nanoseconds: Bool = false) -> [UInt8] {
        var body = le16(linkType) + le16(0) + le32(snapLength)
        if nanoseconds { body += le16(9) + le16(1) + [9, 0, 0, 0] + le16(0) + le16(0) }
        return block(1, body)
    }

    static func packet(interface: UInt32, timestamp: UInt64, _ data: [UInt8], original: Int? = nil) -> [UInt8]
    {
        block(
            6,
            le32(interface) + le32(UInt32(timestamp >> 32)) + le32(UInt32(timestamp & 0xffff_ffff))
                + le32(UInt32(data.count)) + le32(UInt32(original ?? data.count)) + data)
    }

    static func simplePacket(_ data: [UInt8]) -> [UInt8] { block(3, le32(UInt32(data.count)) + data) }
}

/// Reads a whole capture: the records' (timestamp, captured, original, link type, interface,
/// bytes) and the error that ended it, if any.
struct ReadResult {
    var records:
        [(
            timestamp: Int64, captured: Int, original: Int, linkType: LinkType, interface: UInt32,
            bytes: [UInt8]
        )] =
            []
    var error: CaptureError?
}

func readAll(_ path: String, filter: String? = nil) -> ReadResult {
    var result = ReadResult()
    do {
        let file = try CaptureFile(path: path, filter: filter)
        while let record = try file.next() {
            result.records.append(
                (
                    record.timestampNanoseconds, record.capturedLength, record.originalLength,
                    record.linkType,
                    record.interfaceID, Array(record.bytes)
                ))
        }
    } catch {
        result.error = error
    }
    return result
}

/// Runs a command-line tool when it exists; nil otherwise.
func run(_ tool: String, _ arguments: [String]) -> Int32? {
    for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
        let path = directory + "/" + tool
        guard FileManager.default.isExecutableFile(atPath: path) else { continue }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }
    return nil
}
