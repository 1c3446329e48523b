import PacketModel

/// Runs flows through a `Network` as whole exchanges, the way the sockets of
/// tools/kernel-check do: TCP connect (SYN, SYN-ACK, ACK), a line of data each way, FIN both
/// ways; a UDP datagram and its answer from the receiving socket; or one raw TCP segment.
/// Conntrack and sockets persist from flow to flow, as in the kernel's namespaces.
public final class Simulator {
    public private(set) var network: Network
    /// The host whose rules are traced (`nat_trace`, `walks`).
    public let podHost = "pod"
    /// When set, every flow starts from the network as built (no conntrack entries or sockets
    /// left by earlier flows): for judging flows one by one, as capture replay does.
    public var isolatesFlows = false
    /// Whether `FlowResult.packets` describes the exchange packet by packet and the TCP exchange
    /// goes on past the handshake (data, FIN) for it (traces; replay, which runs many flows and
    /// reads only the outcome, turns it off).
    public var describesPackets = true
    let initialNetwork: Network
    /// What the network was built from, when built by `init(rules:environment:)`.
    public private(set) var environment: PodEnvironment?
    public private(set) var rules: (any RuleLookup & Sendable)?
    var nextPort: UInt16 = 40000
    var packets: [String] = []
    /// Where the landing socket is, as an address (set by the exchange that lands).
    var landing: (address: IPAddress, port: UInt16)?

    public init(network: Network) {
        self.network = network
        self.initialNetwork = network
    }

    /// A network already built, with the environment and the one family's rules it was built from.
    public convenience init(network: Network, environment: PodEnvironment, rules: any RuleLookup & Sendable) {
        self.init(network: network)
        self.environment = environment
        self.rules = rules
    }

    /// The pod of `environment` with one rule set (its family is the pod address's).
    public convenience init(rules: any RuleLookup & Sendable, environment: PodEnvironment) throws(IPCommand
        .Failure)
    {
        self.init(network: try environment.network(rules: [environment.podAddress.family: rules]))
        self.environment = environment
        self.rules = rules
    }

    public static func text(_ address: IPAddress, _ port: UInt16) -> String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    public func run(_ flow: Flow) -> FlowResult {
        if isolatesFlows { network = initialNetwork }
        packets = []
        landing = nil
        let start = network.visits.count
        let clientHost = flow.direction == .outbound ? podHost : flow.clientNamespace ?? "peer"
        var replyFrom: String?
        let outcome: FlowOutcome
        if let host = network.hosts[clientHost] {
            let decision = host.routing.decide(flow.destination, mark: flow.mark, isLocal: host.isLocal)
            if let source = flow.source ?? host.sourceAddress(for: flow.destination, decision) {
                let port = flow.sourcePort != 0 ? flow.sourcePort : allocatePort()
                let owner = SocketOwner(uid: flow.uid, gid: flow.gid, groups: flow.groups)
                let header = PacketHeader(
                    proto: flow.proto, source: source, sourcePort: port, destination: flow.destination,
                    destinationPort: flow.destinationPort)
                if let flags = flow.tcpFlags {
                    outcome = segment(flow, clientHost, header, flags, owner)
                } else if flow.proto == .udp {
                    (outcome, replyFrom) = datagram(flow, clientHost, header, owner)
                } else {
                    outcome = connect(flow, clientHost, header, owner)
                }
            } else {
                outcome = .error("errno 101")
            }
        } else {
            outcome = .error("no namespace \(clientHost)")
        }
        let visits = Array(network.visits[start...])
        network.visits.removeAll(keepingCapacity: true)
        return result(flow, outcome, replyFrom, visits)
    }

    func allocatePort() -> UInt16 {
        defer { nextPort = nextPort == 60999 ? 40000 : nextPort + 1 }
        return nextPort
    }

    // MARK: exchanges

