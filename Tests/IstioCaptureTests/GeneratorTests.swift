import IstioCapture
import Netfilter
import PacketModel
import Testing

/// The lab's sidecar: `-p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020`.
func labConfig() -> CaptureConfig {
    var config = CaptureConfig()
    config.inboundPorts = .all
    config.inboundPortsExclude = ["15090", "15021", "15020"].map(PortSpec.init)
    config.outboundRangesInclude = .wildcard
    return config
}

func release(_ version: String) -> Release { try! Release.resolve(version).get() }

@Suite struct GeneratorTests {
    @Test func labRulesCarryTheirProvenance() {
        let rules = RuleGenerator(config: labConfig(), release: release("1.30")).generate()
        #expect(rules.v6.isEmpty)
        let excluded = rules.v4.filter { $0.provenance.settings.contains(.inboundPortsExclude) }
        #expect(
            excluded.map(\.chainRule.restoreLine) == [
                "-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN",
                "-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN",
                "-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN",
            ])
        let proxy = rules.v4.filter { $0.chainRule.rule.text == "-m owner --uid-owner 1337 -j RETURN" }
        #expect(proxy.count == 1)
        #expect(proxy.first?.provenance.settings == [.proxyUID])
        #expect(rules.v4.last?.chainRule.restoreLine == "-A ISTIO_OUTPUT -j ISTIO_REDIRECT")
    }

    @Test func outboundJumpBecameProtocolIndependentIn1_25() {
        let jump = { (version: String) in
            RuleGenerator(config: labConfig(), release: release(version)).generate().v4
                .first { $0.chainRule.chain == .output && $0.chainRule.table == .nat }?.chainRule.rule.text
        }
        #expect(jump("1.24") == "-p tcp -j ISTIO_OUTPUT")
        #expect(jump("1.25") == "-j ISTIO_OUTPUT")
    }

    @Test func dnsCaptureWithoutNameserversIsOffFrom1_25() {
        var config = labConfig()
        config.redirectDNS = true
        let old = RuleGenerator(config: config, release: release("1.24"))
        let new = RuleGenerator(config: config, release: release("1.25"))
        #expect(old.dnsCaptureEffective)
        #expect(!new.dnsCaptureEffective)
        #expect(old.generate().v4.contains { $0.chainRule.table == .raw })
        #expect(!new.generate().v4.contains { $0.chainRule.table == .raw })
        config.captureAllDNS = true
        #expect(RuleGenerator(config: config, release: release("1.25")).dnsCaptureEffective)
    }

    @Test func ipv6RulesOnlyWhenEnabled() {
        var config = labConfig()
        config.enableIPv6 = true
        let rules = RuleGenerator(config: config, release: release("1.30")).generate()
        #expect(rules.v6.count == rules.v4.count)
        #expect(rules.v6.contains { $0.chainRule.rule.text == "-o lo -s ::6/128 -j RETURN" })
    }

    @Test func dropInvalidMovedToAChainIn1_24() {
        var config = labConfig()
        config.dropInvalid = true
        let text = { (version: String) in
            RuleText.restore(
                RuleGenerator(config: config, release: release(version)).generate().v4,
                layout: release(version).layout)
        }
        #expect(text("1.23").contains("-A PREROUTING -m conntrack --ctstate INVALID -j DROP"))
        #expect(
            text("1.24").contains(
                "-A PREROUTING -m conntrack --ctstate INVALID -j ISTIO_DROP\n-A ISTIO_DROP -j DROP"))
    }

    @Test func traceLoggingShadowsRulesWithNFLOG() {
        var config = labConfig()
        config.traceLogging = true
        let lines = { (version: String) in
            RuleGenerator(config: config, release: release(version)).generate().v4.map(
                \.chainRule.restoreLine)
        }
        #expect(
            lines("1.23").contains(
                "-A OUTPUT -p tcp -j NFLOG --nflog-prefix \"JumpOutbound\" --nflog-group 1337 --nflog-size 20"
            ))
        #expect(
            lines("1.24").contains(
                "-A OUTPUT -p tcp -j NFLOG --nflog-prefix JumpOutbound --nflog-group 1337 --nflog-size 20"))
        #expect(!lines("1.25").contains { $0.contains("NFLOG") })
    }
}

@Suite struct RuleTextTests {
    func rule(_ table: Table, _ chain: ChainName, _ target: Target) -> GeneratedRule {
        GeneratedRule(ChainRule(table: table, chain: chain, rule: Rule([], target)), Provenance("test"))
    }

    @Test func restoreDeclaresJumpTargetsFrom1_24() {
        let rules = [rule(.nat, .output, .jump("ISTIO_EMPTY")), rule(.nat, "ISTIO_A", .return)]
        #expect(
            RuleText.restore(rules, layout: release("1.23").layout)
                == "* nat\n-N ISTIO_A\n-A OUTPUT -j ISTIO_EMPTY\n-A ISTIO_A -j RETURN\nCOMMIT\n")
        #expect(
            RuleText.restore(rules, layout: release("1.24").layout)
                == "* nat\n-N ISTIO_A\n-N ISTIO_EMPTY\n-A OUTPUT -j ISTIO_EMPTY\n-A ISTIO_A -j RETURN\nCOMMIT\n"
        )
    }

    @Test func tablesSortedAndCommandsDeclareFirst() {
        let rules = [
            rule(.raw, "ISTIO_X", .return), rule(.mangle, .prerouting, .drop), rule(.nat, "ISTIO_X", .return),
        ]
        #expect(
            RuleText.restore(rules, layout: release("1.30").layout).split(separator: "\n").filter {
                $0.hasPrefix("*")
            } == ["* mangle", "* nat", "* raw"])
        #expect(
            RuleText.commands(rules, family: .ipv6) == [
                "ip6tables -t raw -N ISTIO_X", "ip6tables -t nat -N ISTIO_X",
                "ip6tables -t raw -A ISTIO_X -j RETURN", "ip6tables -t mangle -A PREROUTING -j DROP",
                "ip6tables -t nat -A ISTIO_X -j RETURN",
            ])
    }
}
