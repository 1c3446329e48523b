import Netfilter
import PacketCodec
import PacketModel

/// Flows and packets per verdict and per (direction, protocol, destination port, verdict):
/// what `iptsim replay` prints without `--json`. Bounded memory: one row per distinct port.
public struct ReplaySummary: Sendable {
    struct Row: Hashable {
        var verdict: Verdict
        var direction: FlowDirection
        var proto: IPProtocol
        var port: UInt16
        var socketPort: UInt16?
    }

    var rows: [Row: Counts] = [:]

    struct Counts {
        var flows = 0
        var packets = 0
    }

    /// Flows and packets per verdict.
    public var flowsByVerdict: [Verdict: Int] {
        rows.reduce(into: [:]) { $0[$1.key.verdict, default: 0] += $1.value.flows }
    }

    public var packetsByVerdict: [Verdict: Int] {
        rows.reduce(into: [:]) { $0[$1.key.verdict, default: 0] += $1.value.packets }
    }

    public init() {}

    public mutating func add(_ flow: FlowRecord) {
        let row = Row(
            verdict: flow.verdict.verdict, direction: flow.direction, proto: flow.proto,
            port: flow.destinationPort,
            socketPort: flow.verdict.socketPort)
        Self.bump(&rows[row, default: Counts()], flow.packets)
    }

    static func bump(_ counts: inout Counts, _ packets: Int) {
        counts.flows += 1
        counts.packets += packets
    }

    /// The table: verdict totals, then one line per port, flows that bypass the sidecar first.
    public func render(statistics: ReplayStatistics, podAddresses: [IPAddress], inferred: Bool) -> String {
        var text = "pod IPs: " + podAddresses.map(\.description).joined(separator: ", ")
        text += inferred ? " (inferred from the capture; set them with --pod-ip)\n" : "\n"
        text += "\(statistics.packets) packets, \(statistics.flows) flows"
        if let first = statistics.firstNanoseconds {
            let seconds = Double(statistics.lastNanoseconds - first) / 1e9
            text += " over \(Self.format(seconds)) s"
        }
        var notes: [String] = []
        if statistics.nonIP > 0 { notes.append("\(statistics.nonIP) not IP") }
        if statistics.truncated > 0 { notes.append("\(statistics.truncated) with truncated headers") }
        if statistics.malformed > 0 { notes.append("\(statistics.malformed) malformed") }
        if statistics.fragments > 0 {
            notes.append(
                "\(statistics.fragments) later fragments (\(statistics.fragmentsJoined) joined to their flow)"
            )
        }
        if statistics.icmpErrors > 0 {
            notes.append(
                "\(statistics.icmpErrors) ICMP errors (\(statistics.icmpErrorsRelated) related to a flow)")
        }
        text += notes.isEmpty ? "\n\n" : "; " + notes.joined(separator: ", ") + "\n\n"

        var table: [[String]] = [["verdict", "flows", "packets"]]
        let flowsByVerdict = flowsByVerdict
        let packetsByVerdict = packetsByVerdict
        for verdict in Verdict.allCases where flowsByVerdict[verdict] != nil {
            table.append([
                verdict.rawValue, String(flowsByVerdict[verdict] ?? 0),
                String(packetsByVerdict[verdict] ?? 0),
            ])
        }
        text += Self.columns(table, rightAligned: [1, 2]) + "\n"

        var ports: [[String]] = [["verdict", "direction", "proto", "dport", "socket", "flows", "packets"]]
        let ordered = rows.sorted { lhs, rhs in
            if lhs.key.verdict != rhs.key.verdict { return lhs.key.verdict < rhs.key.verdict }
            if lhs.value.flows != rhs.value.flows { return lhs.value.flows > rhs.value.flows }
            if lhs.key.direction != rhs.key.direction {
                return lhs.key.direction.rawValue < rhs.key.direction.rawValue
            }
            if lhs.key.proto != rhs.key.proto { return lhs.key.proto.rawValue < rhs.key.proto.rawValue }
            return lhs.key.port < rhs.key.port
        }
        for (row, counts) in ordered {
            ports.append([
                row.verdict.rawValue, row.direction.rawValue, row.proto.description,
                row.proto == .tcp || row.proto == .udp ? String(row.port) : "-",
                row.socketPort.map(String.init) ?? "-", String(counts.flows), String(counts.packets),
            ])
        }
        text += Self.columns(ports, rightAligned: [3, 4, 5, 6])
        return text
    }

