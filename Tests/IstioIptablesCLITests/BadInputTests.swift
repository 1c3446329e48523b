import IstioIptablesCLI
import PacketModel
import Testing

/// Bad input fails as upstream fails (same meaning, same exit status, nothing on stdout); what
/// upstream silently accepts is kept, with a warning on stderr.
@Suite struct BadInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        var env: [String: String] = [:]
        let exit: ExitCode
        let stderr: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let cases: [Case] = [
        // Rejected by upstream.
        Case(
            arguments: ["-n", "-x", "10.0.0.0/40"], exit: .failure,
            stderr: "netip.ParsePrefix(\"10.0.0.0/40\"): prefix length out of range"),
        Case(
            arguments: ["-n", "-i", "10.0.0.0"], exit: .failure,
            stderr: "netip.ParsePrefix(\"10.0.0.0\"): no '/'"),
        Case(
            arguments: ["-n", "-i", "*", "-x", "*"], exit: .failure,
            stderr: "invalid value for OUTBOUND_IP_RANGES_EXCLUDE"),
        Case(arguments: ["-n", "--foo"], exit: .usage, stderr: "unknown flag: --foo"),
        Case(arguments: ["-n", "-y", "1"], exit: .usage, stderr: "unknown shorthand flag: 'y' in -y"),
        Case(arguments: ["-n", "-p"], exit: .usage, stderr: "flag needs an argument: 'p' in -p"),
        Case(
            arguments: ["-n", "--envoy-port"], exit: .usage, stderr: "flag needs an argument: --envoy-port"),
        Case(
            arguments: ["--dry-run=maybe"], exit: .usage,
            stderr:
                "invalid argument \"maybe\" for \"-n, --dry-run\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        ),
        Case(
            arguments: ["-n", "--iptables-probe-port=70000"], exit: .usage,
            stderr: "strconv.ParseUint: parsing \"70000\": value out of range"),
        Case(
            arguments: ["-n", "--probe-timeout=abc"], exit: .usage, stderr: "time: invalid duration \"abc\""),
        Case(
            arguments: ["-n"], env: ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR": "10.0.0.0/8"], exit: .failure,
            stderr: "expected valid IPv4 loopback address in CIDR 10.0.0.0/8; found 10.0.0.0"),
        Case(
            arguments: ["-n"], env: ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR": "127.0.0.1/4"], exit: .failure,
            stderr: "expected CIDR 127.0.0.1/4 to have mask in range [8, 32]; found 4"),
        Case(
            arguments: ["-n"], env: ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR": "localhost"], exit: .failure,
            stderr: "failed to parse CIDR localhost: netip.ParsePrefix(\"localhost\"): no '/'"),
        Case(
            arguments: ["-n"],
            env: ["ISTIO_OUTBOUND_OWNER_GROUPS": (0...64).map(String.init).joined(separator: ",")],
            exit: .failure, stderr: "cannot exceed 64, got 65"),
        Case(
            arguments: ["-n", "--force-iptables-binary=foo"], exit: .failure,
            stderr: "invalid FORCE_IPTABLES_BINARY value \"foo\""),
        Case(
            arguments: ["-n", "--istio-version", "1.9"], exit: .usage, stderr: "unknown Istio release \"1.9\""
        ),
        Case(
            arguments: ["-n", "--istio-version", "1.24", "--restore-format=false"], exit: .usage,
            stderr: "unknown flag: --restore-format"),
        Case(
            arguments: ["-n", "--istio-version", "1.23", "--reconcile"], exit: .usage,
            stderr: "unknown flag: --reconcile"),
        Case(
            arguments: ["-n", "--istio-version", "1.26", "--iptables-trace-logging"], exit: .usage,
            stderr: "unknown flag: --iptables-trace-logging"),
        Case(
            arguments: ["-n", "--native-nftables"], exit: .failure,
            stderr: "nftables output is not supported yet"),
        Case(
            arguments: ["-n", "--istio-version", "1.26", "--native-nftables"], exit: .usage,
            stderr: "unknown flag: --native-nftables"),
        Case(
            arguments: ["-n", "--golden-format=yaml"], exit: .usage, stderr: "for \"--golden-format\" flag"),
        Case(
            arguments: ["-n", "--dns-servers-v4=10.0.0.300"], exit: .usage,
            stderr: "IPv4 field has value >255"),
        Case(arguments: ["-n", "--dns-servers-v4=::1"], exit: .usage, stderr: "not an IPv4 address"),
    ]

    @Test(arguments: cases)
    func rejected(_ c: Case) {
        let output = run(c.arguments, env: c.env)
        #expect(output.exitCode == c.exit)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains(c.stderr), "\(output.stderr)")
    }

    static let accepted: [Case] = [
        Case(
            arguments: ["-n", "-p", "70000"], exit: .success,
            stderr: "--envoy-port \"70000\" is not a valid port"),
        Case(
            arguments: ["-n", "-b", "abc"], exit: .success,
            stderr: "--istio-inbound-ports \"abc\" is not a valid port"),
        Case(
            arguments: ["-n", "-m", "FOO"], exit: .success,
            stderr: "neither REDIRECT nor TPROXY; upstream treats it as REDIRECT"),
        Case(arguments: ["-n", "-m", "tproxy"], exit: .success, stderr: "upstream treats it as REDIRECT"),
        Case(
            arguments: ["-n"],
            env: ["ISTIO_OUTBOUND_OWNER_GROUPS": "java", "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE": "202"],
            exit: .success, stderr: "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE is ignored"),
        Case(
            arguments: ["-n", "-b", "80", "-d", "15090"], exit: .success,
            stderr: "only applies with --istio-inbound-ports '*'"),
        Case(
            arguments: ["-n", "--redirect-dns", "--dns-servers-v4="], exit: .success,
            stderr: "no DNS servers provided. DNS capture disabled."),
        Case(
            arguments: ["-n", "-t", "abc", "-m", "TPROXY", "-b", "*"], exit: .success,
            stderr: "is not a number"),
    ]

    @Test(arguments: accepted)
    func acceptedWithWarning(_ c: Case) {
        let output = run(c.arguments, env: c.env)
        #expect(output.exitCode == .success)
        #expect(!output.stdout.isEmpty)
        #expect(output.stderr.contains("warn\t"))
        #expect(output.stderr.contains(c.stderr), "\(output.stderr)")
    }

    @Test func badCIDRsWereSkippedBefore1_27() {
        let old = run(["--istio-version", "1.26", "-n", "-i", "*", "-x", "10.0.0.0/40,10.1.0.0/16"])
        #expect(old.exitCode == .success)
        #expect(
            old.stderr.contains(
                "Ignoring error for bug compatibility with istio-iptables: netip.ParsePrefix(\"10.0.0.0/40\"): prefix length out of range"
            ))
        #expect(ruleLines(old).contains("-A ISTIO_OUTPUT -d 10.1.0.0/16 -j RETURN"))
        let new = run(["--istio-version", "1.27", "-n", "-i", "*", "-x", "10.0.0.0/40,10.1.0.0/16"])
        #expect(new.exitCode == .failure)
        #expect(new.stdout.isEmpty)
    }

    @Test func rangesAreOnlyCheckedWhenRulesAreBuilt() {
        // Upstream parses -i/-x inside the configurator, which --skip-rule-apply never runs.
        let output = run(["-n", "-x", "*", "--skip-rule-apply"])
        #expect(output.exitCode == .success)
        #expect(output.stdout.isEmpty)
    }

    @Test func acceptedValuesReachTheRulesVerbatim() {
        let output = run(["-n", "-p", "70000", "-i", "*"])
        #expect(ruleLines(output).contains("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 70000"))
    }

    @Test func applyFailureIsReported() {
        let executor = FakeExecutor()
        executor.restoreFailure = "iptables-restore --noflush failed (exit status 2): Port `70000' not valid"
        let output = run(["-p", "70000", "-i", "*"], executor: executor)
        #expect(output.exitCode == .failure)
        #expect(output.stderr.contains("Port `70000' not valid"))
    }
}