    func connect(_ flow: Flow, _ client: String, _ header: PacketHeader, _ owner: SocketOwner) -> FlowOutcome
    {
        var syn = header
        syn.tcpFlags = ["SYN"]
        let clientSocket = addSocket(
            client,
            Socket(
                proto: .tcp, local: header.source,
                localPort: header.sourcePort,
                remote: header.destination, remotePort: header.destinationPort, owner: owner, mark: flow.mark,
                transparent: flow.transparent))
        defer { removeSocket(client, clientSocket) }
        let fate = send(Packet(header: syn, label: "SYN", mark: flow.mark, owner: owner), from: client)
        guard case .arrived(let server, _, let arrived) = fate else { return failure(fate) }
        let target = arrived.assigned ?? network.hosts[server].flatMap { Sockets.lookup($0, arrived.header) }
        guard case .listener(let listenerIndex)? = target else {
            // No listener: the stack answers with a RST, which the client sees as "refused".
            let reset = resetFor(arrived.header)
            if case .arrived(let host, _, let back) = send(Packet(header: reset, label: "RST"), from: server),
                host == client, reached(client, back.header, clientSocket)
            {
                return .error("refused")
            }
            return .error("timeout")
        }
        let listener = network.hosts[server]!.listeners[listenerIndex]
        let listenerOwner = SocketOwner(uid: listener.uid, gid: listener.gid)
        let accepted = addSocket(
            server,
            Socket(
                proto: .tcp, local: arrived.header.destination,
                localPort: arrived.header.destinationPort, remote: arrived.header.source,
                remotePort: arrived.header.sourcePort, owner: listenerOwner, mark: 0,
                transparent: listener.transparent))
        var synAck = ConnectionTuple(arrived.header).reversed.header
        synAck.tcpFlags = ["SYN", "ACK"]
        let answer = send(Packet(header: synAck, label: "SYN-ACK", owner: listenerOwner), from: server)
        guard case .arrived(let host, _, let back) = answer, host == client,
            reached(client, back.header, clientSocket)
        else {
            if case .arrived(let host, _, let stray) = answer,
                network.hosts[host].flatMap({ Sockets.lookup($0, stray.header) }) == nil
            {
                _ = send(Packet(header: resetFor(stray.header), label: "RST"), from: host)
            }
            removeSocket(server, accepted)
            return .error("timeout")
        }
        var ack = header
        ack.tcpFlags = ["ACK"]
        let handshake = send(Packet(header: ack, label: "ACK", mark: flow.mark, owner: owner), from: client)
        guard case .arrived(let host2, _, let third) = handshake, host2 == server,
            reached(server, third.header, accepted)
        else {
            removeSocket(server, accepted)
            return .error("timeout")
        }
        let server_ = network.hosts[server]!
        let socket = server_.sockets[accepted]
        landing = (socket.local!, socket.localPort)
        let outcome = FlowOutcome.accepted(
            namespace: server, port: listener.port == 0 ? socket.localPort : listener.port, proto: .tcp,
            local: listener.sees(socket.local!, socket.localPort),
            originalDestination: listener.dualStack && socket.local!.family == .ipv4
                ? nil : originalDestination(server_, socket), source: listener.sees(socket.remote!))
        // The rest of the exchange: a line each way, then FIN both ways (only for the description:
        // nothing in it changes where the connection landed).
        guard describesPackets else {
            removeSocket(server, accepted)
            return outcome
        }
        var data = ack
        data.tcpFlags = ["PSH", "ACK"]
        _ = send(Packet(header: data, label: "data", mark: flow.mark, owner: owner), from: client)
        var reply = synAck
        reply.tcpFlags = ["PSH", "ACK"]
        _ = send(Packet(header: reply, label: "reply", owner: listenerOwner), from: server)
        reply.tcpFlags = ["FIN", "ACK"]
        _ = send(Packet(header: reply, label: "FIN", owner: listenerOwner), from: server)
        data.tcpFlags = ["FIN", "ACK"]
        _ = send(Packet(header: data, label: "FIN", mark: flow.mark, owner: owner), from: client)
        removeSocket(server, accepted)
        return outcome
    }

