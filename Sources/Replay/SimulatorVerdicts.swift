import Netfilter
import PacketModel

/// The only place Replay calls the simulator: one `Simulator.run(Flow)` per distinct flow start,
/// mapped to a ``FlowVerdict``. (Kept small on purpose: the simulator may gain packet-level
/// calls, and only this file would change.)
///
/// Results are cached by everything the simulator reads from a `Flow` — direction, protocol,
/// the destination address and port, uid/gid — and by what it can tell about the source:
/// - the source port only when a reachable rule matches source ports (`--sport`, `--sports`,
///   `--ports`);
/// - the source address only up to its class: which reachable `-s` CIDRs and `-m iprange
///   --src-range` ranges contain it, whether it is loopback, the pod's address (`-m addrtype
///   --src-type LOCAL`) or the peer's. Addresses of one class walk the same rules the same way.
/// Flows from any client to one service therefore cost one simulation. (If the simulator comes to
/// read source addresses elsewhere, extend ``SourceClasses``.)
public struct SimulatorVerdicts {
    /// Ports that name a verdict when a flow lands on them in the pod.
    public struct Ports: Sendable {
        public var outbound: UInt16 = 15001
        public var inbound: UInt16 = 15006
        public var dns: UInt16 = 15053
        public init(outbound: UInt16 = 15001, inbound: UInt16 = 15006, dns: UInt16 = 15053) {
            self.outbound = outbound
            self.inbound = inbound
            self.dns = dns
        }
    }

    /// Who owns the sockets of the pod's outgoing flows.
    public struct Owners: Sendable {
        public var appUID: UInt32 = 1000
        public var appGID: UInt32 = 1000
        public var proxyUID: UInt32 = 1337
        public var proxyGID: UInt32 = 1337
        /// `--owner` rules, consulted when the capture does not say.
        public var rules: [OwnerRule] = []
        public init(
            appUID: UInt32 = 1000, appGID: UInt32 = 1000, proxyUID: UInt32 = 1337, proxyGID: UInt32 = 1337
        ) {
            self.appUID = appUID
            self.appGID = appGID
            self.proxyUID = proxyUID
            self.proxyGID = proxyGID
        }
    }

    struct Key: Hashable {
        var direction: Flow.Direction
        var proto: IPProtocol
        var source: IPAddress
        var destination: IPAddress
        var sourcePort: UInt16
        var destinationPort: UInt16
        var uid: UInt32
        var gid: UInt32
        /// Inbound: which of the pod's links the flow came in by (index into `clientHosts`).
        var client: Int8 = -1

        /// One combine of a cheap mix instead of one per field (the cache is hit per new flow).
        func hash(into hasher: inout Hasher) {
            var h = UInt64(proto.rawValue) << 56 | UInt64(sourcePort) << 32 | UInt64(destinationPort) << 16
            h ^= UInt64(uid) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(gid) << 40 ^ (direction == .inbound ? 1 : 0)
            h ^= UInt64(UInt8(bitPattern: client)) << 1
            h = Self.mix(h, source)
            h = Self.mix(h, destination)
            hasher.combine(h)
        }

        @inline(__always) static func mix(_ h: UInt64, _ address: IPAddress) -> UInt64 {
            var h = h
            switch address {
            case .v4(let v4): h = (h ^ UInt64(v4.value)) &* 0xBF58_476D_1CE4_E5B9
            case .v6(let v6): h = (h ^ v6.high ^ (v6.low &* 0x94D0_49BB_1331_11EB)) &* 0xBF58_476D_1CE4_E5B9
            }
            return h ^ (h >> 29)
        }
    }

    /// Per family, indexed by ``slot(_:)`` (IPv4 0, IPv6 1): arrays, not dictionaries, as this
    /// runs for every new flow.
    let simulators: [Simulator?]
    let sourcePortMatters: [Bool]
    var sourceClasses: [SourceClasses?]
    public let ports: Ports
    public let owners: Owners
    var cache: [Key: Int32] = [:]
    /// Capture interface index -> the host at the other end of that pod interface (`-k` VMs,
    /// extra links), for inbound flows that did not come in by eth0.
    var clientByInterface: [UInt32: Int8] = [:]
    var clientHosts: [String] = []
    var indexes: [FlowVerdict: Int32] = [:]
    /// Every distinct verdict, by index.
    public private(set) var verdicts: [FlowVerdict] = []
    /// How many times the simulator ran.
    public private(set) var simulations = 0
    /// The cache is cleared past this many entries (memory stays bounded).
    static let cacheLimit = 1 << 17

