import ArgumentParser
import Foundation
import IptablesSave
import IstioCapture
import IstioIptablesCLI
import Netfilter
import PacketModel

/// `iptsim trace SOURCE --pod-ip IP --flow SPEC`.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Follow one connection through a pod's rules: where it lands, and which rule decided it.",
        discussion: """
            SOURCE is istio-iptables arguments after `--` (then every decisive rule is explained by the flag or environment value that generated it), --pod MANIFEST.yaml (the pod's istio-init arguments; each flag is traced back to the annotation, Helm value or template constant behind it, and the pod IP defaults to status.podIP) or --rules FILE.

            The pod is the standard sidecar pod: Envoy's outbound and inbound listeners, its admin/health ports and the agent's DNS proxy on 127.0.0.1:15053 run as uid/gid 1337 (transparent in TPROXY mode, with the policy routing istio-init sets up); the app listens on every other port; every remote address answers.

            FLOW: [inbound|outbound] [tcp|udp] ADDRESS:PORT [uid=N] [gid=N] [src=IP] [sport=N] [mark=N]
            (inbound flows come from the peer; `:PORT` means the pod IP; outbound ones from a process with that uid/gid, default 0).

            Examples:
              iptsim trace --pod-ip 10.44.0.2 --flow 'outbound tcp 93.184.216.34:80 uid=1000' -- -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*' -d 15090,15021,15020
              iptsim trace --pod-ip 10.44.0.2 --flow 'inbound tcp :15021' -- -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*' -d 15090,15021,15020
              iptsim trace --pod httpbin-pod-injected.yaml --flow 'outbound tcp 10.0.0.5:3306 uid=1000'
            """)

    @Option(help: "The pod's address (its eth0); with --pod, default status.podIP.")
    var podIP: String?

    @Option(help: "The connection, e.g. 'outbound tcp 93.184.216.34:80 uid=1000'.")
    var flow: String

    @Option(help: "iptables-save / iptables-restore text instead of istio-iptables arguments.")
    var rules: String?

    @Option(help: "A pod manifest: the rules its istio-init writes (see iptsim pod).")
    var pod: String?

    @Flag(help: "Print JSON (schema iptsim.trace/v1).")
    var json = false

    @Argument(parsing: .postTerminator, help: "istio-iptables arguments, after --.")
    var istioIptablesArguments: [String] = []

    func run() throws {
        let output = TraceReport.run(
            podIP: podIP, flow: flow, rulesFile: rules, arguments: istioIptablesArguments,
            environment: ProcessInfo.processInfo.environment, json: json, podFile: pod)
        FileHandle.standardOutput.write(Data(output.stdout.utf8))
        FileHandle.standardError.write(Data(output.stderr.utf8))
        if output.exitCode != 0 { throw ExitCode(output.exitCode) }
    }
}

