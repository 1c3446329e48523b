import PacketCodec

/// One captured packet as a file stores it. `bytes` belongs to the source and is valid only
/// until its next call to ``PacketSource/next()``: copy what you keep.
public struct PacketRecord {
    /// 1-based position of the record in its file (pcapng: among packet blocks).
    public var index: Int
    /// Nanoseconds since the Unix epoch.
    public var timestampNanoseconds: Int64
    /// Bytes present in the file (at most the snaplen).
    public var capturedLength: Int
    /// Bytes the packet had on the wire; more than `capturedLength` when the snaplen cut it.
    public var originalLength: Int
    /// Per packet: pcapng interfaces may each have their own.
    public var linkType: LinkType
    /// The pcapng interface the packet came from (0 for pcap files).
    public var interfaceID: UInt32
    public var bytes: UnsafeRawBufferPointer

    public init(
        index: Int, timestampNanoseconds: Int64, capturedLength: Int, originalLength: Int, linkType: LinkType,
        interfaceID: UInt32 = 0, bytes: UnsafeRawBufferPointer
    ) {
        self.index = index
        self.timestampNanoseconds = timestampNanoseconds
        self.capturedLength = capturedLength
        self.originalLength = originalLength
        self.linkType = linkType
        self.interfaceID = interfaceID
        self.bytes = bytes
    }

    /// A placeholder to read into (``CaptureFile/next(into:)``): no bytes.
    public static var none: PacketRecord {
        PacketRecord(
            index: 0, timestampNanoseconds: 0, capturedLength: 0, originalLength: 0, linkType: .ethernet,
            bytes: UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// The snaplen cut this packet.
    public var isSnapped: Bool { capturedLength < originalLength }
}

/// A stream of captured packets, read one at a time (gopacket's `PacketSource`): memory does not
/// grow with the file.
public protocol PacketSource {
    /// The file being read, for messages.
    var path: String { get }
    /// Bytes consumed so far and the file's size, for progress indicators.
    var bytesRead: Int64 { get }
    var fileSize: Int64 { get }
    /// The next packet, or nil at the end. A damaged record throws; the packets before it were
    /// delivered and count.
    mutating func next() throws(CaptureError) -> PacketRecord?
}

/// Everything that can go wrong reading or writing a capture, each saying where.
public enum CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case emptyFile(path: String)
    /// Not pcap or pcapng: `detail` tells what it looks like (text, an unknown magic number).
    case notACapture(path: String, detail: String)
    /// The file ends inside the file header / first block.
    case truncatedHeader(path: String, needed: Int, available: Int64)
    /// The last record is cut: `record` is its 1-based number, `offset` where it starts.
    case truncatedRecord(path: String, record: Int, offset: Int64, detail: String)
    /// Damaged structure (bad block length, unknown interface).
    case malformed(path: String, offset: Int64, detail: String)
    case unsupportedLinkType(path: String, linkType: LinkType, interface: Int?)
    case badFilter(expression: String, linkType: LinkType, message: String)
    case writeFailed(path: String, message: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): "\(path): no such file"
        case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
        case .emptyFile(let path): "\(path): empty file (0 bytes), not a capture"
        case .notACapture(let path, let detail): "\(path): not a pcap or pcapng capture (\(detail))"
        case .truncatedHeader(let path, let needed, let available):
            "\(path): truncated file header: needs \(needed) bytes, the file has \(available)"
        case .truncatedRecord(let path, let record, let offset, let detail):
            "\(path): record \(record) at byte offset \(offset) is truncated (\(detail)); the \(record - 1) records before it were read"
        case .malformed(let path, let offset, let detail): "\(path): at byte offset \(offset): \(detail)"
        case .unsupportedLinkType(let path, let linkType, let interface):
            "\(path): unsupported link type \(linkType)"
                + (interface.map { " (pcapng interface \($0))" } ?? "")
                + "; supported: " + LinkType.decodable.map(\.name).uniqued().joined(separator: ", ")
        case .badFilter(let expression, let linkType, let message):
            "--filter '\(expression)' (link type \(linkType.name)): \(message)"
        case .writeFailed(let path, let message): "\(path): cannot write: \(message)"
        }
    }

    /// The packets before the error were read and count (a truncated final record).
    public var isTruncatedRecord: Bool {
        if case .truncatedRecord = self { return true }
        return false
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