    func datagram(_ flow: Flow, _ client: String, _ header: PacketHeader, _ owner: SocketOwner) -> (
        FlowOutcome, String?
    ) {
        let clientSocket = addSocket(
            client,
            Socket(
                proto: .udp, local: flow.source, localPort: header.sourcePort,
                remote: nil, remotePort: 0, owner: owner, mark: flow.mark, transparent: flow.transparent))
        defer { removeSocket(client, clientSocket) }
        let fate = send(Packet(header: header, label: "request", mark: flow.mark, owner: owner), from: client)
        guard case .arrived(let server, _, let arrived) = fate else { return (failure(fate), nil) }
        let host = network.hosts[server]!
        let target = arrived.assigned ?? Sockets.lookup(host, arrived.header)
        guard case .listener(let index)? = target else {
            portUnreachable(arrived, at: server)
            return (.error("timeout"), nil)
        }
        let listener = host.listeners[index]
        let port = listener.port == 0 ? arrived.header.destinationPort : listener.port
        var original: String?
        if let id = arrived.conntrack?.entry, let entry = host.conntrack[id] {
            original = Self.text(entry.original.destination, entry.original.destinationPort)
        }
        landing = (arrived.header.destination, port)
        let outcome = FlowOutcome.accepted(
            namespace: server, port: port, proto: .udp,
            local: listener.sees(arrived.header.destination, port),
            originalDestination: original, source: listener.sees(arrived.header.source))
        // The answer leaves from the bound address, or from the route's choice for a wildcard.
        let decision = host.routing.decide(arrived.header.source, mark: 0, isLocal: host.isLocal)
        guard let source = listener.bind ?? host.sourceAddress(for: arrived.header.source, decision) else {
            return (outcome, nil)
        }
        let answer = PacketHeader(
            proto: .udp, source: source, sourcePort: port, destination: arrived.header.source,
            destinationPort: arrived.header.sourcePort)
        let listenerOwner = SocketOwner(uid: listener.uid, gid: listener.gid)
        let back = send(Packet(header: answer, label: "answer", owner: listenerOwner), from: server)
        if case .arrived(let returned, _, let packet) = back, returned == client,
            reached(client, packet.header, clientSocket)
        {
            return (outcome, Self.text(packet.header.source, packet.header.sourcePort))
        }
        if case .arrived(let returned, _, let packet) = back { portUnreachable(packet, at: returned) }
        return (outcome, nil)
    }

    /// One raw segment: a RST coming back means some socket's stack saw it; silence means a
    /// rule (or the routing) dropped it.
    func segment(
        _ flow: Flow, _ client: String, _ header: PacketHeader, _ flags: Set<String>, _ owner: SocketOwner
    )
        -> FlowOutcome
    {
        var raw = header
        raw.tcpFlags = flags
        let fate = send(Packet(header: raw, label: "segment", mark: flow.mark, owner: owner), from: client)
        guard case .arrived(let server, _, let arrived) = fate else { return failure(fate) }
        guard !flags.contains("RST") else { return .error("timeout") }
        let target = arrived.assigned ?? network.hosts[server].flatMap { Sockets.lookup($0, arrived.header) }
        // A listener answers a bare SYN; anything else without its connection gets a RST.
        if case .listener? = target, flags == ["SYN"] { return .error("timeout") }
        if case .socket? = target { return .error("timeout") }
        if case .arrived(let host, _, _) = send(
            Packet(header: resetFor(arrived.header), label: "RST"), from: server),
            host == client
        {
            return .error("reset")
        }
        return .error("timeout")
    }

    // MARK: pieces

    func send(_ packet: Packet, from host: String) -> PacketFate {
        let fate = network.send(packet, from: host)
        guard describesPackets else { return fate }
        let header = packet.header
        var line =
            "\(packet.label) \(header.proto) \(Self.text(header.source, header.sourcePort)) -> "
            + "\(Self.text(header.destination, header.destinationPort)) from \(host): "
        switch fate {
        case .arrived(let at, let interface, let arrived):
            line += "arrived at \(at) on \(interface) as \(ConnectionTuple(arrived.header))"
        case .dropped(let at, let reason): line += "dropped at \(at) (\(reason))"
        case .refusedLocally(let error): line += "refused by the sender's own rules (\(error))"
        case .unreachable: line += "no route"
        }
        packets.append(line)
        return fate
    }

    func failure(_ fate: PacketFate) -> FlowOutcome {
        switch fate {
        case .refusedLocally(let error): .error(error)
        case .unreachable: .error("errno 101")
        case .dropped, .arrived: .error("timeout")
        }
    }

