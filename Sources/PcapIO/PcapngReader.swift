import PacketCodec

#if canImport(Glibc)
    import Glibc
#endif

/// A small pcapng reader of our own (draft-ietf-opsawg-pcapng): sections, interfaces with their
/// own link types and timestamp resolutions, Enhanced / Simple / obsolete Packet Blocks.
///
/// libpcap refuses a file whose interfaces have different link types (as `tcpdump -i any`
/// next to `-i eth0`, or `mergecap` of two captures); this reader gives each packet its
/// interface's link type. Other blocks (name resolution, statistics, custom) are skipped.
public final class PcapngReader: PacketSource {
    struct Interface {
        var linkType: LinkType
        var snapLength: UInt32
        /// Timestamp units per second, as a power: 10^exponent (`decimal`) or 2^exponent.
        var exponent: UInt8 = 6
        var decimal = true
        var offsetSeconds: Int64 = 0
    }

    public let path: String
    public let fileSize: Int64
    let file: UnsafeMutablePointer<FILE>
    var buffer: UnsafeMutableRawPointer
    var capacity: Int
    var bigEndian = false
    var interfaces: [Interface] = []
    public private(set) var bytesRead: Int64 = 0
    public private(set) var recordCount = 0
    /// Blocks larger than this are refused as damage rather than allocated.
    static let maxBlockLength = 256 << 20

    public init(path: String, fileSize: Int64) throws(CaptureError) {
        self.path = path
        self.fileSize = fileSize
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        self.file = file
        capacity = 1 << 16
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        // The first block must be a Section Header Block.
        var magic: UInt32 = 0
        if fread(&magic, 1, 4, file) != 4 || magic != 0x0A0D_0D0A {
            // Every property is set: deinit closes the file and frees the buffer.
            throw .notACapture(path: path, detail: "no pcapng Section Header Block at byte 0")
        }
        fseeko(file, 0, SEEK_SET)
    }

    deinit {
        fclose(file)
        buffer.deallocate()
    }

    @inline(__always) func u16(_ offset: Int) -> UInt16 {
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }

