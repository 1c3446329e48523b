import ArgumentParser
import Foundation
import IptablesSave
import IstioCapture
import IstioIptablesCLI
import Netfilter
import PacketCodec
import PacketModel
import PcapIO
import Replay

#if canImport(Glibc)
    import Glibc
#endif

/// `iptsim replay SOURCE CAPTURE... [--pod-ip IP]... [--json] [--filter BPF] [--ifindex 1=lo,2=eth0]`.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Push captured traffic (pcap/pcapng) through a pod's rules, flow by flow: which flows the sidecar captures, and which bypass it.",
        discussion: """
            SOURCE is istio-iptables arguments after `--`, or --rules FILE (and --rules6 FILE) with iptables-save text. The pod is the standard sidecar pod of `iptsim trace` (Envoy on 15001/15006 as uid 1337, the DNS proxy on 15053, the app on every other port).

            Packets are grouped into flows by 5-tuple (replies join their request's flow; ICMP errors count on the flow they quote). A flow is inbound, outbound or loopback relative to --pod-ip (repeatable, IPv4 and IPv6; when omitted, the address taking part in the most connection starts is used and printed). Each flow's first packet goes through the simulator once; the flow's verdict is one of:
              envoy-outbound  landed on Envoy's outbound listener (15001)
              envoy-inbound   landed on Envoy's inbound listener (15006)
              dns-agent       landed on istio-agent's DNS proxy (15053)
              direct          not redirected: reached its own destination
              refused         no socket there (connection refused)
              dropped         dropped by a rule, or nothing answers
              not-simulated   not the pod's flow, or a protocol the simulator does not model (ICMP…)
            Flows the pod starts are owned by --app-uid/--app-gid, except those from 127.0.0.6 (Envoy's inbound passthrough address), owned by 1337.

            Captures: pcap and pcapng (also with interfaces of different link types), link types EN10MB (with 802.1Q), LINUX_SLL, LINUX_SLL2, RAW, NULL, LOOP, IPV4, IPV6, NFLOG. Several files are read in order as one capture. Flows expire with conntrack's timeouts on the capture's clock, so memory follows the live flows, not the file size. A truncated last record is reported on stderr; the packets before it count.

            Output: a table (verdict totals, then one line per destination port, flows bypassing the sidecar first), or with --json one JSON object per line and flow, as flows end: {"proto","src","sport","dst","dport","direction","uid","verdict","socket_port","orig_dst","packets","first_rule"} (plus "interface" for LINUX_SLL2 captures). A progress line goes to stderr when it is a terminal.

            Examples:
              iptsim replay pod.pcap --pod-ip 10.44.0.2 -- -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020
              iptsim replay --rules pod.iptables-save any.pcapng --ifindex 1=lo,2=eth0 --json --filter 'tcp or udp'
            """)

    /// Capture files, then (after `--`) istio-iptables arguments: ArgumentParser allows only one
    /// positional array, so ``split(_:commandLine:)`` separates them at the terminator.
    @Argument(
        help: ArgumentHelp(
            "pcap or pcapng files, read in order as one capture; then istio-iptables arguments after --.",
            valueName: "capture"))
    var positionals: [String] = []

    @Option(name: .customLong("pod-ip"), help: "An address of the pod (repeat for IPv4 and IPv6).")
    var podIPs: [String] = []

    @Option(help: "iptables-save / iptables-restore text for IPv4 instead of istio-iptables arguments.")
    var rules: String?

    @Option(help: "iptables-save / iptables-restore text for IPv6.")
    var rules6: String?

    @Flag(help: "One JSON object per flow and line.")
    var json = false

    @Option(help: "A BPF filter (tcpdump syntax): only matching packets are replayed.")
    var filter: String?

    @Option(help: "LINUX_SLL2 interface index names, e.g. 1=lo,2=eth0.")
    var ifindex = "1=lo"

    @Option(
        help: ArgumentHelp(
            "The pod's rules from a Kubernetes manifest (its istio-init arguments, or those the injector would give it; see `iptsim pod`); the pod IP from status.podIP.",
            valueName: "MANIFEST"))
    var pod: String?

    @Option(
        help: ArgumentHelp(
            "Rules and the pod's environment (addresses, routes, listeners) from a scenario file (DESIGN.md's format).",
            valueName: "FILE"))
    var scenario: String?

    @Option(
        help: ArgumentHelp(
            "Owner of the pod's flows the capture does not name (NFLOG captures do): e.g. 'sport=15000-15100,uid=1337', 'dst=10.96.0.0/12,uid=0,gid=1337'. Repeatable; the first match wins.",
            valueName: "SELECTORS,uid=N[,gid=N]"))
    var owner: [String] = []

    @Option(
        help: ArgumentHelp(
            "Expected verdicts (YAML: a list of {match: {direction, proto, src, dst, sport, dport, uid, gid}, verdict}); any mismatch is listed and the exit status is 1.",
            valueName: "FILE"))
    var expect: String?

    @Option(
        help: ArgumentHelp(
            "Write every packet as the pod's sockets see it (destination after REDIRECT/DNAT towards the socket, source before un-NAT from it) to a pcap file.",
            valueName: "OUT"))
    var writePcap: String?

    @Option(help: "Owner of the app's outgoing connections.")
    var appUid: UInt32 = 1000

    @Option(help: "Group of the app's outgoing connections.")
    var appGid: UInt32 = 1000

    var captures: [String] { Self.split(positionals, commandLine: CommandLine.arguments).captures }
    var istioIptablesArguments: [String] {
        Self.split(positionals, commandLine: CommandLine.arguments).arguments
    }

    /// The positionals after the command line's first `--` are istio-iptables arguments.
    static func split(_ positionals: [String], commandLine: [String]) -> (
        captures: [String], arguments: [String]
    ) {
        guard let terminator = commandLine.firstIndex(of: "--") else { return (positionals, []) }
        let trailing = min(commandLine.count - terminator - 1, positionals.count)
        return (Array(positionals.dropLast(trailing)), Array(positionals.suffix(trailing)))
    }

    func validate() throws {
        if captures.isEmpty { throw ValidationError("give at least one capture file") }
        if rules == nil && rules6 == nil && istioIptablesArguments.isEmpty && scenario == nil && pod == nil {
            throw ValidationError(
                "give the rules: --rules FILE, --pod MANIFEST, --scenario FILE, or istio-iptables arguments after --"
            )
        }
    }

    func run() throws {
        var options = ReplayRun.Options(captures: captures)
        options.podIPs = podIPs
        options.rulesFile = rules
        options.rules6File = rules6
        options.arguments = istioIptablesArguments
        options.json = json
        options.filter = filter
        options.interfaceNames = ifindex
        options.scenario = scenario
        options.podManifest = pod
        options.expectations = expect
        options.writePcap = writePcap
        options.ownerRules = owner
        options.appUID = appUid
        options.appGID = appGid
        options.progress = isatty(2) == 1
        let stdout = FileHandle.standardOutput
        let status = ReplayRun.run(
            options, environment: ProcessInfo.processInfo.environment,
            stdout: { stdout.write(Data($0.utf8)) },
            stderr: { FileHandle.standardError.write(Data($0.utf8)) })
        if status != 0 { throw ExitCode(status) }
    }
}