/// The trace, computed and rendered without the terminal (tests call this).
public enum TraceReport {
    public struct Output: Sendable {
        public var stdout = ""
        public var stderr = ""
        public var exitCode: Int32 = 0
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    public static func run(
        podIP: String?, flow flowText: String, rulesFile: String?, arguments: [String],
        environment: [String: String], json: Bool,
        machine: any Machine = LiveMachine(), podFile: String? = nil
    ) -> Output {
        var output = Output()
        var environment = environment
        var machine = machine
        var arguments = arguments
        var origins: [String: String] = [:]
        var podIP = podIP
        do {
            if let podFile {
                switch PodRuleSource.resolve(path: podFile, extraArguments: arguments) {
                case .failure(let failure): throw Failure(description: failure.description)
                case .success(let source):
                    for note in source.notes { output.stderr += "note: \(note)\n" }
                    (environment, machine, arguments) = (source.environment, source.machine, source.arguments)
                    origins = source.origins
                    podIP = podIP ?? source.podIP
                }
            }
            guard let podIP else {
                throw Failure(description: "--pod-ip: required (the manifest has no status.podIP)")
            }
            guard case .success(let pod) = IPAddress.parse(podIP) else {
                throw Failure(description: "--pod-ip: not an address: \(podIP)")
            }
            var config = CaptureConfig()
            var generated: GeneratedRules?
            var settings: [String: String] = [:]
            let rulesText: String
            if let rulesFile {
                guard let data = FileManager.default.contents(atPath: rulesFile) else {
                    throw Failure(description: "cannot read \(rulesFile)")
                }
                rulesText = String(decoding: data, as: UTF8.self)
            } else {
                switch IstioIptablesCommand(environment: environment, machine: machine).ruleSet(arguments) {
                case .failure(let error): throw Failure(description: error.description)
                case .success(let result):
                    config = result.config
                    generated = result.rules
                    settings = result.settings
                    rulesText = RuleText.restore(
                        pod.family == .ipv4 ? result.rules.v4 : result.rules.v6, layout: result.release.layout
                    )
                }
            }
            let tables: RuleTables
            switch RestoreParser.parse(rulesText, family: pod.family) {
            case .failure(let error): throw Failure(description: "rules: \(error)")
            case .success(let document): tables = try RuleTables(document)
            }
            let flow = try parseFlow(flowText, pod: pod)
            let environmentModel = standardPod(pod, config)
            let result = try Simulator(rules: tables, environment: environmentModel).run(flow)
            // With --pod, each flag's value also says where it came from.
            for (name, origin) in origins where settings[name] != nil {
                settings[name] = "\(settings[name]!) from \(origin)"
            }
            output.stdout =
                json
                ? renderJSON(flow, result, config, generated, settings, pod)
                : renderText(flow, result, config, generated, settings, pod)
        } catch {
            output.stderr = "error: \(error)\n"
            output.exitCode = 1
        }
        return output
    }

    /// The standard sidecar pod: Envoy and the agent as 1337, the app on every other port.
    static func standardPod(_ pod: IPAddress, _ config: CaptureConfig) -> PodEnvironment {
        let tproxy = config.interceptionMode == .tproxy
        let loopback: IPAddress = pod.family == .ipv4 ? .v4(.loopback) : .v6(.loopback)
        // An IPv6 pod's sockets are bound to `::`.
        let dual = pod.family == .ipv6
        var listeners: [Listener] = [
            Listener(port: config.proxyPort.port ?? 15001, uid: 1337, dualStack: dual),
            Listener(
                port: config.inboundCapturePort.port ?? 15006, uid: tproxy ? 0 : 1337, gid: 1337,
                transparent: tproxy, dualStack: dual),
            Listener(port: 15021, uid: 1337, dualStack: dual),
            Listener(port: 15090, uid: 1337, dualStack: dual),
            Listener(port: 15020, uid: 1337, dualStack: dual),
            Listener(port: 15053, proto: .udp, uid: 1337, bind: loopback),
            Listener(port: 15053, uid: 1337, bind: loopback),
        ]
        listeners += [
            Listener(port: 0, uid: 1000, dualStack: dual),
            Listener(port: 0, proto: .udp, uid: 1000, dualStack: dual),
        ]
        // The peer end of eth0: .1 of the pod's /24 (the last group 1 for IPv6).
        let peer: IPAddress
        switch pod {
        case .v4(let address):
            let gateway = address.value & 0xffff_ff00 | (address.value & 0xff == 1 ? 254 : 1)
            peer = .v4(IPv4Address(gateway))
        case .v6(let address):
            peer = .v6(
                IPv6Address(
                    high: address.high, low: address.low & ~0xffff | (address.low & 0xffff == 1 ? 2 : 1)))
        }
        var environment = PodEnvironment(
            podAddress: pod, peerAddress: peer, listeners: listeners,
            peerListeners: [
                Listener(port: 0, dualStack: dual), Listener(port: 0, proto: .udp, dualStack: dual),
            ],
            localDeliveryMarks: tproxy
                ? [(config.tproxyMark.value ?? 1337, config.tproxyMark.mask ?? .max)] : [])
        environment.peerOwnsEverything = true
        return environment
    }

