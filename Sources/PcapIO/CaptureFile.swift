import PacketCodec

#if canImport(Glibc)
    import Glibc
#endif

/// A capture file, whatever its format: sniffs the magic number, gives clear errors for what is
/// not a capture, reads pcap (and single-link-type pcapng) through libpcap and pcapng files with
/// several link types through ``PcapngReader``. An optional BPF filter drops non-matching packets.
public final class CaptureFile: PacketSource {
    public let path: String
    public let fileSize: Int64
    /// Exactly one of the two readers is set. Immutable (`let`), so the per-packet call borrows
    /// it without reference counting.
    let libpcap: LibpcapSource?
    let pcapng: PcapngReader?
    /// Set when libpcap gave up on a second link type mid-file and our reader took over.
    @exclusivity(unchecked) var fallback: PcapngReader?
    @exclusivity(unchecked) var usingFallback = false
    let filter: PacketFilter?
    /// Unretained views of `libpcap` and `filter` for the per-packet path (no reference
    /// counting per packet; the `let`s above keep the objects alive).
    let fastFilter: Unmanaged<PacketFilter>?
    /// libpcap's handle and link type, read directly per packet; the counters live here.
    let handle: OpaquePointer?
    let handleLinkType: LinkType
    @exclusivity(unchecked) var recordCount = 0
    @exclusivity(unchecked) var offset: Int64 = 24

    /// Opens `path`. Throws for a missing, empty, non-capture or unsupported file.
    public init(path: String, filter: String? = nil) throws(CaptureError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT != S_IFDIR else {
            throw .unreadable(path: path, reason: "is a directory")
        }
        fileSize = Int64(info.st_size)
        guard fileSize > 0 else { throw .emptyFile(path: path) }
        let head = try Self.head(path, 16)
        let magic = head.count >= 4 ? head.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } : 0
        let isPcapng: Bool
        switch magic {
        case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1:
            isPcapng = false
            guard fileSize >= 24 else { throw .truncatedHeader(path: path, needed: 24, available: fileSize) }
        case 0x0A0D_0D0A:
            isPcapng = true
        default:
            throw .notACapture(path: path, detail: Self.describe(head))
        }
        if isPcapng && Set(PcapngReader.leadingLinkTypes(path: path, fileSize: fileSize)).count > 1 {
            libpcap = nil
            pcapng = try PcapngReader(path: path, fileSize: fileSize)
        } else {
            do {
                libpcap = try LibpcapSource(path: path, fileSize: fileSize, isPcapng: isPcapng)
                pcapng = nil
            } catch {
                // libpcap refuses some pcapng files ours reads; ours gives the better message.
                guard isPcapng else { throw error }
                libpcap = nil
                pcapng = try PcapngReader(path: path, fileSize: fileSize)
            }
        }
        if let filter {
            let compiled = PacketFilter(expression: filter)
            if let libpcap { _ = try compiled.program(for: libpcap.linkType) }
            self.filter = compiled
            fastFilter = Unmanaged.passUnretained(compiled)
        } else {
            self.filter = nil
            fastFilter = nil
        }
        handle = libpcap?.handle
        handleLinkType = libpcap?.linkType ?? .ethernet
    }

    /// The link type of a pcap file (nil for pcapng, where each interface has its own).
    public var fileLinkType: LinkType? {
        if let libpcap, !libpcap.isPcapng { return libpcap.linkType }
        return nil
    }

    public var bytesRead: Int64 {
        if usingFallback, let fallback { return fallback.bytesRead }
        if let libpcap { return libpcap.isPcapng ? libpcap.streamPosition : offset }
        return pcapng?.bytesRead ?? 0
    }

    public func next() throws(CaptureError) -> PacketRecord? {
        var record = PacketRecord.none
        return try next(into: &record) ? record : nil
    }

    /// ``next()`` without returning a record: writes the next packet into `record` (the caller's
    /// storage, reused) and returns false at the end. For the per-packet loop of a long file: a
    /// 64-byte record returned and copied per packet costs more than it seems, as the CPU cannot
    /// forward the callee's 8-byte stores to the caller's 16-byte loads.
    public func next(into record: inout PacketRecord) throws(CaptureError) -> Bool {
        while true {
            if let handle, !usingFallback {
                let status = LibpcapSource.read(handle, handleLinkType, &recordCount, &offset, into: &record)
                if status != 1 {
                    guard let libpcap,
                        let error = libpcap.failure(status, recordCount: recordCount, offset: offset)
                    else { return false }
                    guard libpcap.isPcapng, case .malformed(_, _, let detail) = error,
                        detail.contains(LibpcapSource.mixedLinkTypesMarker)
                    else { throw error }
                    // An interface with another link type mid-file: continue with our reader
                    // after the packets libpcap delivered.
                    let ours = try PcapngReader(path: path, fileSize: fileSize)
                    for _ in 0..<recordCount { _ = try ours.next() }
                    fallback = ours
                    usingFallback = true
                    continue
                }
            } else if let reader = pcapng ?? fallback {
                guard let next = try reader.next() else { return false }
                record = next
            } else {
                return false
            }
            if let fastFilter {
                let matches = fastFilter._withUnsafeGuaranteedRef { filter -> Result<Bool, CaptureError> in
                    do throws(CaptureError) { return .success(try filter.matches(record)) } catch {
                        return .failure(error)
                    }
                }
                if try !matches.get() { continue }
            }
            return true
        }
    }

    static func head(_ path: String, _ count: Int) throws(CaptureError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = fread(&bytes, 1, count, file)
        return Array(bytes.prefix(got))
    }

    /// What a non-capture file looks like, for the error message.
    static func describe(_ head: [UInt8]) -> String {
        let printable = head.allSatisfy {
            (0x20...0x7e).contains($0) || $0 == 0x0a || $0 == 0x0d || $0 == 0x09
        }
        if printable {
            let text = String(decoding: head.prefix(12), as: UTF8.self)
                .replacingNewlines()
            return "it looks like text: \"\(text)…\""
        }
        let hex = head.prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        return "unknown magic number 0x\(hex)"
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 })
    }
}