/// Each release has its own flags: one a release lacks is an unknown flag there, as in its binary.
@Suite struct ReleaseFlagSetTests {
    static let cases: [(version: String, arguments: [String], accepted: Bool)] = [
        ("1.10.6", ["--istio-exclude-interfaces=eth1"], false),
        ("1.11.8", ["--istio-exclude-interfaces=eth1"], true),
        ("1.14.6", ["-c", "eth1"], false),
        ("1.15.7", ["-c", "eth1"], true),
        ("1.10.6", ["--capture-all-dns"], false),
        ("1.11.8", ["--capture-all-dns"], true),
        ("1.11.8", ["--drop-invalid"], false),
        ("1.12.9", ["--drop-invalid"], true),
        ("1.16.7", ["--output-paths=/tmp/x"], true),
        ("1.17.8", ["--output-paths=/tmp/x"], false),
        ("1.17.8", ["--iptables-version=1.8.7"], false),
        ("1.18.7", ["--iptables-version=1.8.7"], true),
        ("1.22.8", ["--iptables-version=1.8.7"], false),
        ("1.17.8", ["--host-nsenter-exec"], true),
        ("1.18.7", ["--host-nsenter-exec"], false),
        ("1.17.8", ["--dual-stack"], false),
        ("1.18.7", ["--dual-stack"], true),
        ("1.23.6", ["-f=false"], true),
        ("1.24.6", ["-f=false"], false),
        ("1.25.5", ["--iptables-trace-logging"], true),
        ("1.26.8", ["--iptables-trace-logging"], false),
    ]

