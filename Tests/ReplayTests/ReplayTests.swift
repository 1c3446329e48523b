import Foundation
import IptsimCLI
import IstioIptablesCLI
import Netfilter
import PacketCodec
import PacketModel
import PcapIO
import Replay
import Testing

struct LabMachine: Machine {
    func userID(named name: String) -> String? { nil }
    func interfaceAddresses() throws -> [IPAddress] { [.v4(IPv4Address(10, 44, 0, 2))] }
    func resolvConf() throws -> String { "nameserver 10.96.0.10\n" }
}

let lab = [
    "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d",
    "15090,15021,15020",
]
let pod = IPAddress.v4(IPv4Address(10, 44, 0, 2))
let peer = IPAddress.v4(IPv4Address(10, 44, 1, 7))
let remote = IPAddress.v4(IPv4Address(93, 184, 216, 34))
let dns = IPAddress.v4(IPv4Address(10, 96, 0, 10))

/// A conversation between two endpoints, as frames with timestamps.
struct Traffic {
    var frames: [(Int64, [UInt8])] = []
    var clock: Int64 = 1_700_000_000_000_000_000

    mutating func add(_ datagram: [UInt8], after seconds: Double = 0.001, sll2 interface: UInt32? = nil) {
        clock += Int64(seconds * 1e9)
        let frame =
            interface.map { PacketEncoder.linuxSLL2(datagram, interfaceIndex: $0) }
            ?? PacketEncoder.ethernet(datagram)
        frames.append((clock, frame))
    }

    /// SYN, SYN-ACK, ACK, one request and answer, FIN both ways.
    mutating func tcp(
        _ client: IPAddress, _ sport: UInt16, _ server: IPAddress, _ dport: UInt16,
        after seconds: Double = 0.001,
        sll2: UInt32? = nil
    ) {
        let steps: [(Bool, TCPFlags, Int)] = [
            (true, .syn, 0), (false, [.syn, .ack], 0), (true, .ack, 0), (true, [.psh, .ack], 100),
            (false, [.psh, .ack], 300), (true, [.fin, .ack], 0), (false, [.fin, .ack], 0), (true, .ack, 0),
        ]
        for (index, (fromClient, flags, size)) in steps.enumerated() {
            let datagram = PacketEncoder.ip(
                source: fromClient ? client : server, destination: fromClient ? server : client,
                transport: .tcp(
                    sourcePort: fromClient ? sport : dport, destinationPort: fromClient ? dport : sport,
                    flags: flags),
                payload: [UInt8](repeating: 0x61, count: size))
            add(datagram, after: index == 0 ? seconds : 0.0001, sll2: sll2)
        }
    }

    mutating func udp(
        _ client: IPAddress, _ sport: UInt16, _ server: IPAddress, _ dport: UInt16, reply: Bool = true
    ) {
        add(
            PacketEncoder.ip(
                source: client, destination: server,
                transport: .udp(sourcePort: sport, destinationPort: dport),
                payload: [1, 2, 3]))
        if reply {
            add(
                PacketEncoder.ip(
                    source: server, destination: client,
                    transport: .udp(sourcePort: dport, destinationPort: sport),
                    payload: [4, 5, 6]))
        }
    }

    func write(_ path: String, linkType: LinkType = .ethernet) throws {
        let writer = try PcapWriter(path: path, linkType: linkType)
        for (timestamp, frame) in frames { writer.write(timestampNanoseconds: timestamp, bytes: frame) }
        writer.close()
    }
}

