import CPcap
import PacketCodec

#if canImport(Glibc)
    import Glibc
#endif

/// pcap and pcapng files read by libpcap (`pcap_open_offline_with_tstamp_precision`, nanosecond
/// timestamps; `pcap_next_ex`). libpcap gives one link type per file: a pcapng file whose
/// interfaces differ fails part-way with ``CaptureError/malformed(path:offset:detail:)`` carrying
/// ``LibpcapSource/mixedLinkTypesMarker`` (``CaptureFile`` then switches to ``PcapngReader``).
public final class LibpcapSource: PacketSource {
    public let path: String
    public let linkType: LinkType
    public let fileSize: Int64
    /// pcap (false) or pcapng (true), from the magic number.
    public let isPcapng: Bool
    let handle: OpaquePointer
    /// Records delivered so far.
    @exclusivity(unchecked) public private(set) var recordCount = 0
    /// pcap: the exact offset of the next record (24 + Σ(16 + caplen)).
    @exclusivity(unchecked) var offset: Int64 = 24

    /// The stdio buffer of the stream libpcap reads.
    let buffer: UnsafeMutableRawPointer
    static let bufferSize = 1 << 20

    static let mixedLinkTypesMarker = "different from the type of the first interface"

    public init(path: String, fileSize: Int64, isPcapng: Bool) throws(CaptureError) {
        self.path = path
        self.fileSize = fileSize
        self.isPcapng = isPcapng
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        // We open the stream ourselves (pcap_fopen_offline) to give it a 1 MiB buffer: stdio's
        // default 4 KiB means one read(2) per few packets.
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 64)
        setvbuf(file, buffer.assumingMemoryBound(to: CChar.self), _IOFBF, Self.bufferSize)
        posix_fadvise(fileno(file), 0, 0, POSIX_FADV_SEQUENTIAL)
        guard
            let handle = pcap_fopen_offline_with_tstamp_precision(
                file, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        else {
            // pcap_fopen_offline leaves the stream open when it fails.
            fclose(file)
            buffer.deallocate()
            let message = String(
                decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if message.contains("truncated") {
                throw .truncatedHeader(path: path, needed: isPcapng ? 28 : 24, available: fileSize)
            }
            throw .notACapture(path: path, detail: "libpcap: \(message)")
        }
        self.handle = handle
        var type = LinkType(rawValue: UInt32(bitPattern: pcap_datalink(handle)))
        if type == .raw { type = .rawDLT }
        linkType = type
        guard linkType.isDecodable else {
            // Every property is set: deinit closes the handle and frees the buffer.
            throw .unsupportedLinkType(path: path, linkType: linkType, interface: nil)
        }
    }

    deinit {
        pcap_close(handle)  // closes the stream too
        buffer.deallocate()
    }

    public var bytesRead: Int64 { isPcapng ? streamPosition : offset }

    public func next() throws(CaptureError) -> PacketRecord? {
        var record = PacketRecord.none
        let status = Self.read(handle, linkType, &recordCount, &offset, into: &record)
        if status == 1 { return record }
        if let error = failure(status, recordCount: recordCount, offset: offset) { throw error }
        return nil
    }

    /// One `pcap_next_ex` call, its status returned: on 1, the packet is in `record` (the
    /// caller's, reused: no record is returned and copied per packet), otherwise pass the status
    /// to ``failure(_:recordCount:offset:)``.
    @inline(__always) static func read(
        _ handle: OpaquePointer, _ linkType: LinkType, _ count: inout Int, _ offset: inout Int64,
        into record: inout PacketRecord
    ) -> Int32 {
        var headerPointer: UnsafeMutablePointer<pcap_pkthdr>?
        var dataPointer: UnsafePointer<UInt8>?
        let status = pcap_next_ex(handle, &headerPointer, &dataPointer)
        guard status == 1, let headerPointer, let dataPointer else { return status == 1 ? -1 : status }
        count &+= 1
        let caplen = Int(headerPointer.pointee.caplen)
        offset &+= 16 &+ Int64(caplen)
        record.index = count
        record.timestampNanoseconds =
            Int64(headerPointer.pointee.ts.tv_sec) &* 1_000_000_000 &+ Int64(headerPointer.pointee.ts.tv_usec)
        record.capturedLength = caplen
        record.originalLength = Int(headerPointer.pointee.len)
        record.linkType = linkType
        record.interfaceID = 0
        record.bytes = UnsafeRawBufferPointer(start: dataPointer, count: caplen)
        return 1
    }

    /// The error for a `pcap_next_ex` status other than 1 (nil at the end of the file).
    func failure(_ status: Int32, recordCount: Int, offset: Int64) -> CaptureError? {
        if status == PCAP_ERROR_BREAK { return nil }
        let message = String(cString: pcap_geterr(handle))
        let position = isPcapng ? streamPosition : offset
        if message.contains(Self.mixedLinkTypesMarker) {
            return .malformed(path: path, offset: position, detail: message)
        }
        if message.contains("truncated") || message.contains("only got") {
            return .truncatedRecord(path: path, record: recordCount + 1, offset: position, detail: message)
        }
        return .malformed(path: path, offset: position, detail: "record \(recordCount + 1): \(message)")
    }

    var streamPosition: Int64 {
        guard let file = pcap_file(handle) else { return 0 }
        return Int64(ftello(file))
    }
}