    @Test(arguments: cases)
    func flagExistsOnlyInItsReleases(_ c: (version: String, arguments: [String], accepted: Bool)) {
        let output = run(["--istio-version", c.version, "-n"] + c.arguments)
        if c.accepted {
            #expect(output.exitCode == .success, "\(output.stderr)")
        } else {
            // ≤1.16 istio-init ran the standalone binary (exit 1 and usage); later pilot-agent (255).
            let standalone = ["1.10", "1.11", "1.12", "1.13", "1.14", "1.15", "1.16"].contains {
                c.version.hasPrefix($0 + ".")
            }
            #expect(output.exitCode == (standalone ? .failure : .usage))
            #expect(output.stderr.contains("unknown"))
            #expect(output.stderr.contains("Usage:") == standalone)
        }
    }

    @Test func envoyPortEnvironmentUntil1_18() {
        let old = run(["--istio-version", "1.18", "-n", "-i", "*"], env: ["ENVOY_PORT": "9999"])
        #expect(ruleLines(old).contains("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 9999"))
        let new = run(["--istio-version", "1.19", "-n", "-i", "*"], env: ["ENVOY_PORT": "9999"])
        #expect(ruleLines(new).contains("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001"))
    }

    @Test func viperIgnoresEmptyVariables() {
        // ≤1.18: REDIRECT_DNS="" is unset, so ISTIO_META_DNS_CAPTURE (the default) decides.
        let env = ["REDIRECT_DNS": "", "ISTIO_META_DNS_CAPTURE": "true"]
        let old = run(["--istio-version", "1.18", "-n", "--dns-servers-v4=10.0.0.10"], env: env)
        #expect(old.stdout.contains("--dport 53"))
        // 1.19+: the empty REDIRECT_DNS is false, then ISTIO_META_DNS_CAPTURE=true is applied after it.
        let new = run(
            ["--istio-version", "1.19", "-n", "--dns-servers-v4=10.0.0.10"],
            env: ["REDIRECT_DNS": "true", "ISTIO_META_DNS_CAPTURE": ""])
        #expect(!new.stdout.contains("--dport 53"))
    }

