import ArgumentParser
import Foundation
import IptablesSave
import IstioCapture
import IstioIptablesCLI
import Netfilter
import PacketModel

/// `iptsim run SCENARIO.json`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every flow of a scenario through the simulator and print where each landed.",
        discussion: """
            The scenario is the JSON format of DESIGN.md, the same file tools/kernel-check runs in the real kernel; the output ({"results": [{"id", "outcome", "nat_trace"}]}) has the same shape, so the two can be compared.
            """)

    @Argument(help: "The scenario file.")
    var scenario: String

    func run() throws {
        let output = ScenarioRunner.run(path: scenario)
        FileHandle.standardOutput.write(Data(output.stdout.utf8))
        FileHandle.standardError.write(Data(output.stderr.utf8))
        if output.exitCode != 0 { throw ExitCode(output.exitCode) }
    }
}

/// Reads a scenario, simulates it, renders the results (tests call this).
public enum ScenarioRunner {
    public struct Output: Sendable {
        public var stdout = ""
        public var stderr = ""
        public var exitCode: Int32 = 0
    }

    struct ScenarioError: Error, CustomStringConvertible {
        let description: String
    }

    public static func run(path: String) -> Output {
        var output = Output()
        do {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ScenarioError(description: "cannot read \(path)")
            }
            guard let scenario = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ScenarioError(description: "\(path): not a JSON object")
            }
            let results = try simulate(scenario)
            let object: [String: Any] = ["results": results]
            let json = try JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            output.stdout = String(decoding: json, as: UTF8.self) + "\n"
        } catch {
            output.stderr = "error: \(error)\n"
            output.exitCode = 1
        }
        return output
    }

    static func address(_ value: Any?, _ field: String) throws -> IPAddress {
        guard let text = value as? String, case .success(let address) = IPAddress.parse(text) else {
            throw ScenarioError(description: "\(field): not an address: \(value ?? "missing")")
        }
        return address
    }

    static func simulate(_ scenario: [String: Any]) throws -> [[String: Any]] {
        let rulesText: String
        if let text = scenario["rules_v4"] as? String {
            rulesText = text
        } else if let arguments = scenario["istio_iptables_args"] as? [String] {
            let env = scenario["istio_env"] as? [String: String] ?? [:]
            let result = IstioIptablesCommand(environment: env).ruleSet(arguments)
            switch result {
            case .failure(let error): throw ScenarioError(description: "istio_iptables_args: \(error)")
            case .success(let rules):
                rulesText = RuleText.restore(rules.rules.v4, layout: rules.release.layout)
            }
        } else {
            throw ScenarioError(description: "the scenario needs rules_v4 or istio_iptables_args")
        }
        let tables: RuleTables
        switch RestoreParser.parse(rulesText) {
        case .failure(let error): throw ScenarioError(description: "rules_v4: \(error)")
        case .success(let document): tables = try RuleTables(document)
        }
        let environment = PodEnvironment(
            podAddress: try address(scenario["pod_ip"], "pod_ip"),
            peerAddress: try address(scenario["peer_ip"], "peer_ip"),
            prefixLength: scenario["prefix_len"] as? Int ?? 24,
            peerExtraAddresses: try (scenario["peer_extra_ips"] as? [String] ?? []).map {
                try address($0, "peer_extra_ips")
            },
            listeners: try listeners(scenario["listeners"]),
            peerListeners: try listeners(scenario["peer_listeners"]),
            localDeliveryMarks: localDeliveryMarks(scenario["setup"] as? [String] ?? []))
        let simulator = Simulator(rules: tables, environment: environment)
        let saver = SaveRenderer()
        var results: [[String: Any]] = []
        for case let flowObject as [String: Any] in scenario["flows"] as? [Any] ?? [] {
            let flow = try Flow(
                id: flowObject["id"] as? String ?? "?",
                direction: Flow.Direction(rawValue: flowObject["direction"] as? String ?? "") ?? .outbound,
                proto: IPProtocol(name: flowObject["proto"] as? String ?? "tcp") ?? .tcp,
                destination: address(flowObject["dst"], "dst"),
                destinationPort: UInt16(flowObject["dport"] as? Int ?? 0),
                source: (flowObject["src"] as? String).flatMap { try? IPAddress.parse($0).get() },
                sourcePort: UInt16(flowObject["sport"] as? Int ?? 0),
                uid: UInt32(flowObject["uid"] as? Int ?? 0),
                gid: (flowObject["gid"] as? Int).map(UInt32.init),
                mark: UInt32(flowObject["mark"] as? Int ?? 0))
            let result = simulator.run(flow)
            let outcome: [String: Any]
            switch result.outcome {
            case .accepted(let namespace, let port, let proto, let local, let originalDestination, let source):
                outcome = [
                    "ns": namespace, "port": Int(port), "proto": proto.description, "local": local,
                    "orig_dst": originalDestination ?? NSNull(), "src": source,
                ]
            case .error(let error):
                outcome = ["error": error]
            }
            let trace = result.natTrace.map {
                (["-A", $0.chain.rawValue] + saver.arguments($0.rule, family: .ipv4)).joined(separator: " ")
            }
            results.append(["id": flow.id, "outcome": outcome, "nat_trace": trace])
        }
        return results
    }

    static func listeners(_ value: Any?) throws -> [Listener] {
        try (value as? [Any] ?? []).map { item in
            if let port = item as? Int { return Listener(port: UInt16(port)) }
            if let text = item as? String {
                let parts = text.split(separator: "/")
                guard let port = UInt16(parts[0]) else {
                    throw ScenarioError(description: "listener \(text)")
                }
                return Listener(
                    port: port, proto: parts.count > 1 ? IPProtocol(name: String(parts[1])) ?? .tcp : .tcp)
            }
            guard let object = item as? [String: Any], let port = object["port"] as? Int else {
                throw ScenarioError(description: "listener \(item)")
            }
            return Listener(
                port: UInt16(port), proto: IPProtocol(name: object["proto"] as? String ?? "tcp") ?? .tcp,
                uid: UInt32(object["uid"] as? Int ?? 0), gid: (object["gid"] as? Int).map(UInt32.init),
                transparent: object["transparent"] as? Bool ?? false,
                bind: (object["bind"] as? String).flatMap {
                    $0 == "0.0.0.0" || $0 == "::" ? nil : try? IPAddress.parse($0).get()
                })
        }
    }

    /// `-4 rule add fwmark M[/K] lookup T` with `route add local default dev lo table T`.
    static func localDeliveryMarks(_ setup: [String]) -> [(mark: UInt32, mask: UInt32)] {
        var localTables = Set<String>()
        for command in setup {
            let words = command.split(separator: " ").map(String.init)
            if words.contains("route"), words.contains("local"), let table = words.firstIndex(of: "table"),
                table + 1 < words.count
            {
                localTables.insert(words[table + 1])
            }
        }
        var marks: [(UInt32, UInt32)] = []
        for command in setup {
            let words = command.split(separator: " ").map(String.init)
            guard words.contains("rule"), let fwmark = words.firstIndex(of: "fwmark"),
                fwmark + 1 < words.count,
                let lookup = words.firstIndex(of: "lookup"), lookup + 1 < words.count,
                localTables.contains(words[lookup + 1])
            else { continue }
            let mark = MarkValue(words[fwmark + 1])
            marks.append((mark.value ?? 0, mark.mask ?? .max))
        }
        return marks
    }
}