    static func parseFlow(_ text: String, pod: IPAddress) throws -> Flow {
        var direction = Flow.Direction.outbound
        var proto = IPProtocol.tcp
        var destination: IPAddress?
        var port: UInt16?
        var uid: UInt32 = 0
        var gid: UInt32?
        var source: IPAddress?
        var sourcePort: UInt16 = 40000
        var mark: UInt32 = 0
        for word in text.split(separator: " ").map(String.init) {
            switch word {
            case "inbound": direction = .inbound
            case "outbound": direction = .outbound
            case "tcp": proto = .tcp
            case "udp": proto = .udp
            default:
                if let equals = word.firstIndex(of: "=") {
                    let key = word[..<equals]
                    let value = String(word[word.index(after: equals)...])
                    switch key {
                    case "uid": uid = try number(value, key)
                    case "gid": gid = try number(value, key)
                    case "sport": sourcePort = UInt16(try number(value, key))
                    case "mark": mark = MarkValue(value).value ?? 0
                    case "src":
                        guard case .success(let address) = IPAddress.parse(value) else {
                            throw Failure(description: "flow: bad src \(value)")
                        }
                        source = address
                    default: throw Failure(description: "flow: unknown \(key)= (uid, gid, src, sport, mark)")
                    }
                    continue
                }
                guard let colon = word.lastIndex(of: ":"),
                    let parsedPort = UInt16(word[word.index(after: colon)...])
                else {
                    throw Failure(description: "flow: \(word) is not ADDRESS:PORT")
                }
                port = parsedPort
                var host = String(word[..<colon])
                if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                if host.isEmpty {
                    destination = pod
                } else {
                    guard case .success(let address) = IPAddress.parse(host) else {
                        throw Failure(description: "flow: bad address \(host)")
                    }
                    destination = address
                }
            }
        }
        guard let destination, let port else {
            throw Failure(description: "flow: no ADDRESS:PORT in \(text)")
        }
        return Flow(
            id: "trace", direction: direction, proto: proto, destination: destination, destinationPort: port,
            source: source,
            sourcePort: sourcePort, uid: uid, gid: gid ?? uid, mark: mark)
    }

    static func number(_ text: String, _ key: Substring) throws -> UInt32 {
        guard let value = UInt32(text) else {
            throw Failure(description: "flow: \(key)=\(text) is not a number")
        }
        return value
    }

    /// One sentence: what happened to the connection.
    static func summary(_ flow: Flow, _ result: FlowResult, _ config: CaptureConfig, _ pod: IPAddress)
        -> String
    {
        let who =
            flow.direction == .outbound
            ? " as uid \(flow.uid)" + (flow.gid != flow.uid ? "/gid \(flow.gid)" : "") : ""
        let from: String
        switch result.outcome {
        case .accepted(_, _, _, _, _, let source): from = source
        case .error: from = flow.direction == .outbound ? pod.description : "the peer"
        }
        let head =
            "\(flow.direction.rawValue) \(flow.proto) \(from) -> \(Simulator.text(flow.destination, flow.destinationPort))\(who): "
        switch result.outcome {
        case .accepted(let namespace, let port, _, let local, let original, _):
            let redirected = original.map { $0 != local } ?? false
            let originalText = redirected ? " (original destination \(original!))" : ""
            if namespace == "peer" { return head + "not captured: leaves the pod directly to \(local)" }
            if port == config.proxyPort.port {
                return head + "captured by Envoy's outbound listener on \(local)\(originalText)"
            }
            if port == config.inboundCapturePort.port {
                return head + "captured by Envoy's inbound listener on \(local)\(originalText)"
            }
            if port == 15053 {
                return head + "captured by istio-agent's DNS proxy on \(local)\(originalText)"
            }
            if [15021, 15090, 15020].contains(port) {
                return head + "reaches Envoy/istio-agent's own port \(local) directly (not redirected)"
            }
            return head + "not captured: reaches the app on \(local) directly"
        case .error(let error):
            let meaning = [
                "refused": "connection refused (no socket)", "timeout": "no answer (dropped or no listener)",
                "eperm": "refused locally (EPERM)",
            ]
            return head + "fails: " + (meaning[error] ?? error)
        }
    }

    static func explanation(
        _ step: WalkStep, _ generated: GeneratedRules?, _ family: IPFamily, _ settings: [String: String]
    ) -> String? {
        guard let generated else { return nil }
        let match = generated[family].first {
            $0.chainRule.table == step.table && $0.chainRule.chain == step.chain
                && $0.chainRule.rule.text == step.rule.text
        }
        guard let provenance = match?.provenance else { return nil }
        let values = provenance.settings.map { setting -> String in
            let name = setting.rawValue
            if name.hasPrefix("ISTIO_") { return "\(name)=\(settings[name] ?? "")" }
            if let value = settings[name] { return "--\(name)=\(value)" }
            return "--\(name)"
        }
        return provenance.reason + (values.isEmpty ? "" : " [" + values.joined(separator: ", ") + "]")
    }