    @Test func machineFailuresEndAsTheReleaseEndedThem() {
        let bare = FakeMachine(addresses: [.v4(.loopback)])
        let panic = run(["--istio-version", "1.18", "-n"], machine: bare)
        #expect(panic.exitCode == .panic)
        #expect(panic.stderr.hasPrefix("panic: no valid local IP address found\n"))
        let fatal = run(["--istio-version", "1.20", "-n"], machine: bare)
        #expect(fatal.exitCode == .failure)
        #expect(fatal.stderr.contains("fatal\tno valid local IP address found"))
        let error = run(["--istio-version", "1.22", "-n"], machine: bare)
        #expect(error.exitCode == .failure)
        #expect(error.stderr.contains("error\tno valid local IP address found"))
    }

    @Test func invalidDropHadNoEffectUnder_viper() {
        #expect(
            !run(["--istio-version", "1.18", "-n"], env: ["INVALID_DROP": "true"]).stdout.contains("INVALID"))
        #expect(
            run(["--istio-version", "1.19", "-n"], env: ["INVALID_DROP": "true"]).stdout.contains("INVALID"))
        #expect(
            run(["--istio-version", "1.18", "-n"], env: ["DROP_INVALID": "true"]).stdout.contains("INVALID"))
    }

    @Test func excludeWildcardPanickedUntil1_18() {
        let old = run(["--istio-version", "1.18", "-n", "-x", "*"])
        #expect(old.exitCode == .panic)
        #expect(old.stderr.contains("panic: Invalid value for OUTBOUND_IP_RANGES_EXCLUDE"))
        #expect(run(["--istio-version", "1.19", "-n", "-x", "*"]).exitCode == .failure)
    }

    @Test func netParseCIDRMasksUntil1_15() {
        let old = run([
            "--istio-version", "1.15", "-n", "-i", "10.1.2.3/8,::ffff:192.168.1.7/120", "-x", "1.2.3.4/40",
        ])
        #expect(ruleLines(old).contains("-A ISTIO_OUTPUT -d 10.0.0.0/8 -j ISTIO_REDIRECT"))
        #expect(ruleLines(old).contains("-A ISTIO_OUTPUT -d 192.168.1.0/24 -j ISTIO_REDIRECT"))
        #expect(
            old.stderr.contains(
                "Ignoring error for bug compatibility with istio-iptables: invalid CIDR address: 1.2.3.4/40"))
        let new = run(["--istio-version", "1.16", "-n", "-i", "10.1.2.3/8"])
        #expect(ruleLines(new).contains("-A ISTIO_OUTPUT -d 10.1.2.3/8 -j ISTIO_REDIRECT"))
    }

    @Test func conntrackZonesBehindAnEnvironmentVariableIn1_10_3to6() {
        let arguments = ["-n", "--redirect-dns", "--dns-servers-v4=10.0.0.10"]
        #expect(!run(["--istio-version", "1.10.6"] + arguments).stdout.contains("CT --zone"))
        #expect(
            run(["--istio-version", "1.10.6"] + arguments, env: ["ISTIO_META_DNS_CONNTRACK_ZONE": "true"])
                .stdout.contains("CT --zone"))
        #expect(
            run(["--istio-version", "1.10.4"] + arguments, env: ["ISTIO_META_DNS_CONNTRACK_ZONE": "true"])
                .stdout.contains("CT --zone"))
        #expect(
            !run(["--istio-version", "1.10.2"] + arguments, env: ["ISTIO_META_DNS_CONNTRACK_ZONE": "true"])
                .stdout.contains("CT --zone"))
        #expect(run(["--istio-version", "1.11"] + arguments).stdout.contains("CT --zone"))
    }
}
