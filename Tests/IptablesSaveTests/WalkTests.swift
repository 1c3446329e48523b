import IptablesSave
import IstioCapture
import IstioIptablesCLI
import Netfilter
import PacketModel
import Testing

/// The lab's rules, walked packet by packet (the nat decisions a simulator builds on).
@Suite struct WalkTests {
    static func tables(_ extra: [String] = []) throws -> RuleTables {
        let arguments =
            [
                "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*",
                "-d", "15090,15021,15020", "--enable-ipv6=false",
            ] + extra
        let result = try IstioIptablesCommand(environment: [:], machine: FixedMachine()).ruleSet(arguments)
            .get()
        let text = RuleText.restore(result.rules.v4, layout: result.release.layout)
        return try RuleTables(try RestoreParser.parse(text).get())
    }

    static let pod = IPAddress.v4(IPv4Address(10, 44, 0, 2))
    static let external = IPAddress.v4(IPv4Address(93, 184, 216, 34))

    func outbound(
        _ tables: RuleTables, to destination: IPAddress, port: UInt16, uid: UInt32, proto: IPProtocol = .tcp,
        out: String = "eth0"
    ) -> Walk {
        let packet = PacketHeader(
            proto: proto, source: Self.pod, sourcePort: 40000, destination: destination,
            destinationPort: port, tcpFlags: ["SYN"])
        let context = PacketContext(
            hook: .output, outInterface: out, socketUID: uid, socketGID: uid, localAddresses: [Self.pod])
        return ChainWalker(rules: tables).walk(.nat, hook: .output, packet: packet, context: context)
    }

    func inbound(_ tables: RuleTables, port: UInt16) -> Walk {
        let packet = PacketHeader(
            proto: .tcp, source: .v4(IPv4Address(10, 44, 0, 1)), sourcePort: 50000, destination: Self.pod,
            destinationPort: port, tcpFlags: ["SYN"])
        let context = PacketContext(hook: .prerouting, inInterface: "eth0", localAddresses: [Self.pod])
        return ChainWalker(rules: tables).walk(.nat, hook: .prerouting, packet: packet, context: context)
    }

    @Test func appCallingOutIsRedirectedToTheOutboundListener() throws {
        let walk = outbound(try Self.tables(), to: Self.external, port: 80, uid: 1000)
        #expect(walk.verdict == .target(.redirect(RedirectTarget(ports: PortSpec("15001")))))
        #expect(walk.steps.last?.chain == "ISTIO_REDIRECT")
    }

    @Test func theProxysOwnTrafficBypasses() throws {
        let walk = outbound(try Self.tables(), to: Self.external, port: 80, uid: 1337)
        #expect(walk.verdict == .policy(.accept))
        #expect(walk.steps.contains { $0.matched && $0.rule.text == "-m owner --uid-owner 1337 -j RETURN" })
    }

    @Test func appCallingItsOwnPodIPOverLoopbackIsNotCaptured() throws {
        let walk = outbound(try Self.tables(), to: Self.pod, port: 8080, uid: 1000, out: "lo")
        #expect(walk.verdict == .policy(.accept))
        #expect(
            walk.steps.first { $0.matched && $0.chain == "ISTIO_OUTPUT" }?.rule.text
                == "-o lo -m owner ! --uid-owner 1337 -j RETURN")
    }

    @Test func inboundIsRedirectedExceptTheExcludedPorts() throws {
        let tables = try Self.tables()
        #expect(
            inbound(tables, port: 8080).verdict
                == .target(.redirect(RedirectTarget(ports: PortSpec("15006")))))
        let health = inbound(tables, port: 15021)
        #expect(health.verdict == .policy(.accept))
        #expect(health.steps.contains { $0.matched && $0.rule.text == "-p tcp --dport 15021 -j RETURN" })
        #expect(inbound(tables, port: 15008).verdict == .policy(.accept))
    }

    @Test func dnsQueriesGoToTheAgentWhenCaptured() throws {
        let tables = try Self.tables(["--redirect-dns", "--dns-servers-v4=10.96.0.10"])
        let query = outbound(tables, to: .v4(IPv4Address(10, 96, 0, 10)), port: 53, uid: 1000, proto: .udp)
        #expect(
            query.verdict == .target(.redirect(RedirectTarget(ports: PortSpec("15053"), spelling: .toPort))))
        #expect(query.steps.last?.chain == "ISTIO_OUTPUT_DNS")
        let agent = outbound(tables, to: .v4(IPv4Address(10, 96, 0, 10)), port: 53, uid: 1337, proto: .udp)
        #expect(agent.verdict == .policy(.accept))
    }

    @Test func marksAndGotoFollowTheKernel() throws {
        let text =
            "*mangle\n:A - [0:0]\n:B - [0:0]\n-A PREROUTING -j MARK --set-xmark 0x10/0xff\n-A PREROUTING -g A\n-A PREROUTING -j DROP\n-A A -j MARK --or-mark 0x1\n-A A -j B\n-A B -j RETURN\nCOMMIT\n"
        let tables = try RuleTables(try RestoreParser.parse(text).get())
        let packet = PacketHeader(
            proto: .udp, source: Self.external, destination: Self.pod, destinationPort: 53)
        let walk = ChainWalker(rules: tables).walk(
            .mangle, hook: .prerouting, packet: packet,
            context: PacketContext(hook: .prerouting, inInterface: "eth0", mark: 0x100))
        // goto A: the end of A returns to PREROUTING's caller, so DROP is never reached.
        #expect(walk.verdict == .policy(.accept))
        #expect(walk.mark == 0x111)
        #expect(!walk.steps.contains { $0.rule.target == .drop })
    }
}
