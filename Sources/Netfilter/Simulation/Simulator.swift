import PacketModel

/// Walks a flow's first packet through the pod's netfilter hooks in the kernel's order and
/// lands it on the socket the kernel would pick. Locally generated: OUTPUT (raw, mangle, nat,
/// filter) with re-routing after NAT or a mark change, then POSTROUTING (mangle, nat); looped
/// back over lo it meets PREROUTING and INPUT again, but nat only once per connection.
/// Arriving on eth0: PREROUTING (raw, mangle, nat), the routing decision (with fwmark policy
/// routing for TPROXY), then INPUT (mangle, filter, nat).
public struct Simulator {
    public let rules: any RuleLookup
    public let environment: PodEnvironment

    public init(rules: any RuleLookup, environment: PodEnvironment) {
        self.rules = rules
        self.environment = environment
    }

    public static func text(_ address: IPAddress, _ port: UInt16) -> String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    public func run(_ flow: Flow) -> FlowResult {
        var walks: [(ChainName, Walk)] = []
        let walker = ChainWalker(rules: rules)
        var packet: PacketHeader
        var context: PacketContext
        let loopback: IPAddress = environment.podAddress.family == .ipv4 ? .v4(.loopback) : .v6(.loopback)
        var natMatched: [(ChainName, Rule)] = []

        func record(_ hook: ChainName, _ table: Table, _ walk: Walk) {
            walks.append((hook, walk))
            if table == .nat {
                for step in walk.steps where step.matched { natMatched.append((step.chain, step.rule)) }
            }
        }

        switch flow.direction {
        case .outbound:
            let outInterface = environment.isPodLocal(flow.destination) ? "lo" : "eth0"
            // Source selection: the loopback routes carry `src 127.0.0.1` (`::1`); everything
            // else, the pod address included, leaves from the pod address.
            let source = flow.source ?? (flow.destination.isLoopback ? loopback : environment.podAddress)
            packet = PacketHeader(
                proto: flow.proto, source: source, sourcePort: flow.sourcePort, destination: flow.destination,
                destinationPort: flow.destinationPort, tcpFlags: flow.proto == .tcp ? ["SYN"] : [])
            context = PacketContext(
                hook: .output, outInterface: outInterface, mark: flow.mark, socketUID: flow.uid,
                socketGID: flow.gid,
                localAddresses: [environment.podAddress])
            let originalDestination = Self.text(flow.destination, flow.destinationPort)
            for table in [Table.raw, .mangle] {
                let walk = walker.walk(table, hook: .output, packet: packet, context: context)
                record(.output, table, walk)
                context.mark = walk.mark
                context.connectionMark = walk.connectionMark
                if walk.verdict == .drop || walk.verdict == .policy(.drop) {
                    return result(flow, .error("eperm"), natMatched, walks)
                }
            }
            let nat = walker.walk(.nat, hook: .output, packet: packet, context: context)
            record(.output, .nat, nat)
            var natted = false
            switch nat.verdict {
            case .target(.redirect(let redirect)):
                packet.destination = loopback
                packet.destinationPort = redirect.ports.range?.lowerBound ?? packet.destinationPort
                natted = true
            case .target(.nat(let dnat)) where dnat.kind == .dnat:
                if let (address, port) = Self.parseEndpoint(dnat.to ?? "") {
                    packet.destination = address
                    packet.destinationPort = port ?? packet.destinationPort
                    natted = true
                }
            case .drop, .policy(.drop):
                return result(flow, .error("eperm"), natMatched, walks)
            default:
                break
            }
            // Re-routing after NAT: a local destination now leaves through lo.
            if natted { context.outInterface = environment.isPodLocal(packet.destination) ? "lo" : "eth0" }
            let filter = walker.walk(.filter, hook: .output, packet: packet, context: context)
            record(.output, .filter, filter)
            if filter.verdict == .drop || filter.verdict == .policy(.drop) {
                return result(flow, .error("eperm"), natMatched, walks)
            }
            for table in [Table.mangle, .nat] {
                let walk = walker.walk(table, hook: .postrouting, packet: packet, context: context)
                record(.postrouting, table, walk)
            }
            if context.outInterface == "lo" {
                // Looped back: PREROUTING and INPUT without nat (the connection is already set up).
                var input = context
                input.hook = .prerouting
                input.inInterface = "lo"
                input.outInterface = nil
                input.socketUID = nil
                input.socketGID = nil
                let mangle = walker.walk(.mangle, hook: .prerouting, packet: packet, context: input)
                record(.prerouting, .mangle, mangle)
                return result(
                    flow,
                    deliver(
                        packet, in: "pod", listeners: environment.listeners,
                        originalDestination: originalDestination, transparent: nil),
                    natMatched, walks)
            }
            // Out through eth0 to the peer.
            guard environment.isPeer(packet.destination) || environment.peerOwnsEverything else {
                return result(flow, .error("timeout"), natMatched, walks)
            }
            return result(
                flow,
                deliver(
                    packet, in: "peer", listeners: environment.peerListeners, originalDestination: nil,
                    transparent: nil),
                natMatched, walks)

        case .inbound:
            let source = flow.source ?? environment.peerAddress
            packet = PacketHeader(
                proto: flow.proto, source: source, sourcePort: flow.sourcePort, destination: flow.destination,
                destinationPort: flow.destinationPort, tcpFlags: flow.proto == .tcp ? ["SYN"] : [])
            context = PacketContext(
                hook: .prerouting, inInterface: "eth0", mark: 0, localAddresses: [environment.podAddress])
            let originalDestination = Self.text(flow.destination, flow.destinationPort)
            var tproxy: TProxyTarget?
            for table in [Table.raw, .mangle] {
                let walk = walker.walk(table, hook: .prerouting, packet: packet, context: context)
                record(.prerouting, table, walk)
                context.mark = walk.mark
                context.connectionMark = walk.connectionMark
                if case .target(.tproxy(let target)) = walk.verdict {
                    tproxy = target
                    if let value = target.mark.value {
                        let mask = target.mark.mask ?? .max
                        context.mark = (context.mark & ~mask) ^ value
                    }
                }
                if walk.verdict == .drop || walk.verdict == .policy(.drop) {
                    return result(flow, .error("timeout"), natMatched, walks)
                }
            }
            let nat = walker.walk(.nat, hook: .prerouting, packet: packet, context: context)
            record(.prerouting, .nat, nat)
            if case .target(.redirect(let redirect)) = nat.verdict {
                // REDIRECT in PREROUTING: the primary address of the incoming interface.
                packet.destination = environment.podAddress
                packet.destinationPort = redirect.ports.range?.lowerBound ?? packet.destinationPort
            } else if case .target(.nat(let dnat)) = nat.verdict, dnat.kind == .dnat,
                let (address, port) = Self.parseEndpoint(dnat.to ?? "")
            {
                packet.destination = address
                packet.destinationPort = port ?? packet.destinationPort
            }
            // Routing: local if the destination is ours or a policy rule's mark says so.
            let markRoutesLocally = environment.localDeliveryMarks.contains {
                context.mark & $0.mask == $0.mark
            }
            guard environment.isPodLocal(packet.destination) || markRoutesLocally else {
                return result(flow, .error("timeout"), natMatched, walks)
            }
            var input = context
            input.hook = .input
            for table in [Table.mangle, .filter, .nat] {
                let walk = walker.walk(table, hook: .input, packet: packet, context: input)
                record(.input, table, walk)
                if table == .filter && (walk.verdict == .drop || walk.verdict == .policy(.drop)) {
                    return result(flow, .error("timeout"), natMatched, walks)
                }
            }
            return result(
                flow,
                deliver(
                    packet, in: "pod", listeners: environment.listeners,
                    originalDestination: originalDestination, transparent: tproxy),
                natMatched, walks)
        }
    }