final class Scratch {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
    init() { try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

struct Run {
    var stdout = ""
    var stderr = ""
    var status: Int32 = 0

    var flows: [[String: Any]] {
        stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    func flow(dport: Int, proto: String = "tcp") -> [String: Any]? {
        flows.first { $0["dport"] as? Int == dport && $0["proto"] as? String == proto }
    }
}

func replay(
    _ captures: [String], podIPs: [String] = ["10.44.0.2"], json: Bool = true, arguments: [String] = lab,
    configure: (inout ReplayRun.Options) -> Void = { _ in }
) -> Run {
    var options = ReplayRun.Options(captures: captures)
    options.podIPs = podIPs
    options.arguments = arguments
    options.json = json
    configure(&options)
    let out = OutputBox()
    let status = ReplayRun.run(
        options, environment: [:], machine: LabMachine(), stdout: { out.stdout += $0 },
        stderr: { out.stderr += $0 })
    return Run(stdout: out.stdout, stderr: out.stderr, status: status)
}

final class OutputBox: @unchecked Sendable {
    var stdout = ""
    var stderr = ""
}

/// `iptsim replay` on the lab's rules: one verdict per flow, as the trace gives it.
@Suite struct ReplayTests {
    @Test func labFlowsGetTheirVerdicts() throws {
        let scratch = Scratch()
        var traffic = Traffic()
        traffic.tcp(pod, 40001, remote, 80)  // the app's outbound HTTP
        traffic.tcp(peer, 50000, pod, 8080)  // inbound to the app
        traffic.tcp(peer, 50001, pod, 15021)  // kubelet's health check, excluded
        traffic.udp(pod, 33333, dns, 53)  // DNS without --redirect-dns
        traffic.tcp(peer, 50002, pod, 15090)  // Prometheus, excluded
        let path = scratch.path("lab.pcap")
        try traffic.write(path)
        let run = replay([path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.flows.count == 5)
        let outbound = try #require(run.flow(dport: 80))
        #expect(outbound["verdict"] as? String == "envoy-outbound")
        #expect(outbound["direction"] as? String == "outbound")
        #expect(outbound["socket_port"] as? Int == 15001)
        #expect(outbound["orig_dst"] as? String == "93.184.216.34:80")
        #expect(outbound["uid"] as? Int == 1000)
        #expect(outbound["packets"] as? Int == 8)
        #expect(outbound["src"] as? String == "10.44.0.2")
        #expect(outbound["sport"] as? Int == 40001)
        #expect(outbound["first_rule"] as? String == "-A OUTPUT -j ISTIO_OUTPUT")
        let inbound = try #require(run.flow(dport: 8080))
        #expect(inbound["verdict"] as? String == "envoy-inbound")
        #expect(inbound["direction"] as? String == "inbound")
        #expect(inbound["socket_port"] as? Int == 15006)
        #expect(inbound["uid"] is NSNull)
        #expect(run.flow(dport: 15021)?["verdict"] as? String == "direct")
        #expect(run.flow(dport: 15090)?["verdict"] as? String == "direct")
        #expect(run.flow(dport: 53, proto: "udp")?["verdict"] as? String == "direct")
        #expect(run.flow(dport: 53, proto: "udp")?["packets"] as? Int == 2)
        // The JSON keys come in the documented order.
        let first = try #require(run.stdout.split(separator: "\n").first)
        #expect(
            first.hasPrefix(
                "{\"proto\":\"tcp\",\"src\":\"10.44.0.2\",\"sport\":40001,\"dst\":\"93.184.216.34\",\"dport\":80,\"direction\":\"outbound\",\"uid\":1000,\"verdict\":\"envoy-outbound\",\"socket_port\":15001,\"orig_dst\":\"93.184.216.34:80\",\"packets\":8,\"first_rule\":"
            ))
    }

    @Test func dnsCaptureLandsOnTheAgent() throws {
        let scratch = Scratch()
        var traffic = Traffic()
        traffic.udp(pod, 33333, dns, 53)
        traffic.tcp(pod, 40002, remote, 443)
        let path = scratch.path("dns.pcap")
        try traffic.write(path)
        let run = replay([path], arguments: lab + ["--redirect-dns", "--dns-servers-v4", "10.96.0.10"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.flow(dport: 53, proto: "udp")?["verdict"] as? String == "dns-agent")
        #expect(run.flow(dport: 53, proto: "udp")?["socket_port"] as? Int == 15053)
        #expect(run.flow(dport: 443)?["verdict"] as? String == "envoy-outbound")
    }

    @Test func summaryListsBypassingFlowsFirst() throws {
        let scratch = Scratch()
        var traffic = Traffic()
        traffic.tcp(pod, 40001, remote, 80)
        traffic.tcp(pod, 40002, remote, 80)
        traffic.tcp(peer, 50001, pod, 15021)
        let path = scratch.path("summary.pcap")
        try traffic.write(path)
        let run = replay([path], json: false)
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "pod IPs: 10.44.0.2")
        #expect(lines.contains { $0.hasPrefix("24 packets, 3 flows") })
        let ports = try #require(lines.firstIndex { $0.hasPrefix("verdict") && $0.contains("direction") })
        #expect(lines[ports + 1].hasPrefix("direct") && lines[ports + 1].contains("inbound"), "\(run.stdout)")
        #expect(lines[ports + 2].hasPrefix("envoy-outbound") && lines[ports + 2].contains(" outbound "))
        #expect(lines[ports + 2].hasSuffix("2       16"), "\(run.stdout)")
    }

    @Test func podIPIsInferredWhenNotGiven() throws {
        let scratch = Scratch()
        var traffic = Traffic()
        traffic.tcp(pod, 40001, remote, 80)
        traffic.tcp(peer, 50000, pod, 8080)
        traffic.tcp(pod, 40003, dns, 443)
        let path = scratch.path("infer.pcap")
        try traffic.write(path)
        let run = replay([path], podIPs: [], json: false)
        #expect(run.status == 0)
        #expect(run.stderr.contains("pod IPs inferred from the capture: 10.44.0.2"))
        #expect(run.stdout.contains("(inferred from the capture; set them with --pod-ip)"))
    }

    @Test func interfaceIndexIsNamed() throws {
        let scratch = Scratch()
        var traffic = Traffic()
        traffic.tcp(pod, 40001, remote, 80, sll2: 2)
        let path = scratch.path("any.pcap")
        try traffic.write(path, linkType: .linuxSLL2)
        let run = replay([path]) { $0.interfaceNames = "1=lo,2=eth0" }
        #expect(run.flow(dport: 80)?["interface"] as? String == "eth0")
        let bad = replay([path]) { $0.interfaceNames = "eth0" }
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("--ifindex: 'eth0' is not INDEX=NAME"))
    }

    @Test func truncatedLastRecordIsAWarningAndFlowsCount() throws {
        let scratch = Scratch()
        var traffic = Traffic()
        traffic.tcp(pod, 40001, remote, 80)
        let path = scratch.path("cut.pcap")
        try traffic.write(path)
        let bytes = try #require(FileManager.default.contents(atPath: path))
        FileManager.default.createFile(atPath: path, contents: bytes.dropLast(5))
        let run = replay([path])
        #expect(run.status == 0)
        #expect(run.stderr.contains("warning: \(path): record 8 at byte offset"))
        #expect(run.flow(dport: 80)?["packets"] as? Int == 7)
    }

    @Test func badInputsFailWithTheirReason() throws {
        let scratch = Scratch()
        let text = scratch.path("rules.txt")
        FileManager.default.createFile(atPath: text, contents: Data("*nat\nCOMMIT\n".utf8))
        let missing = replay([scratch.path("nope.pcap")])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: \(scratch.path("nope.pcap")): no such file\n")
        #expect(missing.stdout.isEmpty)
        let notCapture = replay([text])
        #expect(notCapture.status == 1)
        #expect(notCapture.stderr.contains("not a pcap or pcapng capture (it looks like text"))
        let badFilter = replay([text]) { $0.filter = "port (" }
        #expect(badFilter.status == 1)
        #expect(badFilter.stderr.contains("--filter 'port ('"))
        let badPod = replay([text], podIPs: ["10.44.0"])
        #expect(badPod.stderr == "error: --pod-ip: not an address: 10.44.0\n")
    }

    @Test func filterSelectsPackets() throws {
        let scratch = Scratch()
        var traffic = Traffic()
        traffic.tcp(pod, 40001, remote, 80)
        traffic.udp(pod, 33333, dns, 53)
        let path = scratch.path("filter.pcap")
        try traffic.write(path)
        let run = replay([path]) { $0.filter = "udp" }
        #expect(run.flows.count == 1)
        #expect(run.flows.first?["proto"] as? String == "udp")
    }

    @Test func severalCapturesAreOneStream() throws {
        let scratch = Scratch()
        var first = Traffic()
        first.tcp(pod, 40001, remote, 80)
        var second = Traffic()
        second.clock = first.clock
        second.tcp(pod, 40001, remote, 80, after: 0.5)
        try first.write(scratch.path("a.pcap"))
        try second.write(scratch.path("b.pcap"))
        let run = replay([scratch.path("a.pcap"), scratch.path("b.pcap")])
        // The same 5-tuple within the TIME_WAIT timeout: one flow (as conntrack would keep it).
        #expect(run.flows.count == 1)
        #expect(run.flows.first?["packets"] as? Int == 16)
    }

    @Test func ipv6FlowsUseTheIPv6Rules() throws {
        let scratch = Scratch()
        let pod6 = IPAddress.v6(IPv6Address(high: 0xfd00_0044_0000_0000, low: 2))
        let remote6 = IPAddress.v6(IPv6Address(high: 0x2606_2800_0220_0001, low: 0x0248_1893_25c8_1946))
        var traffic = Traffic()
        traffic.tcp(pod6, 40001, remote6, 443)
        traffic.tcp(pod, 40002, remote, 443)
        let path = scratch.path("v6.pcap")
        try traffic.write(path)
        let run = replay(
            [path], podIPs: ["10.44.0.2", "fd00:44::2"], arguments: lab + ["--enable-ipv6=true"])
        #expect(run.status == 0, "\(run.stderr)")
        let v6 = try #require(run.flows.first { ($0["dst"] as? String)?.contains(":") ?? false })
        #expect(v6["verdict"] as? String == "envoy-outbound")
        #expect(v6["orig_dst"] as? String == "[2606:2800:220:1:248:1893:25c8:1946]:443")
    }
}
