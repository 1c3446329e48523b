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

    static func prefix(_ address: Any?, _ length: Any?, _ defaultLength: Int, _ field: String) throws -> CIDR
    {
        let parsed = try Self.address(address, field)
        let bits = length as? Int ?? defaultLength
        guard bits >= 0 && bits <= parsed.family.addressBits else {
            throw ScenarioError(description: "\(field): prefix length \(bits) out of range")
        }
        return CIDR(address: parsed, prefixLength: bits)
    }

    static func commands(_ value: Any?, _ field: String) throws -> [IPCommand] {
        try (value as? [String] ?? []).map { text in
            do { return try IPCommand.parse(text) } catch {
                throw ScenarioError(description: "\(field): \(error)")
            }
        }
    }

    /// `{"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"}` → the forwarding families.
    static func forwarding(_ value: Any?) -> Set<IPFamily> {
        var families: Set<IPFamily> = []
        for (key, setting) in value as? [String: Any] ?? [:] where "\(setting)" == "1" {
            if key == "net.ipv4.ip_forward" || key == "net.ipv4.conf.all.forwarding" {
                families.insert(.ipv4)
            }
            if key == "net.ipv6.conf.all.forwarding" { families.insert(.ipv6) }
        }
        return families
    }

    /// The scenario's rule text per family: `rules_v4`/`rules_v6`, or generated from its arguments.
    static func ruleTexts(_ scenario: [String: Any]) throws -> [IPFamily: String] {
        if scenario["rules_v4"] != nil || scenario["rules_v6"] != nil {
            var texts: [IPFamily: String] = [:]
            texts[.ipv4] = scenario["rules_v4"] as? String
            texts[.ipv6] = scenario["rules_v6"] as? String
            return texts
        }
        guard let arguments = scenario["istio_iptables_args"] as? [String] else {
            throw ScenarioError(description: "the scenario needs rules_v4 or istio_iptables_args")
        }
        let env = scenario["istio_env"] as? [String: String] ?? [:]
        switch IstioIptablesCommand(environment: env).ruleSet(arguments) {
        case .failure(let error): throw ScenarioError(description: "istio_iptables_args: \(error)")
        case .success(let rules):
            // As kernel-check loads them: the dry run's two halves (an empty IPv6 half loads nothing).
            return [
                .ipv4: RuleText.restore(rules.rules.v4, layout: rules.release.layout),
                .ipv6: rules.rules.v6.isEmpty
                    ? "" : RuleText.restore(rules.rules.v6, layout: rules.release.layout),
            ]
        }
    }

    static func environment(_ scenario: [String: Any]) throws -> PodEnvironment {
        var environment = PodEnvironment(
            podAddress: try address(scenario["pod_ip"], "pod_ip"),
            peerAddress: try address(scenario["peer_ip"], "peer_ip"),
            prefixLength: scenario["prefix_len"] as? Int ?? 24,
            peerExtraAddresses: try (scenario["peer_extra_ips"] as? [String] ?? []).map {
                try address($0, "peer_extra_ips")
            },
            listeners: try listeners(scenario["listeners"]),
            peerListeners: try listeners(scenario["peer_listeners"]))
        if scenario["pod_ip6"] != nil || scenario["peer_ip6"] != nil {
            environment.podAddress6 = try address(scenario["pod_ip6"], "pod_ip6")
            environment.peerAddress6 = try address(scenario["peer_ip6"], "peer_ip6")
            environment.prefixLength6 = scenario["prefix_len6"] as? Int ?? 64
        }
        environment.podSetup = try commands(scenario["setup"], "setup")
        environment.peerSetup = try commands(scenario["peer_setup"], "peer_setup")
        environment.podForwarding = forwarding(scenario["pod_sysctls"])
        environment.peerForwarding = forwarding(scenario["peer_sysctls"])
        for case let (index, link as [String: Any]) in (scenario["extra_links"] as? [Any] ?? []).enumerated()
        {
            let field = "extra_links[\(index)]"
            guard let name = link["name"] as? String, let podInterface = link["pod_if"] as? String else {
                throw ScenarioError(description: "\(field): needs name and pod_if")
            }
            environment.extraLinks.append(
                ExtraLink(
                    name: name, podInterface: podInterface,
                    podAddress: try prefix(link["pod_ip"], link["prefix_len"], 24, field + ".pod_ip"),
                    peerAddress: try prefix(link["peer_ip"], link["prefix_len"], 24, field + ".peer_ip"),
                    peerExtraAddresses: try (link["peer_extra_ips"] as? [String] ?? []).map {
                        try address($0, field + ".peer_extra_ips")
                    },
                    peerSetup: try commands(link["peer_setup"], field + ".peer_setup"),
                    peerForwarding: forwarding(link["peer_sysctls"]),
                    peerListeners: try listeners(link["peer_listeners"])))
        }
        return environment
    }

    static func flow(_ object: [String: Any]) throws -> Flow {
        let id = object["id"] as? String ?? "?"
        guard let direction = Flow.Direction(rawValue: object["direction"] as? String ?? "") else {
            throw ScenarioError(description: "flow \(id): direction must be inbound or outbound")
        }
        guard let proto = IPProtocol(name: object["proto"] as? String ?? "tcp"),
            proto == .tcp || proto == .udp
        else {
            throw ScenarioError(description: "flow \(id): proto must be tcp or udp")
        }
        var flow = Flow(
            id: id, direction: direction, proto: proto,
            destination: try address(object["dst"], "flow \(id): dst"),
            destinationPort: UInt16(truncatingIfNeeded: object["dport"] as? Int ?? 0),
            source: try (object["src"] as? String).map { try address($0, "flow \(id): src") },
            sourcePort: UInt16(truncatingIfNeeded: object["sport"] as? Int ?? 0),
            uid: UInt32(truncatingIfNeeded: object["uid"] as? Int ?? 0),
            gid: (object["gid"] as? Int).map { UInt32(truncatingIfNeeded: $0) },
            mark: UInt32(truncatingIfNeeded: object["mark"] as? Int ?? 0))
        flow.groups = (object["groups"] as? [Int] ?? []).map { UInt32(truncatingIfNeeded: $0) }
        flow.transparent = object["transparent"] as? Bool ?? false
        flow.clientNamespace = object["client_ns"] as? String
        if let flags = object["tcp_flags"] as? String {
            let names: [Character: String] = [
                "S": "SYN", "A": "ACK", "F": "FIN", "R": "RST", "P": "PSH", "U": "URG",
            ]
            flow.tcpFlags = Set(
                try flags.map { letter in
                    guard let name = names[letter] else {
                        throw ScenarioError(description: "flow \(id): tcp_flags letters are S A F R P U")
                    }
                    return name
                })
        }
        return flow
    }

    static func simulate(_ scenario: [String: Any]) throws -> [[String: Any]] {
        var rules: [IPFamily: any RuleLookup & Sendable] = [:]
        for (family, text) in try ruleTexts(scenario) where !text.isEmpty {
            let name = family == .ipv4 ? "rules_v4" : "rules_v6"
            switch RestoreParser.parse(text, family: family) {
            case .failure(let error): throw ScenarioError(description: "\(name): \(error)")
            case .success(let document): rules[family] = try RuleTables(document)
            }
        }
        let network: Network
        do { network = try environment(scenario).network(rules: rules) } catch let error as IPCommand.Failure
        {
            throw ScenarioError(description: error.description)
        }
        let simulator = Simulator(network: network)
        let saver = SaveRenderer()
        var results: [[String: Any]] = []
        for case let flowObject as [String: Any] in scenario["flows"] as? [Any] ?? [] {
            let flow = try flow(flowObject)
            let result = simulator.run(flow)
            var outcome: [String: Any]
            switch result.outcome {
            case .accepted(let namespace, let port, let proto, let local, let originalDestination, let source):
                outcome = [
                    "ns": namespace, "port": Int(port), "proto": proto.description, "local": local,
                    "orig_dst": originalDestination ?? NSNull(), "src": source,
                ]
                if proto == .udp { outcome["reply_from"] = result.replyFrom ?? NSNull() }
            case .error(let error):
                outcome = ["error": error]
            }
            let trace = result.natTrace.map {
                (["-A", $0.chain.rawValue] + saver.arguments($0.rule, family: flow.destination.family))
                    .joined(
                        separator: " ")
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
                bind: try (object["bind"] as? String).flatMap {
                    $0 == "0.0.0.0" || $0 == "::" ? nil : try address($0, "listener bind")
                },
                dualStack: object["bind"] as? String == "::" || object["v6"] as? Bool == true)
        }
    }
}