/// `iptsim replay` without the terminal (tests call this with closures collecting the output).
public enum ReplayRun {
    public struct Options: Sendable {
        public var captures: [String]
        public var podIPs: [String] = []
        public var rulesFile: String?
        public var rules6File: String?
        public var arguments: [String] = []
        public var json = false
        public var filter: String?
        public var interfaceNames = "1=lo"
        public var appUID: UInt32 = 1000
        public var appGID: UInt32 = 1000
        public var scenario: String?
        public var podManifest: String?
        public var expectations: String?
        public var writePcap: String?
        public var ownerRules: [String] = []
        public var progress = false
        /// Packets read to infer the pod's addresses when --pod-ip is not given.
        public var inferencePackets = 200_000

        public init(captures: [String]) { self.captures = captures }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the replay; returns the exit status (0, or 1 with the error on stderr).
    public static func run(
        _ options: Options, environment: [String: String], machine: any Machine = LiveMachine(),
        stdout: @escaping (String) -> Void, stderr: (String) -> Void
    ) -> Int32 {
        do {
            let interfaceNames = try parseInterfaceNames(options.interfaceNames)
            var pods: [IPAddress] = []
            for text in options.podIPs {
                guard case .success(let address) = IPAddress.parse(text) else {
                    throw Failure(description: "--pod-ip: not an address: \(text)")
                }
                pods.append(address)
            }
            if let filter = options.filter {
                do { try PacketFilter.validate(filter) } catch {
                    throw Failure(description: error.description)
                }
            }
            // Open every capture first: a missing or non-capture file fails before any output.
            for path in options.captures {
                do { _ = try CaptureFile(path: path) } catch { throw Failure(description: error.description) }
            }
            var rules: [OwnerRule] = []
            for text in options.ownerRules {
                do { rules.append(try OwnerRule(text)) } catch {
                    throw Failure(description: error.description)
                }
            }
            var scenario: (network: Network, environment: PodEnvironment, tables: [IPFamily: RuleTables])?
            if let path = options.scenario {
                scenario = try loadScenario(path)
                // Every address of the pod's interfaces (its setup may add some).
                if pods.isEmpty, let pod = scenario?.network.hosts["pod"] {
                    pods = pod.interfaces.filter { $0.name != "lo" }.flatMap { $0.addresses.map(\.address) }
                }
            }
            var options = options
            var environment = environment
            var machine = machine
            if let manifest = options.podManifest {
                switch PodRuleSource.resolve(path: manifest, extraArguments: options.arguments) {
                case .failure(let error): throw Failure(description: error.description)
                case .success(let source):
                    options.arguments = source.arguments
                    environment = source.environment
                    machine = source.machine
                    for note in source.notes { stderr("note: \(note)\n") }
                    if pods.isEmpty, let text = source.podIP,
                        case .success(let address) = IPAddress.parse(text)
                    {
                        pods = [address]
                    }
                }
            }
            let inferred = pods.isEmpty
            if inferred {
                pods = try inferPods(options)
                stderr(
                    "pod IPs inferred from the capture: \(pods.map(\.description).joined(separator: ", "))\n")
            }
            var simulators: [Simulator] = []
            var config = CaptureConfig()
            if let scenario {
                for family in [IPFamily.ipv4, .ipv6] {
                    guard let rules = scenario.tables[family] else { continue }
                    var environment = scenario.environment
                    if family == .ipv6 {
                        guard let pod6 = environment.podAddress6, let peer6 = environment.peerAddress6 else {
                            continue
                        }
                        environment.podAddress = pod6
                        environment.peerAddress = peer6
                    }
                    simulators.append(
                        Simulator(network: scenario.network, environment: environment, rules: rules))
                }
            } else {
                let tables: [IPFamily: RuleTables]
                (tables, config) = try loadRules(
                    options, families: Set(pods.map(\.family)), environment, machine)
                for family in [IPFamily.ipv4, .ipv6] {
                    guard let pod = pods.first(where: { $0.family == family }), let rules = tables[family]
                    else {
                        continue
                    }
                    simulators.append(
                        try Simulator(rules: rules, environment: TraceReport.standardPod(pod, config)))
                }
            }
            var verdicts = SimulatorVerdicts(
                simulators: simulators,
                ports: .init(
                    outbound: config.proxyPort.port ?? 15001, inbound: config.inboundCapturePort.port ?? 15006
                ),
                owners: {
                    var owners = SimulatorVerdicts.Owners(appUID: options.appUID, appGID: options.appGID)
                    owners.rules = rules
                    return owners
                }())
            verdicts.setInterfaceNames(interfaceNames)

            var check: ExpectationCheck?
            if let path = options.expectations {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw Failure(description: "cannot read \(path)")
                }
                check = ExpectationCheck(
                    try ExpectationsFile.parse(String(decoding: data, as: UTF8.self), path: path))
            }
            var summary = ReplaySummary()
            var buffer = ""
            let json = options.json
            let joiner = LoopbackLegJoiner { flow in
                check?.check(flow)
                if json {
                    buffer += FlowJSON.line(flow, interfaceNames: interfaceNames)
                    buffer += "\n"
                    if buffer.utf8.count >= 1 << 16 {
                        stdout(buffer)
                        buffer = ""
                    }
                } else {
                    summary.add(flow)
                }
            }
            let tracker = FlowTracker(
                podAddresses: pods, verdicts: verdicts, recordsTranslations: options.writePcap != nil
            ) { joiner.add($0) }
            joiner.legsPossible = { [weak tracker] in tracker?.sawLoopbackLeg ?? true }
            var writer: PcapWriter?
            if let out = options.writePcap {
                // One link type per pcap file: the first capture's.
                let first: CaptureFile
                do { first = try CaptureFile(path: options.captures[0]) } catch {
                    throw Failure(description: error.description)
                }
                guard let record = try? first.next() else {
                    throw Failure(description: "--write-pcap: \(options.captures[0]) has no packet")
                }
                do { writer = try PcapWriter(path: out + ".partial", linkType: record.linkType) } catch {
                    throw Failure(description: error.description)
                }
            }
            var rewritten = 0
            for path in options.captures {
                rewritten += try replay(path, options, tracker, writer, stderr)
            }
            tracker.finish()
            joiner.finish()
            if let writer, let out = options.writePcap {
                writer.close()
                // Only a complete file takes the name.
                _ = try? FileManager.default.removeItem(atPath: out)
                do { try FileManager.default.moveItem(atPath: out + ".partial", toPath: out) } catch {
                    throw Failure(description: "--write-pcap: \(error.localizedDescription)")
                }
                stderr(
                    "rewritten capture: \(out) (\(tracker.statistics.packets) packets, \(rewritten) rewritten)\n"
                )
            }
            if json {
                stdout(buffer)
                stderr(
                    "\(tracker.statistics.packets) packets, \(tracker.statistics.flows) flows, \(tracker.verdicts.simulations) simulations\n"
                )
            } else {
                stdout(summary.render(statistics: tracker.statistics, podAddresses: pods, inferred: inferred))
            }
            if let check {
                if !check.passed {
                    stderr(check.report())
                    stderr(
                        "expectations: \(check.mismatchCount) flows with another verdict, \(check.unmet.count) expectations matched no flow\n"
                    )
                    return 1
                }
                stderr(
                    "expectations: all \(check.expectations.count) met (\(check.matched.reduce(0, +)) flow matches)\n"
                )
            }
            return 0
        } catch {
            stderr("error: \(error)\n")
            return 1
        }
    }

