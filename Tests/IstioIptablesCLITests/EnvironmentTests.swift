import IstioIptablesCLI
import PacketModel
import Testing

/// flag > env > default, with upstream's bindings (pkg/flag: BindEnv, AdditionalEnv).
@Suite struct EnvironmentTests {
    @Test func envFillsUnsetFlags() {
        let output = run(
            ["-n"],
            env: ["ISTIO_INBOUND_PORTS": "8080", "INBOUND_CAPTURE_PORT": "16006", "ISTIO_SERVICE_CIDR": "*"])
        #expect(ruleLines(output).contains("-A ISTIO_INBOUND -p tcp --dport 8080 -j ISTIO_IN_REDIRECT"))
        #expect(ruleLines(output).contains("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16006"))
    }

    @Test func flagBeatsEnv() {
        let output = run(["-n", "-b", "9090"], env: ["ISTIO_INBOUND_PORTS": "8080"])
        #expect(ruleLines(output).contains("-A ISTIO_INBOUND -p tcp --dport 9090 -j ISTIO_IN_REDIRECT"))
        #expect(!output.stdout.contains("8080"))
    }

    @Test func envoyPortHasNoEnvironmentVariable() {
        // Since 1.19 --envoy-port is bound without env: ENVOY_PORT only shows in the dump.
        let output = run(["-n", "-i", "*"], env: ["ENVOY_PORT": "9999"])
        #expect(ruleLines(output).contains("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001"))
        #expect(output.stderr.contains("ENVOY_PORT=9999"))
    }

    @Test func legacyVariablesWinOverPrimaryOnes() {
        // AdditionalEnv runs after BindEnv, so ISTIO_META_DNS_CAPTURE overrides REDIRECT_DNS.
        let on = run(
            ["-n", "--dns-servers-v4=10.96.0.10"],
            env: ["REDIRECT_DNS": "false", "ISTIO_META_DNS_CAPTURE": "true"])
        #expect(on.stdout.contains("ISTIO_OUTPUT_DNS"))
        let off = run(
            ["-n", "--dns-servers-v4=10.96.0.10"],
            env: ["REDIRECT_DNS": "true", "ISTIO_META_DNS_CAPTURE": "false"])
        #expect(!off.stdout.contains("ISTIO_OUTPUT_DNS"))
        let flag = run(
            ["-n", "--redirect-dns=false", "--dns-servers-v4=10.96.0.10"],
            env: ["ISTIO_META_DNS_CAPTURE": "true"])
        #expect(!flag.stdout.contains("ISTIO_OUTPUT_DNS"))
        let invalidDrop = run(["-n"], env: ["INVALID_DROP": "true"])
        #expect(invalidDrop.stdout.contains("ISTIO_DROP"))
    }

    @Test func unparsableEnvValuesAssignGoZeroValues() {
        // pflag assigns ParseBool's false before reporting the error that BindEnv drops.
        let output = run(["-n"], env: ["DROP_INVALID": "maybe"])
        #expect(output.exitCode == .success)
        #expect(!output.stdout.contains("ISTIO_DROP"))
        let perCommand = run(
            ["--istio-version", "1.23", "-n", "--golden-format=transcript"], env: ["RESTORE_FORMAT": "maybe"])
        #expect(perCommand.stdout.hasPrefix("iptables -t nat -N ISTIO_INBOUND\n"))
        let restore = run(["--istio-version", "1.23", "-n", "--golden-format=transcript"])
        #expect(restore.stdout.hasPrefix("* nat\n"))
        // A later legacy variable that does not parse switches the setting off again.
        let off = run(
            ["-n", "--dns-servers-v4=10.96.0.10"],
            env: ["REDIRECT_DNS": "true", "ISTIO_META_DNS_CAPTURE": "yes"])
        #expect(!off.stdout.contains("ISTIO_OUTPUT_DNS"))
        // An empty string variable replaces the default.
        let empty = run(["-n", "-b", "*", "-i", "*"], env: ["INBOUND_CAPTURE_PORT": ""])
        #expect(ruleLines(empty).contains("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports "))
    }

    @Test func envOnlySettings() {
        let groups = run(["-n", "-i", "*"], env: ["ISTIO_OUTBOUND_OWNER_GROUPS": "java,202"])
        #expect(
            ruleLines(groups).contains(
                "-A ISTIO_OUTPUT -m owner ! --gid-owner java -m owner ! --gid-owner 202 -j RETURN"))
        let exclude = run(["-n", "-i", "*"], env: ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE": "888"])
        #expect(ruleLines(exclude).contains("-A ISTIO_OUTPUT -m owner --gid-owner 888 -j RETURN"))
        let loopback = run(["-n"], env: ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR": "127.0.0.1/8"])
        #expect(ruleLines(loopback).contains("-A ISTIO_OUTPUT -d 127.0.0.1/8 -j RETURN"))
    }

    @Test func versionFromEnvironment() {
        let output = run(["-n", "-i", "*"], env: ["ISTIO_VERSION": "1.24"])
        #expect(ruleLines(output).contains("-A OUTPUT -p tcp -j ISTIO_OUTPUT"))
        let flagWins = run(["-n", "-i", "*", "--istio-version=1.30"], env: ["ISTIO_VERSION": "1.24"])
        #expect(ruleLines(flagWins).contains("-A OUTPUT -j ISTIO_OUTPUT"))
    }

    @Test func proxyUIDFromEnvoyUser() {
        let machine = FakeMachine(users: ["envoy": "101"])
        let output = run(["-n"], env: ["ENVOY_USER": "envoy"], machine: machine)
        #expect(ruleLines(output).contains("-A ISTIO_OUTPUT -m owner --uid-owner 101 -j RETURN"))
        #expect(ruleLines(output).contains("-A ISTIO_OUTPUT -m owner --gid-owner 101 -j RETURN"))
        let fallback = run(["-n"])
        #expect(ruleLines(fallback).contains("-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN"))
    }

    @Test func ipv6FromTheInterfaces() {
        let v6 = FakeMachine(addresses: [
            .v6(.loopback), try! .parse("fe80::1").get(), try! .parse("fd00::2").get(),
        ])
        let output = run(["-n"], machine: v6)
        #expect(output.stdout.contains("# ip6tables\n"))
        let dual = FakeMachine(addresses: [try! .parse("10.0.0.2").get(), try! .parse("fd00::2").get()])
        #expect(!run(["-n"], machine: dual).stdout.contains("# ip6tables"))
        #expect(run(["-n", "--dual-stack"], machine: dual).stdout.contains("# ip6tables"))
        #expect(!run(["-n", "--enable-ipv6=false"], machine: v6).stdout.contains("# ip6tables"))
        let none = run(["-n"], machine: FakeMachine(addresses: [.v4(.loopback)]))
        #expect(none.exitCode == .failure)
        #expect(none.stderr.contains("no valid local IP address found"))
    }

    @Test func nameserversFromResolvConfOnlyWhenNeeded() {
        let dns = run(["-n", "--redirect-dns"])
        #expect(
            ruleLines(dns).contains(
                "-A ISTIO_OUTPUT_DNS -p udp --dport 53 -d 10.96.0.10/32 -j REDIRECT --to-port 15053"))
        let missing = FakeMachine(resolv: nil)
        let failed = run(["-n", "--redirect-dns"], machine: missing)
        #expect(failed.exitCode == .failure)
        #expect(failed.stderr.contains("failed to load /etc/resolv.conf"))
        #expect(run(["-n", "--redirect-dns", "--capture-all-dns"], machine: missing).exitCode == .success)
        #expect(run(["-n"], machine: missing).exitCode == .success)
    }
}
