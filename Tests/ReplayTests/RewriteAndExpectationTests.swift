import Foundation
import Netfilter
import PacketCodec
import PacketModel
import Testing

@testable import IptsimCLI
@testable import Replay

private func address(_ text: String) -> IPAddress { try! IPAddress.parse(text).get() }

/// `--write-pcap`: a rewritten frame is byte for byte the frame built with the new address and
/// port, checksums included.
@Suite struct PacketRewriterTests {
    func frame(_ source: String, _ sport: UInt16, _ destination: String, _ dport: UInt16, udp: Bool = false)
        -> [UInt8]
    {
        let transport: PacketEncoder.Transport =
            udp
            ? .udp(sourcePort: sport, destinationPort: dport)
            : .tcp(sourcePort: sport, destinationPort: dport, flags: [.syn], sequence: 7)
        return PacketEncoder.ethernet(
            PacketEncoder.ip(
                source: address(source), destination: address(destination), transport: transport,
                payload: Array("payload!".utf8), identification: 42))
    }

    static let cases: [(String, UInt16, String, UInt16, Bool, Translation, String, UInt16, String, UInt16)] =
        [
            // REDIRECT in OUTPUT: towards Envoy's outbound listener.
            (
                "10.44.0.2", 40000, "93.184.216.34", 80, false,
                Translation(rewritesDestination: true, address: address("127.0.0.1"), port: 15001),
                "10.44.0.2", 40000, "127.0.0.1", 15001
            ),
            // Envoy's answer before un-NAT.
            (
                "93.184.216.34", 80, "10.44.0.2", 40000, false,
                Translation(rewritesDestination: false, address: address("127.0.0.1"), port: 15001),
                "127.0.0.1", 15001, "10.44.0.2", 40000
            ),
            // The DNS agent, UDP.
            (
                "10.44.0.2", 5000, "10.96.0.10", 53, true,
                Translation(rewritesDestination: true, address: address("127.0.0.1"), port: 15053),
                "10.44.0.2", 5000, "127.0.0.1", 15053
            ),
            // IPv6 inbound REDIRECT.
            (
                "fd00::1", 5555, "fd00::2", 8080, false,
                Translation(rewritesDestination: true, address: address("fd00::3"), port: 15006),
                "fd00::1", 5555, "fd00::3", 15006
            ),
        ]

    @Test(arguments: cases.indices)
    func rewrittenEqualsBuilt(_ index: Int) {
        let (s, sp, d, dp, udp, translation, es, esp, ed, edp) = Self.cases[index]
        var bytes = frame(s, sp, d, dp, udp: udp)
        let packet = PacketDecoder.decode(bytes, linkType: .ethernet)
        #expect(PacketRewriter.apply(translation, to: &bytes, packet))
        #expect(bytes == frame(es, esp, ed, edp, udp: udp))
    }

    @Test func aCutPacketIsLeftAlone() {
        var bytes = Array(frame("10.44.0.2", 40000, "93.184.216.34", 80).prefix(40))
        let before = bytes
        let packet = PacketDecoder.decode(bytes, linkType: .ethernet)
        #expect(
            !PacketRewriter.apply(
                Translation(rewritesDestination: true, address: address("127.0.0.1"), port: 15001),
                to: &bytes,
                packet))
        #expect(bytes == before)
    }
}

@Suite struct ExpectationTests {
    func flow(_ direction: FlowDirection, _ dport: UInt16, _ verdict: Verdict, uid: UInt32? = nil)
        -> FlowRecord
    {
        FlowRecord(
            proto: .tcp, source: address("10.44.0.2"), sourcePort: 40000, destination: address("10.1.2.3"),
            destinationPort: dport, direction: direction, verdict: FlowVerdict(verdict: verdict), uid: uid,
            packets: 3,
            replyPackets: 1, relatedPackets: 0, firstSeenNanoseconds: 0, lastSeenNanoseconds: 0,
            interfaceIndex: nil,
            firstTCPFlags: [.syn])
    }

    func check(_ yaml: String, _ flows: [FlowRecord]) throws -> ExpectationCheck {
        var check = ExpectationCheck(try ExpectationsFile.parse(yaml, path: "expect.yaml"))
        for flow in flows { check.check(flow) }
        return check
    }