    /// One simulator per family present (the pod's rules for IPv4 and/or IPv6).
    public init(simulators: [Simulator], ports: Ports = Ports(), owners: Owners = Owners()) {
        var byFamily: [Simulator?] = [nil, nil]
        var matters = [false, false]
        var classes: [SourceClasses?] = [nil, nil]
        for simulator in simulators {
            guard let environment = simulator.environment, let lookup = simulator.rules else { continue }
            // Each flow is judged on its own, from the pod as built.
            simulator.isolatesFlows = true
            simulator.describesPackets = false
            let family = Self.slot(environment.podAddress.family)
            byFamily[family] = simulator
            let rules = Self.reachableRules(lookup)
            matters[family] = rules.contains { rule in
                rule.matches.contains {
                    switch $0 {
                    case .port(let port): port.side == .source
                    case .multiport(let multi): multi.side != .destination
                    default: false
                    }
                }
            }
            classes[family] = SourceClasses(rules, environment)
        }
        self.simulators = byFamily
        sourcePortMatters = matters
        sourceClasses = classes
        self.ports = ports
        self.owners = owners
        _ = intern(FlowVerdict(verdict: .notSimulated, detail: "not the pod's flow"))
        _ = intern(FlowVerdict(verdict: .notSimulated, detail: "protocol not simulated"))
        _ = intern(FlowVerdict(verdict: .notSimulated, detail: "no rules for this family"))
        _ = intern(
            FlowVerdict(verdict: .notSimulated, detail: "ports unknown (a later fragment or a cut header)"))
    }

    /// Names the capture's interface indexes (LINUX_SLL2): inbound flows seen on a pod interface
    /// other than eth0 are sent from the host at its other end.
    public mutating func setInterfaceNames(_ names: [UInt32: String]) {
        guard let pod = simulators.compactMap({ $0 }).first?.network.hosts["pod"] else { return }
        for (index, name) in names where name != "eth0" {
            guard let host = pod.interface(name)?.link?.host else { continue }
            if !clientHosts.contains(host) { clientHosts.append(host) }
            clientByInterface[index] = Int8(clientHosts.firstIndex(of: host)!)
        }
    }

    public static let notPodFlow: Int32 = 0
    public static let protocolNotSimulated: Int32 = 1
    public static let noRules: Int32 = 2
    public static let portsUnknown: Int32 = 3

    /// The owner the simulation assumes for a flow the pod starts: Envoy's when it comes from
    /// 127.0.0.6 (Envoy's inbound passthrough source address), the app's otherwise.
    public func owner(initiator: IPAddress) -> (uid: UInt32, gid: UInt32) {
        if case .v4(let address) = initiator, address == IPv4Address(127, 0, 0, 6) {
            return (owners.proxyUID, owners.proxyGID)
        }
        return (owners.appUID, owners.appGID)
    }

    /// The owner of a flow the pod starts: what the capture saw (an NFLOG record of its first
    /// packet), else the first `--owner` rule that matches, else ``owner(initiator:)``.
    public func owner(
        initiator: IPAddress, initiatorPort: UInt16, responder: IPAddress, responderPort: UInt16,
        observed: (uid: UInt32, gid: UInt32)?
    ) -> (uid: UInt32, gid: UInt32) {
        if let observed { return observed }
        for rule in owners.rules
        where rule.matches(
            initiator: initiator, initiatorPort: initiatorPort, responder: responder,
            responderPort: responderPort)
        {
            return (rule.uid, rule.gid)
        }
        return owner(initiator: initiator)
    }

