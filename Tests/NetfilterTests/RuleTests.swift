import Netfilter
import PacketModel
import Testing

@Suite struct RuleRenderingTests {
    @Test func rendersInWrittenOrder() throws {
        let rule = Rule(
            [
                .interface(InterfaceMatch(.outgoing, "lo")),
                .address(AddressMatch(.destination, try CIDR.parse("127.0.0.1/32").get(), .inverted)),
                .protocol(ProtocolMatch(.tcp)),
                .port(PortMatch(.destination, PortSpec("15008"), .inverted)),
                .owner(OwnerMatch(.uid, OwnerID("1337"))),
            ], .jump("ISTIO_IN_REDIRECT"))
        #expect(
            rule.text
                == "-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT"
        )
        let inserted = ChainRule(
            table: .mangle, chain: "ISTIO_INBOUND", placement: .insert(position: 2), rule: rule)
        #expect(inserted.restoreLine.hasPrefix("-I ISTIO_INBOUND 2 -o lo"))
    }

    @Test func targetsRender() {
        #expect(
            Target.tproxy(TProxyTarget(mark: MarkValue("1337/0xffffffff"), onPort: PortSpec("15006")))
                .arguments
                == ["-j", "TPROXY", "--tproxy-mark", "1337/0xffffffff", "--on-port", "15006"])
        #expect(
            Target.redirect(RedirectTarget(ports: PortSpec("15053"), spelling: .toPort)).arguments.joined(
                separator: " ")
                == "-j REDIRECT --to-port 15053")
        #expect(Target.ct(CTTarget(zone: 2)).arguments == ["-j", "CT", "--zone", "2"])
        #expect(
            Target.nflog(NFLogTarget(prefix: "JumpOutbound", quotePrefix: true, group: 1337, size: 20))
                .arguments[3] == "\"JumpOutbound\"")
        #expect(Target.redirect(RedirectTarget(ports: PortSpec("1"))).validTables == [.nat])
        #expect(Target.ct(CTTarget(zone: 1)).validTables == [.raw])
    }
}

@Suite struct MatchSemanticsTests {
    @Test func interfaceWildcard() {
        #expect(InterfaceMatch(.incoming, "eth+").matches("eth0"))
        #expect(!InterfaceMatch(.incoming, "eth+").matches("lo"))
        #expect(InterfaceMatch(.incoming, "lo", .inverted).matches("eth0"))
        #expect(!InterfaceMatch(.outgoing, "lo").isValid(atHook: .prerouting))
    }

    @Test func marksWithMasks() {
        #expect(MarkMatch(MarkValue("1337")).matches(1337))
        #expect(MarkMatch(MarkValue("0x539")).matches(1337))
        #expect(!MarkMatch(MarkValue("1338"), .inverted).matches(1338))
        #expect(MarkMatch(MarkValue("0x1/0x1")).matches(0x539))
        #expect(ConnmarkMatch(MarkValue("1337")).matches(1337))
    }

    @Test func ports() {
        #expect(PortMatch(.destination, PortSpec("53")).matches(53))
        #expect(PortMatch(.destination, PortSpec("15008"), .inverted).matches(80))
        let multiport = MultiportMatch(.destination, [PortSpec("53"), PortSpec("15000:15010")], .inverted)
        #expect(!multiport.matches(source: 1, destination: 15008))
        #expect(multiport.matches(source: 1, destination: 80))
    }

    @Test func ownerIDs() {
        #expect(OwnerID("1337").numeric == 1337)
        #expect(OwnerID("1000-2000").range == 1000...2000)
        #expect(OwnerID("java").numeric == nil)
    }
}