    let yaml = """
        - match: {direction: outbound, dport: 3306}
          verdict: direct
        - match: {direction: inbound, dport: "!15020,15021,15090"}
          verdict: envoy-inbound
        - match: {direction: outbound, dport: "8000-8999", uid: 1337}
          verdict: direct
          optional: true
        """

    @Test func metWhenEverySelectedFlowHasTheVerdict() throws {
        let result = try check(
            yaml,
            [
                flow(.outbound, 3306, .direct), flow(.inbound, 8080, .envoyInbound),
                flow(.inbound, 15021, .direct),
            ])
        #expect(result.passed, "\(result.report())")
        #expect(result.matched == [1, 1, 0])
    }

    @Test func aDifferentVerdictIsReportedAsADiff() throws {
        let result = try check(yaml, [flow(.outbound, 3306, .envoyOutbound), flow(.inbound, 9090, .direct)])
        #expect(!result.passed)
        #expect(result.mismatchCount == 2)
        let report = result.report()
        #expect(
            report.contains("expect.yaml:1:3: {direction: outbound, dport: 3306}\n- direct\n+ envoy-outbound")
        )
        #expect(report.contains("+ direct  inbound tcp 10.44.0.2:40000 -> 10.1.2.3:9090"))
    }

    @Test func anExpectationThatSelectsNothingFails() throws {
        let result = try check(yaml, [flow(.inbound, 8080, .envoyInbound)])
        #expect(!result.passed)
        #expect(result.unmet.map(\.text) == ["direction: outbound, dport: 3306"])
        #expect(result.report().contains("matched no flow"))
    }

    @Test func uidSelectsOnlyFlowsWithThatOwner() throws {
        let result = try check(
            "- match: {uid: 1337}\n  verdict: direct\n",
            [flow(.outbound, 80, .envoyOutbound, uid: 1000), flow(.outbound, 81, .direct, uid: 1337)])
        #expect(result.passed)
        #expect(result.matched == [1])
    }

    @Test(arguments: [
        ("- match: {dport: 80}\n", "expect.yaml:1:3: verdict: missing"),
        (
            "- match: {dport: 80}\n  verdict: teleported\n",
            "expect.yaml:2:12: verdict teleported is not one of"
        ),
        ("- match: {port: 80}\n  verdict: direct\n", "unknown selector port"),
        ("- match: {dport: 99999}\n  verdict: direct\n", "expect.yaml:1:18: dport: cannot read 99999"),
        ("- match: {direction: sideways}\n  verdict: direct\n", "direction: cannot read sideways"),
        ("match: {dport: 80}\n", "expected a list"),
        ("- match: {dport: 80\n", "malformed YAML"),
    ])
    func badFilesSayWhere(_ yaml: String, _ message: String) {
        do {
            _ = try ExpectationsFile.parse(yaml, path: "expect.yaml")
            Issue.record("parsed: \(yaml)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}

@Suite struct OwnerRuleTests {
    @Test func selectorsPickTheFlow() throws {
        let rule = try OwnerRule("sport=15000-15100,dst=10.96.0.0/12,uid=1337")
        #expect(rule.uid == 1337 && rule.gid == 1337)
        #expect(
            rule.matches(
                initiator: address("10.44.0.2"), initiatorPort: 15050, responder: address("10.96.0.10"),
                responderPort: 53))
        #expect(
            !rule.matches(
                initiator: address("10.44.0.2"), initiatorPort: 40000, responder: address("10.96.0.10"),
                responderPort: 53))
        #expect(try OwnerRule("uid=0,gid=1337").gid == 1337)
    }

    @Test(arguments: [
        "sport=1-2", "uid=x", "sport=9-1,uid=1", "colour=red,uid=1", "dst=10.0.0.0/33,uid=1", "uid",
    ])
    func badRulesAreRefused(_ text: String) {
        #expect(throws: OwnerRule.Failure.self) { try OwnerRule(text) }
    }
}

@Suite struct LoopbackLegJoinerTests {
    func record(
        _ direction: FlowDirection, _ source: String, _ sport: UInt16, _ destination: String, _ dport: UInt16,
        landedOn local: (String, UInt16)? = nil, packets: Int = 3
    ) -> FlowRecord {
        var verdict = FlowVerdict(verdict: local == nil ? .direct : .envoyOutbound, socketPort: local?.1)
        verdict.localAddress = local.map { address($0.0) }
        verdict.localPort = local?.1
        return FlowRecord(
            proto: .tcp, source: address(source), sourcePort: sport, destination: address(destination),
            destinationPort: dport, direction: direction, verdict: verdict, uid: 1000, packets: packets,
            replyPackets: 1,
            relatedPackets: 0, firstSeenNanoseconds: 0, lastSeenNanoseconds: 0, interfaceIndex: nil,
            firstTCPFlags: [.syn])
    }

    @Test(arguments: [false, true])
    func theRedirectedLegJoinsItsFlowInEitherOrder(_ legFirst: Bool) {
        var out: [FlowRecord] = []
        let joiner = LoopbackLegJoiner { out.append($0) }
        let leg = record(.loopback, "10.44.0.2", 40000, "127.0.0.1", 15001, packets: 4)
        let flow = record(.outbound, "10.44.0.2", 40000, "93.184.216.34", 80, landedOn: ("127.0.0.1", 15001))
        let other = record(.outbound, "10.44.0.2", 40001, "93.184.216.34", 443)
        for item in legFirst ? [leg, flow, other] : [flow, other, leg] { joiner.add(item) }
        joiner.finish()
        #expect(out.count == 2)
        let joined = out.first { $0.destinationPort == 80 }
        #expect(joined?.packets == 7 && joined?.loopbackLegPackets == 4)
        #expect(joiner.joined == 1)
    }

    @Test func aLegToAnotherSocketStaysAFlowOfItsOwn() {
        var out: [FlowRecord] = []
        let joiner = LoopbackLegJoiner(capacity: 2) { out.append($0) }
        joiner.add(record(.loopback, "10.44.0.2", 40000, "127.0.0.1", 15006))
        joiner.add(record(.outbound, "10.44.0.2", 40000, "93.184.216.34", 80, landedOn: ("127.0.0.1", 15001)))
        for port in UInt16(1)...5 { joiner.add(record(.loopback, "10.44.0.2", port, "127.0.0.1", 15001)) }
        joiner.finish()
        #expect(out.count == 7)
        #expect(joiner.joined == 0)
    }
}

/// The real captures of Captures/ through `iptsim replay` with the options a user combines.
@Suite struct CaptureReplayTests {
    static let captures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Captures/lab-redirect"
        ).path
    static let lab = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/lab").path

    @Test func nflogCaptureMeetsTheKernelsExpectations() {
        let run = replay([Self.captures + "/nflog.pcap"], podIPs: [], arguments: []) {
            $0.scenario = Self.captures + "/scenario.json"
            $0.expectations = Self.captures + "/expect-nflog.yaml"
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("expectations: all"))
    }

    @Test func aWrongExpectationFailsWithADiff() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wrong-expect.yaml").path
        try "- match: {direction: outbound, dport: 80, uid: 1337}\n  verdict: envoy-outbound\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = replay([Self.captures + "/nflog.pcap"], podIPs: [], arguments: []) {
            $0.scenario = Self.captures + "/scenario.json"
            $0.expectations = path
        }
        #expect(run.status == 1)
        #expect(run.stderr.contains("- envoy-outbound\n+ direct  outbound tcp 10.44.0.2:"), "\(run.stderr)")
    }

    @Test func aPodManifestIsARuleSource() throws {
        guard FileManager.default.fileExists(atPath: Self.lab) else {
            print("skipped: \(Self.lab) is absent (the shared lab fixtures)")
            return
        }
        let run = replay([Self.captures + "/eth0.pcap"], arguments: []) {
            $0.podManifest = Self.lab + "/httpbin-pod-injected.yaml"
        }
        #expect(run.status == 0, "\(run.stderr)")
        let inbound = run.flows.first { $0["dport"] as? Int == 8080 && $0["proto"] as? String == "tcp" }
        #expect(inbound?["verdict"] as? String == "envoy-inbound")
    }
}
