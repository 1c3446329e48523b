import CPcap
import PacketCodec

/// A BPF filter expression (tcpdump syntax), compiled by libpcap (`pcap_compile` on a
/// `pcap_open_dead` handle) once per link type and run with `pcap_offline_filter`.
public final class PacketFilter {
    public let expression: String
    var programs: [UInt32: UnsafeMutablePointer<bpf_program>] = [:]
    /// The last program used: packets of one file almost always share a link type.
    var last: (UInt32, UnsafeMutablePointer<bpf_program>)?

    public init(expression: String) {
        self.expression = expression
    }

    deinit {
        for program in programs.values {
            pcap_freecode(program)
            program.deallocate()
        }
    }

    /// Compiles the expression for a link type; a bad expression throws libpcap's message.
    func program(for linkType: LinkType) throws(CaptureError) -> UnsafeMutablePointer<bpf_program> {
        let dlt = linkType.dltValue
        if let last, last.0 == dlt { return last.1 }
        if let program = programs[dlt] {
            last = (dlt, program)
            return program
        }
        guard let dead = pcap_open_dead(Int32(dlt), 262_144) else {
            throw .badFilter(expression: expression, linkType: linkType, message: "pcap_open_dead failed")
        }
        defer { pcap_close(dead) }
        let program = UnsafeMutablePointer<bpf_program>.allocate(capacity: 1)
        program.initialize(to: bpf_program())
        guard pcap_compile(dead, program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            let message = String(cString: pcap_geterr(dead))
            program.deallocate()
            throw .badFilter(expression: expression, linkType: linkType, message: message)
        }
        programs[dlt] = program
        last = (dlt, program)
        return program
    }

    /// Whether the packet passes the filter.
    public func matches(_ record: PacketRecord) throws(CaptureError) -> Bool {
        let program = try program(for: record.linkType)
        var header = pcap_pkthdr()
        header.caplen = UInt32(record.capturedLength)
        header.len = UInt32(record.originalLength)
        guard let base = record.bytes.baseAddress else { return false }
        return pcap_offline_filter(program, &header, base.assumingMemoryBound(to: UInt8.self)) != 0
    }

    /// Checks the expression's syntax for a link type without a file.
    public static func validate(_ expression: String, linkType: LinkType = .ethernet) throws(CaptureError) {
        _ = try PacketFilter(expression: expression).program(for: linkType)
    }
}