    /// The socket lookup: TPROXY sends to its on-port listener, which must be transparent;
    /// otherwise a listener on the destination port bound to the address or the wildcard.
    func deliver(
        _ packet: PacketHeader, in namespace: String, listeners: [Listener], originalDestination: String?,
        transparent tproxy: TProxyTarget?
    ) -> FlowOutcome {
        let port = tproxy?.onPort.port ?? packet.destinationPort
        // Port 0 stands for "a socket on every port" (the app, or any remote host, in traces).
        let candidates =
            listeners.filter {
                $0.port == port && $0.proto == packet.proto
                    && ($0.bind == nil || $0.bind == packet.destination || tproxy != nil)
            } + listeners.filter { $0.port == 0 && $0.proto == packet.proto && tproxy == nil }
        guard let listener = candidates.first else {
            return .error(packet.proto == .tcp ? (tproxy != nil ? "timeout" : "refused") : "timeout")
        }
        if tproxy != nil && !listener.transparent { return .error("timeout") }
        return .accepted(
            namespace: namespace, port: listener.port == 0 ? port : listener.port, proto: packet.proto,
            local: Self.text(packet.destination, packet.destinationPort),
            originalDestination: originalDestination, source: packet.source.description)
    }

    func result(
        _ flow: Flow, _ outcome: FlowOutcome, _ nat: [(ChainName, Rule)], _ walks: [(ChainName, Walk)]
    ) -> FlowResult {
        // iptables-save order: built-in chains in hook order, then user chains by name.
        let builtin: [ChainName] = [.prerouting, .input, .output, .postrouting]
        let ordered = nat.enumerated().sorted { a, b in
            let ka = builtin.firstIndex(of: a.element.0) ?? Int.max
            let kb = builtin.firstIndex(of: b.element.0) ?? Int.max
            if ka != kb { return ka < kb }
            if a.element.0 != b.element.0 {
                return a.element.0.rawValue.utf8.lexicographicallyPrecedes(b.element.0.rawValue.utf8)
            }
            return position(a.element) < position(b.element)
        }.map { (chain: $0.element.0, rule: $0.element.1) }
        return FlowResult(id: flow.id, outcome: outcome, natTrace: ordered, walks: walks)
    }

    func position(_ entry: (ChainName, Rule)) -> Int {
        rules.rules(.nat, entry.0)?.firstIndex(of: entry.1) ?? 0
    }

    /// `A`, `A:P`, `[A6]:P`.
    static func parseEndpoint(_ text: String) -> (IPAddress, UInt16?)? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            guard
                case .success(let address) = IPAddress.parse(
                    String(text[text.index(after: text.startIndex)..<close]))
            else { return nil }
            let rest = text[text.index(after: close)...]
            return (address, rest.hasPrefix(":") ? UInt16(rest.dropFirst().split(separator: "-")[0]) : nil)
        }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard let first = parts.first, case .success(let address) = IPAddress.parse(String(first)) else {
            return nil
        }
        return (address, parts.count == 2 ? UInt16(parts[1].split(separator: "-")[0]) : nil)
    }
}
