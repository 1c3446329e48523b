import IstioIptablesCLI
import PacketModel
import Testing

/// Random command lines and addresses: every input ends in a result, never a crash, and a
/// failure never prints rules.
@Suite struct FuzzTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static let tokens = [
        "-p", "-z", "-u", "-g", "-m", "-i", "-x", "-b", "-d", "-q", "-o", "-k", "-c", "-t", "-r", "-n", "-f",
        "-e", "-h",
        "--dry-run", "--dry-run=false", "--redirect-dns", "--capture-all-dns", "--drop-invalid",
        "--enable-ipv6",
        "--istio-version", "1.22", "1.30", "1.9", "--golden-format", "transcript", "commands",
        "--dns-servers-v4",
        "--dns-servers-v6", "--", "-", "--=", "---x", "*", "", "15001", "70000", "abc", "-1", "10.0.0.0/8",
        "::/0",
        "10.0.0.0/40", "1.2.3.4", "fd00::1", "REDIRECT", "TPROXY", "eth0", "lo+", ",", "1337", "java",
        "--reconcile",
        "--cleanup-only", "--iptables-probe-port", "0x3a9a", "--probe-timeout", "5s", "=", "-nf", "-p=",
        "--native-nftables",
    ]

    @Test func randomCommandLines() {
        var random = Generator(state: 42)
        for _ in 0..<3000 {
            let count = Int.random(in: 0...8, using: &random)
            let arguments = (0..<count).map { _ in Self.tokens.randomElement(using: &random)! } + ["-n"]
            let output = run(arguments)
            if output.exitCode != .success {
                #expect(output.stdout.isEmpty, "\(arguments)")
                #expect(output.stderr.contains("error\t"), "\(arguments)")
            }
        }
    }

    @Test func randomAddressesAndPrefixes() throws {
        var random = Generator(state: 7)
        let alphabet = Array("0123456789abcdefABCDEF:./%x- g")
        for _ in 0..<20000 {
            let length = Int.random(in: 0...24, using: &random)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
            if case .success(let cidr) = CIDR.parse(text) {
                // What parses prints back as an address that parses to the same value.
                #expect(try CIDR.parse(cidr.description).get() == cidr, "\(text)")
            }
            if case .success(let address) = IPAddress.parse(text) {
                #expect(try IPAddress.parse(address.description).get() == address, "\(text)")
            }
            _ = PortSpec(text)
        }
    }
}
