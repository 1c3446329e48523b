import PacketModel

/// Hosts joined by veths, and the kernel's packet path through each: OUTPUT then POSTROUTING
/// for what a host sends, PREROUTING, the routing decision, then INPUT or FORWARD for what it
/// receives; at each hook the tables in priority order (raw, conntrack, mangle, nat, filter,
/// security), nat only for a connection's first packet, re-routing when mangle changes the
/// mark or nat the destination. Every table walked is recorded in `visits`.
public struct Network: Sendable {
    public var hosts: [String: Host]
    public var visits: [HookVisit] = []

    public init(hosts: [Host]) {
        self.hosts = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, $0) })
    }

    static let maxHops = 16

    // MARK: locally generated

    /// Sends a packet from a socket of `hostName` (source address already chosen).
    public mutating func send(_ packet: Packet, from hostName: String) -> PacketFate {
        var packet = packet
        guard let host = hosts[hostName] else { return .unreachable }
        var decision = host.routing.decide(
            packet.header.destination, mark: packet.mark, isLocal: host.isLocal)
        if case .unreachable = decision { return .unreachable }
        if host.tracksConnections(packet.header.family) {
            var out = Self.device(decision)
            let raw = walk(hostName, .raw, .output, &packet, in: nil, out: out)
            if raw?.isDrop == true { return .refusedLocally("eperm") }
            attachConntrack(hostName, &packet, raw)
            let markBefore = packet.mark
            let mangle = walk(hostName, .mangle, .output, &packet, in: nil, out: out)
            if mangle?.isDrop == true { return discard(hostName, packet, .refusedLocally("eperm")) }
            let destinationBefore = packet.header.destination
            guard nat(hostName, .output, &packet, in: nil, out: out) else {
                return discard(hostName, packet, .refusedLocally("eperm"))
            }
            if packet.mark != markBefore || packet.header.destination != destinationBefore {
                decision = reroute(hostName, packet)
                if case .unreachable = decision { return discard(hostName, packet, .unreachable) }
                out = Self.device(decision)
            }
            for table in [Table.filter, .security] {
                let verdict = walk(hostName, table, .output, &packet, in: nil, out: out)
                if verdict?.isDrop == true { return discard(hostName, packet, .refusedLocally("eperm")) }
                if case .target(.reject)? = verdict?.verdict {
                    return discard(hostName, packet, .refusedLocally("refused"))
                }
            }
            if let fate = postrouting(hostName, &packet, out: out) { return fate }
        }
        return transmit(packet, from: hostName, decision)
    }

    // MARK: received

    /// A packet arriving on `interfaceName` of `hostName`.
    mutating func receive(_ packet: Packet, at hostName: String, on interfaceName: String) -> PacketFate {
        var packet = packet
        packet.owner = nil
        guard let host = hosts[hostName] else { return .dropped(host: hostName, reason: "no such host") }
        let header = packet.header
        if interfaceName != "lo" && (header.source.isLoopback || header.destination.isLoopback) {
            return .dropped(host: hostName, reason: "martian packet (loopback address on \(interfaceName))")
        }
        if host.tracksConnections(packet.header.family) {
            let raw = walk(hostName, .raw, .prerouting, &packet, in: interfaceName, out: nil)
            if raw?.isDrop == true { return .dropped(host: hostName, reason: "raw PREROUTING") }
            attachConntrack(hostName, &packet, raw)
            let mangle = walk(hostName, .mangle, .prerouting, &packet, in: interfaceName, out: nil)
            if mangle?.isDrop == true {
                return discard(hostName, packet, .dropped(host: hostName, reason: "mangle PREROUTING"))
            }
            if case .target(.tproxy(let target))? = mangle?.verdict {
                guard tproxy(hostName, &packet, target, on: interfaceName) else {
                    return discard(
                        hostName, packet,
                        .dropped(
                            host: hostName,
                            reason: "TPROXY: no transparent socket on port \(target.onPort.text)"))
                }
            }
            guard nat(hostName, .prerouting, &packet, in: interfaceName, out: nil) else {
                return discard(hostName, packet, .dropped(host: hostName, reason: "nat PREROUTING"))
            }
        }
        let decision = hosts[hostName]!.routing.decide(
            packet.header.destination, mark: packet.mark, isLocal: hosts[hostName]!.isLocal)
        switch decision {
        case .local:
            if hosts[hostName]!.tracksConnections(packet.header.family) {
                for table in [Table.mangle, .filter, .security] {
                    let verdict = walk(hostName, table, .input, &packet, in: interfaceName, out: nil)
                    if verdict?.isDrop == true
                        || { if case .target(.reject)? = verdict?.verdict { true } else { false } }()
                    {
                        return discard(hostName, packet, .dropped(host: hostName, reason: "\(table) INPUT"))
                    }
                }
                guard nat(hostName, .input, &packet, in: interfaceName, out: nil) else {
                    return discard(hostName, packet, .dropped(host: hostName, reason: "nat INPUT"))
                }
                guard confirm(hostName, packet) else {
                    return .dropped(host: hostName, reason: "conntrack clash")
                }
            }
            return .arrived(host: hostName, interface: interfaceName, packet: packet)
        case .forward(let device, _, _, _):
            guard hosts[hostName]!.forwarding.contains(packet.header.family) else {
                return discard(
                    hostName, packet, .dropped(host: hostName, reason: "not a router (ip_forward=0)"))
            }
            packet.hops += 1
            if packet.hops > Self.maxHops { return .dropped(host: hostName, reason: "TTL exceeded") }
            if hosts[hostName]!.tracksConnections(packet.header.family) {
                for table in [Table.mangle, .filter, .security] {
                    let verdict = walk(hostName, table, .forward, &packet, in: interfaceName, out: device)
                    if verdict?.isDrop == true {
                        return discard(hostName, packet, .dropped(host: hostName, reason: "\(table) FORWARD"))
                    }
                }
                if let fate = postrouting(hostName, &packet, out: device) { return fate }
            }
            return transmit(packet, from: hostName, decision)
        case .unreachable:
            return discard(hostName, packet, .dropped(host: hostName, reason: "no route"))
        }
    }

    // MARK: pieces

    /// POSTROUTING (mangle, nat) and conntrack confirmation; nil when the packet goes on.
    mutating func postrouting(_ hostName: String, _ packet: inout Packet, out: String) -> PacketFate? {
        let mangle = walk(hostName, .mangle, .postrouting, &packet, in: nil, out: out)
        if mangle?.isDrop == true {
            return discard(hostName, packet, .dropped(host: hostName, reason: "mangle POSTROUTING"))
        }
        guard nat(hostName, .postrouting, &packet, in: nil, out: out) else {
            return discard(hostName, packet, .dropped(host: hostName, reason: "nat POSTROUTING"))
        }
        guard confirm(hostName, packet) else { return .dropped(host: hostName, reason: "conntrack clash") }
        return nil
    }

    /// Out of the host: over `lo` back into it, or across the veth to the host at its other end,
    /// which must own the next hop (else nobody answers ARP/ND and the packet is lost).
    mutating func transmit(_ packet: Packet, from hostName: String, _ decision: RouteDecision) -> PacketFate {
        switch decision {
        case .local:
            return receive(packet, at: hostName, on: "lo")
        case .forward(let device, let nextHop, _, _):
            guard let link = hosts[hostName]?.interface(device)?.link, let peer = hosts[link.host] else {
                return .dropped(host: hostName, reason: "\(device) leads nowhere")
            }
            guard peer.isLocal(nextHop) else {
                return .dropped(host: hostName, reason: "no neighbour \(nextHop) on \(device)")
            }
            // Crossing namespaces scrubs the skb: no mark, no conntrack entry, no socket.
            var crossing = packet
            crossing.mark = 0
            crossing.conntrack = nil
            crossing.assigned = nil
            return receive(crossing, at: link.host, on: link.interface)
        case .unreachable:
            return .dropped(host: hostName, reason: "no route")
        }
    }

    static func device(_ decision: RouteDecision) -> String {
        if case .forward(let device, _, _, _) = decision { return device }
        return "lo"
    }

    func reroute(_ hostName: String, _ packet: Packet) -> RouteDecision {
        let host = hosts[hostName]!
        return host.routing.decide(packet.header.destination, mark: packet.mark, isLocal: host.isLocal)
    }

    /// The conntrack lookup after raw (skipped when an entry is already attached, as for a packet
    /// looped back over `lo`): CT --zone picks the zone, CT --notrack / NOTRACK untracks.
    mutating func attachConntrack(_ hostName: String, _ packet: inout Packet, _ raw: Walk?) {
        guard packet.conntrack == nil else { return }
        // The first CT / NOTRACK decides: once a template is attached, later ones do nothing
        // (`xt_ct_target` returns XT_CONTINUE when the skb already has one).
        var zone: UInt16 = 0
        for effect in raw?.effects ?? [] {
            if case .notrack = effect {
                packet.conntrack = .untracked
                return
            }
            guard case .ct(let target) = effect else { continue }
            if target.notrack {
                packet.conntrack = .untracked
                return
            }
            zone = target.zone ?? 0
            break
        }
        packet.conntrack = hosts[hostName]!.conntrack.classify(
            packet.header, zone: zone, icmpOriginal: packet.icmpOriginal)
    }

    mutating func confirm(_ hostName: String, _ packet: Packet) -> Bool {
        guard let id = packet.conntrack?.entry else { return true }
        return hosts[hostName]!.conntrack.confirm(id)
    }

    mutating func discard(_ hostName: String, _ packet: Packet, _ fate: PacketFate) -> PacketFate {
        if let id = packet.conntrack?.entry { hosts[hostName]!.conntrack.discardUnconfirmed(id) }
        return fate
    }

    /// A NAT hook (`nf_nat_inet_fn`): for a connection's first packet, walk the nat chain and
    /// bind the connection (or bind it to itself); then rewrite the packet as the binding says.
    /// Returns false when the packet is dropped.
    mutating func nat(
        _ hostName: String, _ hook: ChainName, _ packet: inout Packet, in inInterface: String?, out: String?
    )
        -> Bool
    {
        guard let verdict = packet.conntrack, let id = verdict.entry,
            let manipulation = NATManipulation(hook: hook)
        else { return true }
        var entry = hosts[hostName]!.conntrack[id]!
        if (verdict.state == .new || verdict.state == .related)
            && !entry.natInitialised.contains(manipulation)
        {
            let walked = walk(hostName, .nat, hook, &packet, in: inInterface, out: out)
            entry = hosts[hostName]!.conntrack[id]!
            var reply = entry.reply
            switch walked?.verdict {
            case .drop?, .policy(.drop)?:
                return false
            case .target(.redirect(let redirect))? where manipulation == .destination:
                let family = packet.header.family
                let address: IPAddress?
                if hook == .output {
                    address = family == .ipv4 ? .v4(.loopback) : .v6(.loopback)
                } else {
                    address = inInterface.flatMap { hosts[hostName]!.interface($0)?.primaryAddress(family) }
                }
                guard let address else { return false }
                reply.source = address
                reply.sourcePort = redirect.ports.range?.lowerBound ?? entry.original.destinationPort
            case .target(.nat(let target))?:
                let endpoint = Simulator.parseEndpoint(target.to ?? "")
                switch (target.kind, manipulation) {
                case (.dnat, .destination):
                    if let (address, port) = endpoint {
                        reply.source = address
                        reply.sourcePort = port ?? reply.sourcePort
                    }
                case (.snat, .source):
                    if let (address, port) = endpoint {
                        reply.destination = address
                        reply.destinationPort = port ?? reply.destinationPort
                    }
                case (.masquerade, .source):
                    if let out,
                        let address = hosts[hostName]!.interface(out)?.primaryAddress(packet.header.family)
                    {
                        reply.destination = address
                    }
                default: break
                }
            default:
                break
            }
            hosts[hostName]!.conntrack.bind(id, reply: reply, manipulation)
            entry = hosts[hostName]!.conntrack[id]!
        }
        entry.translate(&packet.header, manipulation, verdict.direction)
        return true
    }

    /// TPROXY (`tproxy_tg4`/`tproxy_tg6`): the established socket of the packet's connection,
    /// else a listener on `--on-ip` (default: the incoming interface's primary address) and
    /// `--on-port`; it must be transparent. The mark is set only then.
    mutating func tproxy(
        _ hostName: String, _ packet: inout Packet, _ target: TProxyTarget, on interfaceName: String
    )
        -> Bool
    {
        let host = hosts[hostName]!
        let header = packet.header
        var found = Sockets.established(host, header).map(SocketTarget.socket)
        if found == nil {
            let onIP = target.onIP.flatMap {
                $0 == .v4(IPv4Address(0)) || $0 == .v6(IPv6Address(high: 0, low: 0)) ? nil : $0
            }
            let address =
                onIP ?? host.interface(interfaceName)?.primaryAddress(header.family) ?? header.destination
            let port = target.onPort.range?.lowerBound ?? header.destinationPort
            found = Sockets.listener(host, proto: header.proto, address: address, port: port).map(
                SocketTarget.listener)
        }
        guard let socket = found, Sockets.isTransparent(host, socket) else { return false }
        let mask = target.mark.mask ?? .max
        packet.mark = (packet.mark & ~mask) ^ (target.mark.value ?? 0)
        packet.assigned = socket
        return true
    }

    /// Walks one table at one hook if the host has that chain, recording the visit and carrying
    /// MARK/CONNMARK changes back into the packet and its conntrack entry.
    mutating func walk(
        _ hostName: String, _ table: Table, _ hook: ChainName, _ packet: inout Packet,
        in inInterface: String?,
        out: String?
    ) -> Walk? {
        let host = hosts[hostName]!
        guard let rules = host.rules[packet.header.family], rules.rules(table, hook) != nil else {
            return nil
        }
        let entry = packet.conntrack?.entry.flatMap { host.conntrack[$0] }
        var context = PacketContext(
            hook: hook, inInterface: inInterface, outInterface: out, mark: packet.mark,
            connectionMark: entry?.mark ?? 0,
            conntrackState: packet.conntrack?.state ?? .invalid,
            conntrackDirection: packet.conntrack?.direction == .reply ? .reply : .original,
            originalDestination: entry?.original.destination,
            originalDestinationPort: entry?.original.destinationPort,
            socketUID: packet.owner?.uid, socketGID: packet.owner?.gid, localAddresses: host.localAddresses)
        if hook == .prerouting {
            let socket = Sockets.lookup(host, packet.header)
            context.socket = socket.map { (exists: true, transparent: Sockets.isTransparent(host, $0)) }
        }
        let result = ChainWalker(rules: rules).walk(
            table, hook: hook, packet: packet.header, context: context)
        visits.append(
            HookVisit(
                host: hostName, packet: packet.label, hook: hook, table: table, header: packet.header,
                walk: result))
        packet.mark = result.mark
        if let id = entry?.id { hosts[hostName]!.conntrack[id]?.mark = result.connectionMark }
        return result
    }
}

extension Walk {
    var isDrop: Bool { verdict == .drop || verdict == .policy(.drop) }
}