    /// Reads one capture into the tracker. A truncated last record is a warning.
    /// Returns how many packets `--write-pcap` rewrote.
    @discardableResult
    static func replay(
        _ path: String, _ options: Options, _ tracker: FlowTracker, _ writer: PcapWriter?,
        _ stderr: (String) -> Void
    ) throws -> Int {
        let source: CaptureFile
        do { source = try CaptureFile(path: path, filter: options.filter) } catch {
            throw Failure(description: error.description)
        }
        let progress = options.progress
        var count = 0
        var packet = DecodedPacket(linkType: .ethernet)
        var mixed: String?
        var rewritten = 0
        defer { if progress { stderr("\r\u{1b}[K") } }
        do {
            var record = PacketRecord.none
            while try source.next(into: &record) {
                // Nearly every packet is a plain TCP/UDP one: its flow fields are read directly;
                // the full decoder takes the rest (and every packet being rewritten).
                if writer != nil
                    || !tracker.addPipelined(
                        record.bytes, linkType: record.linkType, timestamp: record.timestampNanoseconds)
                {
                    PacketDecoder.decode(record.bytes, linkType: record.linkType, into: &packet)
                    tracker.add(packet, timestamp: record.timestampNanoseconds)
                }
                if let writer {
                    if record.linkType != writer.linkType {
                        mixed =
                            "--write-pcap: \(path) record \(record.index) has link type \(record.linkType), the file \(writer.linkType)"
                        break
                    }
                    if let translation = tracker.lastTranslation {
                        var bytes = Array(record.bytes)
                        if PacketRewriter.apply(translation, to: &bytes, packet) { rewritten += 1 }
                        writer.write(
                            timestampNanoseconds: record.timestampNanoseconds, bytes: bytes,
                            originalLength: record.originalLength)
                    } else {
                        writer.write(record)
                    }
                }
                count &+= 1
                if progress && count & 0x3ffff == 0 {
                    let percent = source.fileSize > 0 ? source.bytesRead * 100 / source.fileSize : 0
                    stderr("\r\(path): \(percent)% (\(count) packets)\u{1b}[K")
                }
            }
        } catch {
            guard error.isTruncatedRecord else { throw Failure(description: error.description) }
            stderr("warning: \(error)\n")
            return rewritten
        }
        if let mixed { throw Failure(description: mixed) }
        return rewritten
    }

