import Foundation
import IptsimCLI
import Netfilter
import Testing

/// `iptsim run` lands every flow of Tests/Scenarios where the real kernel landed it
/// (SCENARIO.kernel.json, recorded by tools/kernel-check; tools/scenario-check re-checks live).
@Suite struct ScenarioTests {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Scenarios").path
    }()

    static var scenarios: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".kernel.json") }.sorted()
    }

    @Test(arguments: scenarios)
    func simulatorAgreesWithTheKernel(_ name: String) throws {
        let path = Self.directory + "/" + name
        let output = ScenarioRunner.run(path: path)
        #expect(output.exitCode == 0, "\(output.stderr)")
        let recorded = try #require(
            FileManager.default.contents(atPath: path.replacingOccurrences(of: ".json", with: ".kernel.json"))
        )
        func byID(_ data: Data) throws -> [String: NSDictionary] {
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let results = try #require(object["results"] as? [[String: Any]])
            return Dictionary(
                uniqueKeysWithValues: results.map {
                    ($0["id"] as? String ?? "", NSDictionary(dictionary: $0))
                })
        }
        let kernel = try byID(recorded)
        let simulated = try byID(Data(output.stdout.utf8))
        #expect(kernel.count > 0)
        for (id, expected) in kernel {
            #expect(simulated[id] == expected, "\(name) flow \(id)")
        }
    }
}

/// A scenario the simulator cannot run as the kernel would is refused with a message naming the
/// field, never run differently.
@Suite struct BadScenarioTests {
    static var base: [String: Any] {
        [
            "istio_iptables_args": [
                "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-b", "*",
            ],
            "pod_ip": "10.44.0.2", "peer_ip": "10.44.0.1",
            "flows": [["id": "a", "direction": "outbound", "proto": "tcp", "dst": "10.1.2.3", "dport": 80]],
        ]
    }

    static var cases: [(change: [String: Any], message: String)] {
        [
            (["setup": ["link set eth0 up"]], "setup: ip link set eth0 up: only `rule add`"),
            (["setup": ["rule add fwmark banana lookup 133"]], "bad fwmark banana"),
            (["peer_setup": ["route add default via 10.9.9.9"]], "gateway 10.9.9.9 is not reachable"),
            (["pod_ip": "10.44.0.300"], "pod_ip: not an address"),
            (
                ["flows": [["id": "b", "direction": "sideways", "dst": "10.1.2.3", "dport": 80]]],
                "flow b: direction"
            ),
            (
                [
                    "flows": [
                        ["id": "c", "direction": "inbound", "proto": "sctp", "dst": "10.44.0.2", "dport": 80]
                    ]
                ], "flow c: proto"
            ),
            (
                [
                    "flows": [
                        [
                            "id": "d", "direction": "inbound", "dst": "10.44.0.2", "dport": 80,
                            "tcp_flags": "SX",
                        ]
                    ]
                ], "tcp_flags"
            ),
            (["extra_links": [["name": "x"]]], "extra_links[0]: needs name and pod_if"),
            (["istio_iptables_args": ["-i", "10.0.0.0/33"]], "istio_iptables_args"),
            (["rules_v4": "*nat\n-A OUTPUT -m nosuchmatch -j ACCEPT\nCOMMIT\n"], "rules_v4"),
        ]
    }

    @Test(arguments: cases.indices)
    func refusedWithTheField(_ index: Int) throws {
        let (change, message) = Self.cases[index]
        let scenario = Self.base.merging(change) { _, new in new }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-scenario-\(index).json")
            .path
        try JSONSerialization.data(withJSONObject: scenario).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = ScenarioRunner.run(path: path)
        #expect(output.exitCode == 1)
        #expect(output.stdout.isEmpty)
        #expect(output.stderr.contains(message), "\(output.stderr)")
    }

    @Test func ipCommandParserNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let words = [
            "-4", "-6", "rule", "route", "addr", "add", "local", "default", "fwmark", "lookup", "table",
            "via", "dev",
            "src", "nodad", "1337", "0x539/0xffffffff", "133", "main", "lo", "eth0", "10.0.0.1", "fd00::1/64",
            "10.0.0.0/33", "", "/", "::", "x",
        ]
        for _ in 0..<3000 {
            let count = Int.random(in: 0...8, using: &generator)
            let text = (0..<count).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            _ = try? IPCommand.parse(text)
        }
    }
}