    /// The verdict index for a flow (see ``verdicts``).
    public mutating func verdict(
        direction: FlowDirection, proto: IPProtocol, initiator: IPAddress, initiatorPort: UInt16,
        responder: IPAddress, responderPort: UInt16, owner: (uid: UInt32, gid: UInt32),
        interfaceIndex: UInt32? = nil
    ) -> Int32 {
        guard direction != .transit else { return Self.notPodFlow }
        guard proto == .tcp || proto == .udp else { return Self.protocolNotSimulated }
        let family = Self.slot(responder.family)
        guard let simulator = simulators[family] else { return Self.noRules }
        let (uid, gid) = owner
        let source = sourceClasses[family]?.representative(of: initiator) ?? initiator
        var key = Key(
            direction: direction == .inbound ? .inbound : .outbound, proto: proto, source: source,
            destination: responder,
            sourcePort: sourcePortMatters[family] ? initiatorPort : 0,
            destinationPort: responderPort, uid: uid, gid: gid)
        if direction == .inbound, let interfaceIndex, let client = clientByInterface[interfaceIndex] {
            key.client = client
        }
        if let index = cache[key] { return index }
        simulations += 1
        var flow = Flow(
            id: "replay", direction: key.direction, proto: proto, destination: responder,
            destinationPort: responderPort, source: initiator, sourcePort: initiatorPort, uid: uid, gid: gid)
        if key.client >= 0 { flow.clientNamespace = clientHosts[Int(key.client)] }
        let result = simulator.run(flow)
        let index = intern(map(result))
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[key] = index
        return index
    }

    func map(_ result: FlowResult) -> FlowVerdict {
        let firstRule = result.natTrace.first.map {
            (["-A", $0.chain.rawValue] + $0.rule.arguments).joined(separator: " ")
        }
        switch result.outcome {
        case .accepted(let namespace, let port, _, _, let original, _):
            var verdict = Verdict.direct
            if namespace == "pod" {
                if port == ports.outbound {
                    verdict = .envoyOutbound
                } else if port == ports.inbound {
                    verdict = .envoyInbound
                } else if port == ports.dns {
                    verdict = .dnsAgent
                }
            }
            var landed = FlowVerdict(
                verdict: verdict, socketPort: port, reportsOriginalDestination: original != nil,
                firstRule: firstRule, detail: namespace == "pod" ? nil : "leaves the pod")
            if namespace == "pod", let (address, localPort) = result.localEndpoint {
                landed.localAddress = address
                landed.localPort = localPort
            }
            return landed
        case .error(let error):
            return FlowVerdict(
                verdict: error == "refused" ? .refused : .dropped, firstRule: firstRule, detail: error)
        }
    }

    mutating func intern(_ verdict: FlowVerdict) -> Int32 {
        if let index = indexes[verdict] { return index }
        let index = Int32(verdicts.count)
        verdicts.append(verdict)
        indexes[verdict] = index
        return index
    }

    @inline(__always) static func slot(_ family: IPFamily) -> Int { family == .ipv4 ? 0 : 1 }

    /// Every rule reachable from a built-in chain, in any table.
    static func reachableRules(_ rules: any RuleLookup) -> [Rule] {
        var found: [Rule] = []
        for table in [Table.raw, .mangle, .nat, .filter] {
            var pending = table.builtinChains
            var seen = Set(pending)
            while let chain = pending.popLast() {
                for rule in rules.rules(table, chain) ?? [] {
                    found.append(rule)
                    if let next = rule.target.jumpedChain, seen.insert(next).inserted { pending.append(next) }
                }
            }
        }
        return found
    }
}

/// Source addresses grouped by everything the rules and the simulator can test about them: the
/// first address met in each group stands for the group in the verdict cache.
struct SourceClasses {
    var networks: [CIDR] = []
    var ranges: [(IPAddress, IPAddress)] = []
    var special: [IPAddress]
    /// Too many tests to pack into 64 bits: every address is its own class.
    var exact = false
    var representatives: [UInt64: IPAddress] = [:]

    init(_ rules: [Rule], _ environment: PodEnvironment) {
        special = [environment.podAddress, environment.peerAddress] + environment.peerExtraAddresses
        for rule in rules {
            for match in rule.matches {
                switch match {
                case .address(let address) where address.side == .source:
                    if !networks.contains(address.network) { networks.append(address.network) }
                case .ipRange(let range):
                    if let source = range.source { ranges.append((source.first, source.last)) }
                default: break
                }
            }
        }
        exact = 1 + special.count + networks.count + ranges.count > 63
    }

    mutating func representative(of address: IPAddress) -> IPAddress {
        if exact { return address }
        var bits: UInt64 = address.isLoopback ? 1 : 0
        var bit: UInt64 = 2
        for candidate in special {
            if candidate == address { bits |= bit }
            bit <<= 1
        }
        for network in networks {
            if network.contains(address) { bits |= bit }
            bit <<= 1
        }
        for (first, last) in ranges {
            if first <= address && address <= last { bits |= bit }
            bit <<= 1
        }
        if let known = representatives[bits] { return known }
        if representatives.count >= 1 << 16 { representatives.removeAll() }
        representatives[bits] = address
        return address
    }
}
