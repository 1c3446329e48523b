import IptsimCLI
import IstioIptablesCLI
import PacketModel
import Testing

struct LabMachine: Machine {
    func userID(named name: String) -> String? { nil }
    func interfaceAddresses() throws -> [IPAddress] { [.v4(IPv4Address(10, 44, 0, 2))] }
    func resolvConf() throws -> String { "nameserver 10.96.0.10\n" }
}

/// `iptsim trace` on the lab's command line: the verdict line and the rule (with the flag) behind it.
@Suite struct TraceTests {
    static let lab = [
        "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d",
        "15090,15021,15020",
    ]

    func trace(_ flow: String, _ extra: [String] = [], json: Bool = false) -> TraceReport.Output {
        TraceReport.run(
            podIP: "10.44.0.2", flow: flow, rulesFile: nil, arguments: Self.lab + extra, environment: [:],
            json: json,
            machine: LabMachine())
    }

    @Test(arguments: [
        (
            "inbound tcp :80",
            "captured by Envoy's inbound listener on 10.44.0.2:15006 (original destination 10.44.0.2:80)",
            "--inbound-capture-port=15006"
        ),
        (
            "inbound tcp :15021",
            "reaches Envoy/istio-agent's own port 10.44.0.2:15021 directly (not redirected)",
            "--istio-local-exclude-ports=15090,15021,15020"
        ),
        (
            "outbound tcp 93.184.216.34:80 uid=1000",
            "captured by Envoy's outbound listener on 127.0.0.1:15001 (original destination 93.184.216.34:80)",
            "--envoy-port=15001"
        ),
        (
            "outbound tcp 93.184.216.34:80 uid=1337",
            "not captured: leaves the pod directly to 93.184.216.34:80", "--proxy-uid=1337"
        ),
        (
            "outbound tcp 10.44.0.2:8080 uid=1000",
            "not captured: reaches the app on 10.44.0.2:8080 directly", "--proxy-uid=1337"
        ),
    ])
    func labFlowsAreExplained(_ flow: String, _ verdict: String, _ flag: String) {
        let output = trace(flow)
        #expect(output.exitCode == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix(verdict) ?? false, "\(lines.first ?? "")")
        #expect(lines.count > 2 && lines[2].contains(flag), "\(output.stdout)")
    }

    @Test func dnsQueryWithAndWithoutCapture() {
        let plain = trace("outbound udp 10.96.0.10:53 uid=1000")
        #expect(plain.stdout.hasPrefix("outbound udp 10.44.0.2 -> 10.96.0.10:53 as uid 1000: not captured"))
        #expect(
            plain.stdout.contains(
                "nothing in nat ISTIO_REDIRECT matched (-p tcp -j REDIRECT --to-ports 15001)"))
        let captured = trace("outbound udp 10.96.0.10:53 uid=1000", ["--redirect-dns"])
        #expect(
            captured.stdout.contains(
                "captured by istio-agent's DNS proxy on 127.0.0.1:15053 (original destination 10.96.0.10:53)")
        )
        #expect(captured.stdout.contains("--redirect-dns=true"))
    }

    @Test func everyRuleVisitedIsListedAndJSONHasASchema() {
        let output = trace("outbound tcp 93.184.216.34:80 uid=1000")
        #expect(output.stdout.contains("nat OUTPUT:"))
        #expect(
            output.stdout.contains(
                "· ISTIO_OUTPUT #2  ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT"
            ))
        let json = trace("outbound tcp 93.184.216.34:80 uid=1000", json: true)
        #expect(json.stdout.contains("\"schema\" : \"iptsim.trace/v1\""))
    }

    @Test func badFlowsAreErrors() {
        #expect(trace("outbound tcp nowhere").exitCode == 1)
        #expect(trace("outbound tcp 1.2.3.4:80 color=red").stderr.contains("unknown color="))
    }
}