    @inline(__always) func u32(_ offset: Int) -> UInt32 {
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    @inline(__always) func u64(_ offset: Int) -> UInt64 {
        let raw = buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
    }

    /// The link types of the interfaces described before the first packet (cheap: reads only
    /// the leading blocks). Used to decide whether libpcap can read the file.
    public static func leadingLinkTypes(path: String, fileSize: Int64) -> [LinkType] {
        guard let reader = try? PcapngReader(path: path, fileSize: fileSize) else { return [] }
        while let type = try? reader.readBlock(), type == 0x0A0D_0D0A || type == 1 {}
        return reader.interfaces.map(\.linkType)
    }

    /// Reads one block into `buffer`; returns its type, or nil at a clean end of file.
    func readBlock() throws(CaptureError) -> UInt32? {
        let start = bytesRead
        var head = (UInt32(0), UInt32(0))
        let got = withUnsafeMutableBytes(of: &head) { fread($0.baseAddress, 1, 8, file) }
        if got == 0 { return nil }
        guard got == 8 else {
            throw .truncatedRecord(
                path: path, record: recordCount + 1, offset: start,
                detail: "the file ends \(got) bytes into a block header")
        }
        var type = head.0
        if type == 0x0A0D_0D0A {
            // Byte order from the Byte-Order Magic that follows (0x1A2B3C4D).
            var magic: UInt32 = 0
            guard fread(&magic, 1, 4, file) == 4 else {
                throw .truncatedHeader(path: path, needed: Int(start) + 28, available: fileSize)
            }
            fseeko(file, -4, SEEK_CUR)
            switch magic {
            case 0x1A2B_3C4D: bigEndian = false
            case 0x4D3C_2B1A: bigEndian = true
            default:
                throw .malformed(
                    path: path, offset: start + 8, detail: "bad Byte-Order Magic in a Section Header")
            }
        }
        type = bigEndian ? UInt32(bigEndian: head.0) : UInt32(littleEndian: head.0)
        let length = Int(bigEndian ? UInt32(bigEndian: head.1) : UInt32(littleEndian: head.1))
        guard length >= 12, length % 4 == 0, length <= Self.maxBlockLength else {
            throw .malformed(path: path, offset: start, detail: "block length \(length) is not valid")
        }
        if length > capacity {
            buffer.deallocate()
            capacity = max(length, capacity * 2)
            buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        }
        buffer.storeBytes(of: head.0, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: head.1, toByteOffset: 4, as: UInt32.self)
        let body = length - 8
        let read = fread(buffer + 8, 1, body, file)
        guard read == body else {
            if type == 0x0A0D_0D0A && start == 0 {
                throw .truncatedHeader(path: path, needed: length, available: fileSize)
            }
            throw .truncatedRecord(
                path: path, record: recordCount + 1, offset: start,
                detail: "block of \(length) bytes, the file ends after \(read + 8)")
        }
        bytesRead = start + Int64(length)
        guard Int(u32(length - 4)) == length else {
            throw .malformed(
                path: path, offset: start, detail: "block's trailing length differs from its leading length")
        }
        switch type {
        case 0x0A0D_0D0A:
            interfaces = []
        case 1:
            // Interface Description: link type(2) reserved(2) snaplen(4) options.
            guard length >= 20 else {
                throw .malformed(path: path, offset: start, detail: "Interface Description Block too short")
            }
            var interface = Interface(linkType: LinkType(rawValue: UInt32(u16(8))), snapLength: u32(12))
            var option = 16
            while option + 4 <= length - 4 {
                let code = u16(option)
                let optionLength = Int(u16(option + 2))
                if code == 0 { break }
                guard option + 4 + optionLength <= length - 4 else { break }
                if code == 9 && optionLength >= 1 {  // if_tsresol
                    let value = buffer.load(fromByteOffset: option + 4, as: UInt8.self)
                    interface.decimal = value & 0x80 == 0
                    interface.exponent = value & 0x7f
                } else if code == 14 && optionLength >= 8 {  // if_tsoffset
                    interface.offsetSeconds = Int64(bitPattern: u64(option + 4))
                }
                option += 4 + (optionLength + 3) & ~3
            }
            guard interface.linkType.isDecodable else {
                throw .unsupportedLinkType(
                    path: path, linkType: interface.linkType, interface: interfaces.count)
            }
            interfaces.append(interface)
        default:
            break
        }
        return type
    }

    public func next() throws(CaptureError) -> PacketRecord? {
        while true {
            let start = bytesRead
            guard let type = try readBlock() else { return nil }
            let length = Int(bytesRead - start)
            var interfaceID: UInt32 = 0
            var timestamp: UInt64 = 0
            var captured = 0
            var original = 0
            var dataOffset = 0
            switch type {
            case 6:
                // Enhanced Packet: interface(4) ts high(4) ts low(4) caplen(4) len(4) data.
                guard length >= 32 else {
                    throw .malformed(path: path, offset: start, detail: "Enhanced Packet Block too short")
                }
                interfaceID = u32(8)
                timestamp = UInt64(u32(12)) << 32 | UInt64(u32(16))
                captured = Int(u32(20))
                original = Int(u32(24))
                dataOffset = 28
            case 3:
                // Simple Packet: len(4) data; interface 0, no timestamp.
                guard length >= 16 else {
                    throw .malformed(path: path, offset: start, detail: "Simple Packet Block too short")
                }
                original = Int(u32(8))
                captured = min(original, length - 16)
                if let snap = interfaces.first?.snapLength, snap > 0 { captured = min(captured, Int(snap)) }
                dataOffset = 12
            case 2:
                // Obsolete Packet: interface(2) drops(2) ts high(4) ts low(4) caplen(4) len(4) data.
                guard length >= 32 else {
                    throw .malformed(path: path, offset: start, detail: "Packet Block too short")
                }
                interfaceID = UInt32(u16(8))
                timestamp = UInt64(u32(12)) << 32 | UInt64(u32(16))
                captured = Int(u32(20))
                original = Int(u32(24))
                dataOffset = 28
            default:
                continue
            }
            guard Int(interfaceID) < interfaces.count else {
                throw .malformed(
                    path: path, offset: start,
                    detail: "packet on interface \(interfaceID), but only \(interfaces.count) described")
            }
            guard dataOffset + captured <= length - 4 else {
                throw .malformed(
                    path: path, offset: start, detail: "captured length \(captured) overruns its block")
            }
            recordCount += 1
            let interface = interfaces[Int(interfaceID)]
            return PacketRecord(
                index: recordCount, timestampNanoseconds: Self.nanoseconds(timestamp, interface),
                capturedLength: captured, originalLength: max(original, captured),
                linkType: interface.linkType == .raw ? .rawDLT : interface.linkType, interfaceID: interfaceID,
                bytes: UnsafeRawBufferPointer(start: buffer + dataOffset, count: captured))
        }
    }

    static func nanoseconds(_ units: UInt64, _ interface: Interface) -> Int64 {
        let offset = interface.offsetSeconds &* 1_000_000_000
        if interface.decimal {
            let exponent = Int(interface.exponent)
            if exponent <= 9 {
                var scale: UInt64 = 1
                for _ in 0..<(9 - exponent) { scale &*= 10 }
                return Int64(bitPattern: units &* scale) &+ offset
            }
            var divisor: UInt64 = 1
            for _ in 0..<min(exponent - 9, 19) { divisor &*= 10 }
            return Int64(bitPattern: units / divisor) &+ offset
        }
        let exponent = min(Int(interface.exponent), 63)
        let seconds = units >> UInt64(exponent)
        let fraction = units & ((1 << UInt64(exponent)) &- 1)
        let nanos = UInt64((Double(fraction) / Double(UInt64(1) << UInt64(exponent))) * 1e9)
        return Int64(bitPattern: seconds &* 1_000_000_000 &+ nanos) &+ offset
    }
}