    static func renderText(
        _ flow: Flow, _ result: FlowResult, _ config: CaptureConfig, _ generated: GeneratedRules?,
        _ settings: [String: String], _ pod: IPAddress
    ) -> String {
        var text = summary(flow, result, config, pod) + "\n"
        let saver = SaveRenderer()
        if let natWalk = result.walks.first(where: { $0.walk.steps.first?.table == .nat })?.walk,
            let decisive = natWalk.steps.last(where: { $0.matched })
        {
            if case .jump(let chain) = decisive.rule.target {
                // The walk went into a chain where nothing matched and fell out of it.
                let unmatched = natWalk.steps.filter { $0.chain == chain && !$0.matched }
                text += "decided by: nothing in nat \(chain) matched"
                if let first = unmatched.first { text += " (\(first.rule.text))" }
                text += ", so the packet went on unchanged\n"
            } else {
                text +=
                    "decided by: nat \(decisive.chain) #\(decisive.index): \((["-A", decisive.chain.rawValue] + decisive.rule.arguments).joined(separator: " "))\n"
                if let why = explanation(decisive, generated, flow.destination.family, settings) {
                    text += "  because: \(why)\n"
                }
            }
        } else if case .accepted = result.outcome,
            let tproxy = result.walks.first(where: {
                $0.walk.steps.contains {
                    $0.matched && { if case .tproxy = $0.rule.target { true } else { false } }($0)
                }
            })?.walk.steps.last(where: { $0.matched })
        {
            text += "decided by: mangle \(tproxy.chain) #\(tproxy.index): \(tproxy.rule.text)\n"
            if let why = explanation(tproxy, generated, flow.destination.family, settings) {
                text += "  because: \(why)\n"
            }
        }
        if let answer = result.replyFrom {
            text += "the answer reaches the client from \(answer)\n"
        } else if case .accepted(_, _, .udp, _, _, _) = result.outcome {
            text += "the answer never reaches the client\n"
        }
        text += "\nexchange:\n" + result.packets.map { "  \($0)\n" }.joined()
        text += "\nrules met by the first packet in the pod:\n"
        for (hook, walk) in result.walks where !walk.steps.isEmpty {
            text += "\n\(walk.steps[0].table) \(hook):\n"
            for step in walk.steps {
                let mark = step.matched ? "✓" : "·"
                text +=
                    "  \(mark) \(step.chain) #\(step.index)  \(saver.arguments(step.rule, family: flow.destination.family).joined(separator: " "))\n"
                if step.matched, let why = explanation(step, generated, flow.destination.family, settings) {
                    text += "      \(why)\n"
                }
            }
        }
        return text
    }

    static func renderJSON(
        _ flow: Flow, _ result: FlowResult, _ config: CaptureConfig, _ generated: GeneratedRules?,
        _ settings: [String: String], _ pod: IPAddress
    ) -> String {
        var outcome: [String: Any]
        switch result.outcome {
        case .accepted(let namespace, let port, let proto, let local, let original, let source):
            outcome = [
                "ns": namespace, "port": Int(port), "proto": proto.description, "local": local,
                "orig_dst": original ?? NSNull(), "src": source,
            ]
        case .error(let error):
            outcome = ["error": error]
        }
        let steps: [[String: Any]] = result.walks.flatMap { hook, walk in
            walk.steps.map { step -> [String: Any] in
                var object: [String: Any] = [
                    "hook": hook.rawValue, "table": step.table.rawValue, "chain": step.chain.rawValue,
                    "index": step.index,
                    "rule": step.rule.text, "matched": step.matched,
                ]
                if step.matched, let why = explanation(step, generated, flow.destination.family, settings) {
                    object["because"] = why
                }
                return object
            }
        }
        let object: [String: Any] = [
            "schema": "iptsim.trace/v1", "summary": summary(flow, result, config, pod), "outcome": outcome,
            "steps": steps, "exchange": result.packets, "reply_from": result.replyFrom ?? NSNull(),
        ]
        let data =
            (try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