    func resetFor(_ header: PacketHeader) -> PacketHeader {
        var reset = ConnectionTuple(header).reversed.header
        reset.tcpFlags = header.tcpFlags.contains("ACK") ? ["RST"] : ["RST", "ACK"]
        return reset
    }

    /// ICMP port unreachable for a datagram nobody listens to (RELATED to its connection).
    func portUnreachable(_ packet: Packet, at host: String) {
        let v4 = packet.header.family == .ipv4
        let error = PacketHeader(
            proto: v4 ? .icmp : .icmpv6, source: packet.header.destination, destination: packet.header.source,
            icmpType: v4 ? 3 : 1, icmpCode: v4 ? 3 : 4)
        _ = send(
            Packet(
                header: error, label: "ICMP port unreachable", icmpOriginal: ConnectionTuple(packet.header)),
            from: host)
    }

    func reached(_ host: String, _ header: PacketHeader, _ socket: Int) -> Bool {
        guard let candidate = network.hosts[host] else { return false }
        if header.proto == .udp { return Sockets.boundDatagram(candidate, header) == socket }
        return Sockets.established(candidate, header) == socket
    }

    func addSocket(_ host: String, _ socket: Socket) -> Int {
        network.hosts[host]!.sockets.append(socket)
        return network.hosts[host]!.sockets.count - 1
    }

    func removeSocket(_ host: String, _ index: Int) {
        // Indexes stay stable for the sockets of the flow in progress: closed, not removed.
        network.hosts[host]?.sockets[index].closed = true
    }

    /// SO_ORIGINAL_DST (`getorigdst`): the zone-0 entry for the socket's tuple, its original
    /// destination; nil where the namespace tracks nothing.
    func originalDestination(_ host: Host, _ socket: Socket) -> String? {
        guard let local = socket.local, let remote = socket.remote else { return nil }
        let tuple = ConnectionTuple(
            proto: socket.proto, source: local, sourcePort: socket.localPort, destination: remote,
            destinationPort: socket.remotePort)
        guard host.tracksConnections(local.family), let (id, _) = host.conntrack.find(tuple, zone: 0),
            let entry = host.conntrack[id]
        else {
            return nil
        }
        return Self.text(entry.original.destination, entry.original.destinationPort)
    }

    func result(_ flow: Flow, _ outcome: FlowOutcome, _ replyFrom: String?, _ visits: [HookVisit])
        -> FlowResult
    {
        let family = flow.destination.family
        var natMatched: [(ChainName, Rule)] = []
        for visit in visits
        where visit.host == podHost && visit.table == .nat && visit.header.family == family {
            for step in visit.walk.steps where step.matched {
                if !natMatched.contains(where: { $0.0 == step.chain && $0.1 == step.rule }) {
                    natMatched.append((step.chain, step.rule))
                }
            }
        }
        let rules = network.hosts[podHost]?.rules[family]
        func position(_ entry: (ChainName, Rule)) -> Int {
            rules?.rules(.nat, entry.0)?.firstIndex(of: entry.1) ?? 0
        }
        // iptables-save order: built-in chains in hook order, then user chains by name.
        let builtin: [ChainName] = [.prerouting, .input, .output, .postrouting]
        let ordered = natMatched.sorted { a, b in
            let ka = builtin.firstIndex(of: a.0) ?? Int.max
            let kb = builtin.firstIndex(of: b.0) ?? Int.max
            if ka != kb { return ka < kb }
            if a.0 != b.0 { return a.0.rawValue.utf8.lexicographicallyPrecedes(b.0.rawValue.utf8) }
            return position(a) < position(b)
        }.map { (chain: $0.0, rule: $0.1) }
        let first = visits.first?.packet
        let walks = visits.filter { $0.host == podHost && $0.packet == first }.map {
            (hook: $0.hook, walk: $0.walk)
        }
        return FlowResult(
            id: flow.id, outcome: outcome, replyFrom: replyFrom, localEndpoint: landing, natTrace: ordered,
            walks: walks,
            visits: visits,
            packets: packets)
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

extension ConnectionTuple {
    var header: PacketHeader {
        PacketHeader(
            proto: proto, source: source, sourcePort: sourcePort, destination: destination,
            destinationPort: destinationPort)
    }
}