    static func format(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func columns(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        guard let width = rows.first?.count else { return "" }
        let widths = (0..<width).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

/// One JSON object per flow (JSON Lines), keys in a fixed order:
/// `{"proto","src","sport","dst","dport","direction","uid","verdict","socket_port","orig_dst","packets","first_rule"}`,
/// plus `"interface"` when the capture names one (LINUX_SLL2 index mapped with `--ifindex`).
public enum FlowJSON {
    public static func line(_ flow: FlowRecord, interfaceNames: [UInt32: String] = [:]) -> String {
        var text = "{\"proto\":\(jsonQuote(flow.proto.description))"
        text += ",\"src\":\(jsonQuote(flow.source.description)),\"sport\":\(flow.sourcePort)"
        text += ",\"dst\":\(jsonQuote(flow.destination.description)),\"dport\":\(flow.destinationPort)"
        text += ",\"direction\":\(jsonQuote(flow.direction.rawValue))"
        text += ",\"uid\":" + (flow.uid.map(String.init) ?? "null")
        if let gid = flow.gid, gid != flow.uid { text += ",\"gid\":\(gid)" }
        text += ",\"verdict\":\(jsonQuote(flow.verdict.verdict.rawValue))"
        text += ",\"socket_port\":" + (flow.verdict.socketPort.map(String.init) ?? "null")
        text += ",\"orig_dst\":" + (flow.originalDestination.map(jsonQuote) ?? "null")
        text += ",\"packets\":\(flow.packets)"
        text += ",\"first_rule\":" + (flow.verdict.firstRule.map(jsonQuote) ?? "null")
        if flow.loopbackLegPackets > 0 { text += ",\"lo_leg_packets\":\(flow.loopbackLegPackets)" }
        if let index = flow.interfaceIndex {
            text += ",\"interface\":" + jsonQuote(interfaceNames[index] ?? "if\(index)")
        }
        return text + "}"
    }

}

/// Guesses the pod's addresses from the start of a capture: the address (per family) that takes
/// part in the most connection starts (TCP SYNs, UDP datagrams). Loopback, multicast and
/// link-local addresses are never guessed.
public struct PodAddressGuess: Sendable {
    var counts: [IPAddress: Int] = [:]
    public private(set) var packets = 0

    public init() {}

    public mutating func add(_ packet: DecodedPacket) {
        packets += 1
        guard let ip = packet.ip else { return }
        let starts: Bool
        switch ip.proto {
        case .tcp:
            guard let flags = packet.transport?.tcpFlags else { return }
            starts = flags.contains(.syn)
        case .udp: starts = true
        default: starts = false
        }
        guard starts else { return }
        for address in [ip.source, ip.destination] where Self.candidate(address) {
            counts[address, default: 0] += 1
        }
    }

    static func candidate(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let v4):
            return !v4.isLoopback && v4.value >> 28 != 0xe && v4.value != .max && v4.value != 0
        case .v6(let v6):
            return !v6.isLoopback && v6.high >> 56 != 0xff && v6.high >> 54 != 0x3fa && v6 != .any
        }
    }

    /// The best IPv4 and the best IPv6 candidate (either may be missing).
    public var addresses: [IPAddress] {
        var best: [IPFamily: (IPAddress, Int)] = [:]
        for (address, count) in counts {
            if let current = best[address.family],
                current.1 > count || (current.1 == count && current.0 < address)
            {
                continue
            }
            best[address.family] = (address, count)
        }
        return [IPFamily.ipv4, .ipv6].compactMap { best[$0]?.0 }
    }
}
