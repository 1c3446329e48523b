import IstioIptablesCLI
import PacketModel
import Testing

/// pflag conventions: each spelling must give the same rules as the canonical one.
@Suite struct FlagConventionTests {
    static let canonical = run(labArguments + ["--dry-run"])

    @Test(arguments: [
        [
            "--envoy-port=15001", "--inbound-capture-port=15006", "--proxy-uid=1337",
            "--istio-inbound-interception-mode=REDIRECT",
            "--istio-service-cidr=*", "--istio-service-exclude-cidr=", "--istio-inbound-ports=*",
            "--istio-local-exclude-ports=15090,15021,15020", "--dry-run",
        ],
        ["-p15001", "-z15006", "-u1337", "-mREDIRECT", "-i*", "-x", "", "-b*", "-d15090,15021,15020", "-n"],
        [
            "-p=15001", "-z=15006", "-u=1337", "-m=REDIRECT", "-i=*", "-x=", "-b=*", "-d=15090,15021,15020",
            "-n=true",
        ],
        [
            "--envoy-port", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-b", "*",
            "-d", "15090,15021,15020",
            "--dry-run=true",
        ],
        // the last occurrence wins
        [
            "-p", "9999", "-p", "15001", "-z", "15006", "-u", "1337", "-i", "*", "-b", "*", "-d",
            "15090,15021,15020", "-n",
        ],
        // flags after positional arguments and after `--` (ignored upstream) still parse
        labArguments + ["extra", "--dry-run"],
    ])
    func spellingsAgree(_ arguments: [String]) {
        let output = run(arguments)
        #expect(output.exitCode == .success, "\(output.stderr)")
        #expect(output.stdout == Self.canonical.stdout)
    }

    @Test func dryRunFalseApplies() {
        let executor = FakeExecutor()
        let output = run(labArguments + ["--dry-run=false"], executor: executor)
        #expect(output.exitCode == .success)
        #expect(output.stdout.isEmpty)
        #expect(executor.restored.count == 1)
        #expect(executor.restored.first?.1 == Self.canonical.stdout)
        #expect(executor.restored.first?.0 == .ipv4)
    }

    @Test func valueBeginningWithDash() {
        // pflag takes the next argument as the value even when it starts with '-'.
        let output = run(["-b", "*", "-d", "-1", "-n"])
        #expect(output.exitCode == .success)
        #expect(ruleLines(output).contains("-A ISTIO_INBOUND -p tcp --dport -1 -j RETURN"))
        #expect(output.stderr.contains("\"-1\" is not a valid port"))
    }

    @Test func groupedShortBooleans() {
        // `-nf` is -n and -f (restore-format exists in 1.22/1.23).
        let output = run(["--istio-version", "1.23", "-nf", "-b", "*", "--enable-ipv6=false"])
        #expect(output.exitCode == .success, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("* nat\n"))
    }

    @Test func emptyValueWithEquals() {
        let withEquals = run(["-i", "*", "--istio-service-exclude-cidr=", "-n"])
        let separate = run(["-i", "*", "-x", "", "-n"])
        #expect(withEquals.exitCode == .success)
        #expect(withEquals.stdout == separate.stdout)
    }

    @Test func helpTeachesFlagsAndEnvironment() {
        let output = run(["--help"])
        #expect(output.exitCode == .success)
        #expect(output.stdout.contains("-p, --envoy-port string"))
        #expect(output.stdout.contains("env REDIRECT_DNS, ISTIO_META_DNS_CAPTURE"))
        #expect(output.stdout.contains("ISTIO_OUTBOUND_OWNER_GROUPS"))
        #expect(!output.stdout.contains("--restore-format"))
        #expect(run(["--istio-version", "1.22", "-h"]).stdout.contains("-f, --restore-format"))
    }
}
