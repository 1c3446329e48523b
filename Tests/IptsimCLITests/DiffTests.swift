import IptsimCLI
import IstioCapture
import Netfilter
import PacketModel
import Testing

let lab = [
    "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d",
    "15090,15021,15020", "--enable-ipv6=false",
]

func diff(_ from: String, _ to: String, _ extra: [String] = [], json: Bool = false) -> DiffReport.Output {
    DiffReport.run(from: from, to: to, arguments: lab + extra, environment: [:], json: json)
}

/// `iptsim diff` on release pairs whose differences are documented upstream.
@Suite struct DiffTests {
    @Test func sameReleaseHasNoChanges() {
        let output = diff("1.26", "1.30")
        #expect(output.exitCode == 0)
        #expect(output.stdout.contains("0 added, 0 removed, 0 moved"))
        #expect(output.stdout.contains("write the same rules"))
    }

    @Test func sshRuleDroppedIn1_13() {
        let output = diff("1.12", "1.13")
        #expect(output.stdout.contains("- [iptables nat ISTIO_INBOUND #2] -p tcp --dport 22 -j RETURN"))
        #expect(output.stdout.contains("Inbound SSH (port 22) is now captured"))
        #expect(output.stdout.contains("0 added, 1 removed"))
    }

    @Test func tunnelPortSkippedFrom1_18() {
        let output = diff("1.17", "1.18")
        #expect(
            output.stdout.contains(
                "+ [iptables nat ISTIO_OUTPUT #2] -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT"
            ))
        #expect(output.stdout.contains("no longer sent back to Envoy's inbound listener"))
    }

    @Test func udpTraversesOutputChainFrom1_25() {
        let output = diff("1.24", "1.25", ["-o", "3306"])
        #expect(
            output.stdout.contains(
                "Now all locally generated traffic traverses nat ISTIO_OUTPUT (before: locally generated TCP traffic)"
            ))
        #expect(output.stdout.contains("now apply to UDP too"))
        #expect(output.stdout.contains("Excluded outbound ports (-o) now exclude UDP as well as TCP."))
        #expect(output.stdout.contains("+ [iptables nat ISTIO_OUTPUT #2] -p udp --dport 3306 -j RETURN"))
    }

    @Test func dnsRulesMoveToTheirOwnChainsIn1_25() {
        let output = diff("1.24", "1.25", ["--redirect-dns", "--dns-servers-v4=10.96.0.10"], json: true)
        #expect(output.stdout.contains("\"schema\" : \"iptsim.diff/v1\""))
        #expect(output.stdout.contains("\"from_chain\" : \"ISTIO_OUTPUT\""))
        #expect(
            output.stdout.contains(
                "New chains: nat ISTIO_OUTPUT_DNS, raw ISTIO_INBOUND, raw ISTIO_OUTPUT_DNS"))
    }

    @Test func dnsAnswerZoneFixedIn1_20() {
        let output = diff("1.19", "1.20", ["--redirect-dns", "--dns-servers-v4=10.96.0.10"])
        #expect(
            output.stdout.contains(
                "- [iptables raw PREROUTING #1] -p udp --sport 53 -d 10.96.0.10/32 -j CT --zone 1"))
        #expect(
            output.stdout.contains(
                "+ [iptables raw PREROUTING #1] -p udp --sport 53 -s 10.96.0.10/32 -j CT --zone 1"))
        #expect(output.stdout.contains("Nameserver answers now get conntrack zone 1"))
    }

    @Test func badArgumentsForOneSideAreReported() {
        // --capture-all-dns does not exist in 1.10.
        let output = diff("1.10.0", "1.30", ["--capture-all-dns"])
        #expect(output.exitCode == 1)  // 1.10's standalone binary exits 1 on a bad command line
        #expect(output.stderr.contains("release 1.10.0: unknown flag: --capture-all-dns"))
        #expect(output.stdout.isEmpty)
    }
}

@Suite struct RuleSetDiffTests {
    func rules(_ lines: [(Table, String, Target)]) -> GeneratedRules {
        GeneratedRules(
            v4: lines.map {
                GeneratedRule(
                    ChainRule(table: $0.0, chain: ChainName($0.1), rule: Rule([], $0.2)), Provenance("r"))
            })
    }

    @Test func movesWithinAndAcrossChains() {
        let old = rules([(.nat, "ISTIO_A", .return), (.nat, "ISTIO_A", .accept), (.nat, "ISTIO_B", .drop)])
        let new = rules([(.nat, "ISTIO_A", .accept), (.nat, "ISTIO_A", .return), (.nat, "ISTIO_C", .drop)])
        let diff = RuleSetDiff(from: old, to: new)
        #expect(diff.changes.filter { $0.kind == .moved }.count == 2)
        #expect(
            diff.changes.contains { $0.kind == .moved && $0.fromChain == "ISTIO_B" && $0.chain == "ISTIO_C" })
        #expect(!diff.changes.contains { $0.kind == .added || $0.kind == .removed })
    }

    @Test func insertsAreComparedInFinalOrder() {
        let old = GeneratedRules(v4: [
            GeneratedRule(
                ChainRule(table: .nat, chain: .prerouting, rule: Rule([], .return)), Provenance("a")),
            GeneratedRule(
                ChainRule(
                    table: .nat, chain: .prerouting, placement: .insert(position: 1), rule: Rule([], .accept)),
                Provenance("b")),
        ])
        let new = GeneratedRules(v4: [
            GeneratedRule(
                ChainRule(table: .nat, chain: .prerouting, rule: Rule([], .accept)), Provenance("b")),
            GeneratedRule(
                ChainRule(table: .nat, chain: .prerouting, rule: Rule([], .return)), Provenance("a")),
        ])
        #expect(RuleSetDiff(from: old, to: new).isEmpty)
    }
}
