import IstioCapture
import IstioIptablesCLI
import PacketModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The lab's command line, `--dry-run`, for every release: the exact restore input, kept under
/// `Fixtures/`. Re-record all of them with `tools/record-goldens` (RECORD_GOLDENS=1).
@Suite struct GoldenTests {
    static let fixtures = String(#filePath.dropLast("GoldenTests.swift".count)) + "Fixtures/"

    static let scenarios: [(name: String, arguments: [String])] = [
        ("lab", labArguments + ["--enable-ipv6=false"]),
        (
            "lab-ipv6-dns",
            labArguments + [
                "--enable-ipv6", "--redirect-dns", "--dns-servers-v4=10.96.0.10", "--dns-servers-v6=fd00::a",
            ]
        ),
        (
            "tproxy",
            [
                "-p", "15001", "-z", "15006", "-u", "1337", "-g", "1337", "-m", "TPROXY", "-i", "*", "-b",
                "*", "-d", "15090,15021,15020",
                "--enable-ipv6=false",
            ]
        ),
    ]

    static var cases: [(String, String, [String])] {
        Release.all.flatMap { release in
            scenarios.map {
                (
                    $0.name, release.version.description,
                    ["--istio-version", release.version.description, "-n"] + $0.arguments
                )
            }
        }
    }

    @Test(arguments: cases)
    func matchesFixture(_ name: String, _ version: String, _ arguments: [String]) throws {
        let output = run(arguments)
        #expect(output.exitCode == .success)
        let path = Self.fixtures + "\(name)-\(version).rules"
        if getenv("RECORD_GOLDENS") != nil {
            try writeText(path, output.stdout)
            return
        }
        guard let expected = readText(path) else {
            Issue.record("missing fixture \(path); run tools/record-goldens")
            return
        }
        if output.stdout != expected {
            Issue.record(
                "\(path) differs (tools/record-goldens re-records):\n\(lineDiff(expected, output.stdout))")
        }
    }
}

func readText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func writeText(_ path: String, _ text: String) throws {
    guard let file = fopen(path, "w") else { throw FixtureError(path: path) }
    defer { fclose(file) }
    let bytes = Array(text.utf8)
    guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { throw FixtureError(path: path) }
}

struct FixtureError: Error { let path: String }

/// `-expected` / `+actual` lines where the two texts differ (RuleSetDiff's LCS).
func lineDiff(_ expected: String, _ actual: String) -> String {
    let a = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let b = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let (onlyA, onlyB) = RuleSetDiff.lcsDifference(a, b)
    return (onlyA.map { "-\(a[$0])" } + onlyB.map { "+\(b[$0])" }).joined(separator: "\n")
}