    static func inferPods(_ options: Options) throws -> [IPAddress] {
        var guess = PodAddressGuess()
        for path in options.captures where guess.packets < options.inferencePackets {
            let source: CaptureFile
            do { source = try CaptureFile(path: path, filter: options.filter) } catch {
                throw Failure(description: error.description)
            }
            while guess.packets < options.inferencePackets, let record = try? source.next() {
                guess.add(PacketDecoder.decode(record.bytes, linkType: record.linkType))
            }
        }
        let addresses = guess.addresses
        if addresses.isEmpty {
            throw Failure(description: "no pod IP given and none found in the capture: use --pod-ip")
        }
        return addresses
    }

    /// A scenario file: its rules, its environment, and the hosts built from them.
    static func loadScenario(_ path: String) throws -> (
        network: Network, environment: PodEnvironment, tables: [IPFamily: RuleTables]
    ) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path)")
        }
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw Failure(description: "\(path): not a JSON object")
            }
            var tables: [IPFamily: RuleTables] = [:]
            for (family, text) in try ScenarioRunner.ruleTexts(object) where !text.isEmpty {
                switch RestoreParser.parse(text, family: family) {
                case .failure(let error):
                    throw Failure(description: "\(path): rules (\(family.rawValue)): \(error)")
                case .success(let document): tables[family] = try RuleTables(document)
                }
            }
            let environment = try ScenarioRunner.environment(object)
            let network = try environment.network(rules: tables.mapValues { $0 })
            return (network, environment, tables)
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
    }

    /// `1=lo,2=eth0`.
    static func parseInterfaceNames(_ text: String) throws -> [UInt32: String] {
        var names: [UInt32: String] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let index = UInt32(parts[0]), !parts[1].isEmpty else {
                throw Failure(description: "--ifindex: '\(item)' is not INDEX=NAME (e.g. 1=lo,2=eth0)")
            }
            names[index] = String(parts[1])
        }
        return names
    }

    /// The pod's rules per family: from files, or generated from istio-iptables arguments.
    static func loadRules(
        _ options: Options, families: Set<IPFamily>, _ environment: [String: String], _ machine: any Machine
    ) throws -> ([IPFamily: RuleTables], CaptureConfig) {
        var texts: [IPFamily: String] = [:]
        var config = CaptureConfig()
        if options.rulesFile != nil || options.rules6File != nil {
            for (path, family) in [(options.rulesFile, IPFamily.ipv4), (options.rules6File, .ipv6)] {
                guard let path else { continue }
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw Failure(description: "cannot read \(path)")
                }
                texts[family] = String(decoding: data, as: UTF8.self)
            }
        } else {
            switch IstioIptablesCommand(environment: environment, machine: machine).ruleSet(options.arguments)
            {
            case .failure(let error): throw Failure(description: error.description)
            case .success(let result):
                config = result.config
                for family in families {
                    texts[family] = RuleText.restore(
                        family == .ipv4 ? result.rules.v4 : result.rules.v6, layout: result.release.layout)
                }
            }
        }
        var tables: [IPFamily: RuleTables] = [:]
        for (family, text) in texts {
            switch RestoreParser.parse(text, family: family) {
            case .failure(let error): throw Failure(description: "rules (\(family.rawValue)): \(error)")
            case .success(let document): tables[family] = try RuleTables(document)
            }
        }
        return (tables, config)
    }
}
