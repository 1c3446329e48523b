import CPcap
import PacketCodec

/// Writes a pcap file with nanosecond timestamps (`pcap_open_dead_with_tstamp_precision` +
/// `pcap_dump_open` + `pcap_dump`). One link type per file; LINKTYPE_RAW (101) is written as
/// DLT_RAW (12), which `pcap_open_dead` accepts and stores as 101 in the file header.
public final class PcapWriter {
    public let path: String
    public let linkType: LinkType
    let dead: OpaquePointer
    var dumper: OpaquePointer?

    public init(path: String, linkType: LinkType, snapLength: Int32 = 262_144) throws(CaptureError) {
        self.path = path
        self.linkType = linkType
        guard
            let dead = pcap_open_dead_with_tstamp_precision(
                Int32(linkType.dltValue), snapLength, UInt32(PCAP_TSTAMP_PRECISION_NANO))
        else {
            throw .writeFailed(path: path, message: "libpcap refuses link type \(linkType)")
        }
        self.dead = dead
        guard let dumper = pcap_dump_open(dead, path) else {
            let message = String(cString: pcap_geterr(dead))
            pcap_close(dead)
            throw .writeFailed(path: path, message: message)
        }
        self.dumper = dumper
    }

    deinit { close() }

    /// Appends one packet; `originalLength` defaults to the bytes given (nothing snapped).
    public func write(timestampNanoseconds: Int64, bytes: UnsafeRawBufferPointer, originalLength: Int? = nil)
    {
        guard let dumper, let base = bytes.baseAddress else { return }
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(timestampNanoseconds / 1_000_000_000)
        header.ts.tv_usec = Int(timestampNanoseconds % 1_000_000_000)
        header.caplen = UInt32(bytes.count)
        header.len = UInt32(originalLength ?? bytes.count)
        pcap_dump(UnsafeMutablePointer<UInt8>(dumper), &header, base.assumingMemoryBound(to: UInt8.self))
    }

    public func write(timestampNanoseconds: Int64, bytes: [UInt8], originalLength: Int? = nil) {
        bytes.withUnsafeBytes {
            write(timestampNanoseconds: timestampNanoseconds, bytes: $0, originalLength: originalLength)
        }
    }

    public func write(_ record: PacketRecord) {
        write(
            timestampNanoseconds: record.timestampNanoseconds, bytes: record.bytes,
            originalLength: record.originalLength)
    }

    /// Flushes and closes the file (also done on deinit).
    public func close() {
        if let dumper {
            pcap_dump_close(dumper)
            self.dumper = nil
            pcap_close(dead)
        }
    }
}
