import PacketModel

/// A listening socket in the pod or at its peer.
public struct Listener: Hashable, Sendable {
    public var port: UInt16
    public var proto: IPProtocol
    public var uid: UInt32
    public var gid: UInt32
    public var transparent: Bool
    /// nil: the wildcard address (`0.0.0.0`, or `::` when `dualStack`).
    public var bind: IPAddress?
    /// Bound to `::` without IPV6_V6ONLY: IPv6 and IPv4 (seen as `::ffff:a.b.c.d`).
    public var dualStack: Bool

    public init(
        port: UInt16, proto: IPProtocol = .tcp, uid: UInt32 = 0, gid: UInt32? = nil,
        transparent: Bool = false, bind: IPAddress? = nil, dualStack: Bool = false
    ) {
        self.port = port
        self.proto = proto
        self.uid = uid
        self.gid = gid ?? uid
        self.transparent = transparent
        self.bind = bind
        self.dualStack = dualStack
    }

    /// Whether a packet to `address` can reach this socket.
    public func accepts(_ address: IPAddress) -> Bool {
        if let bind { return bind == address }
        return address.family == .ipv4 || dualStack
    }

    /// A dual-stack socket sees IPv4 peers as IPv4-mapped IPv6 addresses.
    func sees(_ address: IPAddress) -> String {
        if dualStack, case .v4(let v4) = address { return "::ffff:\(v4)" }
        return address.description
    }

    func sees(_ address: IPAddress, _ port: UInt16) -> String {
        if dualStack, case .v4(let v4) = address { return "[::ffff:\(v4)]:\(port)" }
        return Simulator.text(address, port)
    }
}

/// An extra veth from the pod to a namespace of its own (`-k` virtual interfaces, `-c`
/// excluded interfaces): the pod's end, the peer's end (`eth0` there) and what the peer runs.
public struct ExtraLink: Sendable {
    public var name: String
    public var podInterface: String
    public var podAddress: CIDR
    public var peerAddress: CIDR
    public var peerExtraAddresses: [IPAddress]
    public var peerSetup: [IPCommand]
    public var peerForwarding: Set<IPFamily>
    public var peerListeners: [Listener]

    public init(
        name: String, podInterface: String, podAddress: CIDR, peerAddress: CIDR,
        peerExtraAddresses: [IPAddress] = [],
        peerSetup: [IPCommand] = [], peerForwarding: Set<IPFamily> = [], peerListeners: [Listener] = []
    ) {
        self.name = name
        self.podInterface = podInterface
        self.podAddress = podAddress
        self.peerAddress = peerAddress
        self.peerExtraAddresses = peerExtraAddresses
        self.peerSetup = peerSetup
        self.peerForwarding = peerForwarding
        self.peerListeners = peerListeners
    }
}

/// The pod, the peer at the other end of its eth0, and what listens on each (the scenario of
/// DESIGN.md). `network(rules:rules6:)` builds the hosts the simulator runs.
public struct PodEnvironment: Sendable {
    public var podAddress: IPAddress
    public var peerAddress: IPAddress
    public var prefixLength: Int
    public var podAddress6: IPAddress?
    public var peerAddress6: IPAddress?
    public var prefixLength6: Int = 64
    /// Addresses the peer owns besides its own (service VIPs, external hosts).
    public var peerExtraAddresses: [IPAddress]
    public var listeners: [Listener]
    public var peerListeners: [Listener]
    /// `ip` commands run in the pod / the peer after the addresses are set.
    public var podSetup: [IPCommand] = []
    public var peerSetup: [IPCommand] = []
    /// Families with `net.ipv4.ip_forward=1` / `net.ipv6.conf.all.forwarding=1`.
    public var podForwarding: Set<IPFamily> = []
    public var peerForwarding: Set<IPFamily> = []
    public var extraLinks: [ExtraLink] = []
    /// `ip rule add fwmark M lookup T` + `ip route add local default dev lo table T` in one.
    public var localDeliveryMarks: [(mark: UInt32, mask: UInt32)]
    /// Traces: the peer stands for every remote host.
    public var peerOwnsEverything = false

    public init(
        podAddress: IPAddress, peerAddress: IPAddress, prefixLength: Int = 24,
        peerExtraAddresses: [IPAddress] = [],
        listeners: [Listener] = [], peerListeners: [Listener] = [],
        localDeliveryMarks: [(mark: UInt32, mask: UInt32)] = []
    ) {
        self.podAddress = podAddress
        self.peerAddress = peerAddress
        self.prefixLength = prefixLength
        self.peerExtraAddresses = peerExtraAddresses
        self.listeners = listeners
        self.peerListeners = peerListeners
        self.localDeliveryMarks = localDeliveryMarks
    }

    /// The hosts as tools/kernel-check builds them: the pod's eth0 (and extra links) with a default
    /// route via the peer, the peer's extra addresses on its lo, then the `ip` commands.
    public func network(rules: [IPFamily: any RuleLookup & Sendable]) throws(IPCommand.Failure) -> Network {
        var pod = Host(name: "pod")
        var peer = Host(name: "peer")
        pod.rules = rules
        pod.interfaces.append(NetworkInterface(name: "eth0", link: ("peer", "eth0")))
        peer.interfaces.append(NetworkInterface(name: "eth0", link: ("pod", "eth0")))
        pod.addAddress(CIDR(address: podAddress, prefixLength: prefixLength), to: "eth0")
        peer.addAddress(CIDR(address: peerAddress, prefixLength: prefixLength), to: "eth0")
        if let podAddress6, let peerAddress6 {
            pod.addAddress(CIDR(address: podAddress6, prefixLength: prefixLength6), to: "eth0")
            peer.addAddress(CIDR(address: peerAddress6, prefixLength: prefixLength6), to: "eth0")
        }
        pod.routing.add(
            Route(destination: nil, family: podAddress.family, gateway: peerAddress, device: "eth0"))
        if let peerAddress6 {
            pod.routing.add(Route(destination: nil, family: .ipv6, gateway: peerAddress6, device: "eth0"))
        }
        for address in peerExtraAddresses { peer.addAddress(CIDR(host: address), to: "lo") }
        pod.listeners = listeners
        peer.listeners = peerListeners
        pod.forwarding = podForwarding
        peer.forwarding = peerForwarding
        if peerOwnsEverything {
            // Standing for every remote host, the peer also reaches the pod from anywhere.
            peer.ownsEveryAddressBut = Set([podAddress] + (podAddress6.map { [$0] } ?? []))
            for address in [podAddress] + (podAddress6.map { [$0] } ?? []) {
                peer.routing.add(
                    Route(destination: nil, family: address.family, gateway: address, device: "eth0"))
            }
        }
        for (index, mark) in localDeliveryMarks.enumerated() {
            let table = 1000 + index
            pod.routing.add(
                PolicyRule(family: podAddress.family, mark: mark.mark, mask: mark.mask, table: table))
            pod.routing.add(
                Route(kind: .local, destination: nil, family: podAddress.family, device: "lo"), table: table)
        }
        var hosts = [pod, peer]
        for link in extraLinks {
            var other = Host(name: link.name)
            other.interfaces.append(NetworkInterface(name: "eth0", link: ("pod", link.podInterface)))
            hosts[0].withInterface(link.podInterface) { $0.link = (link.name, "eth0") }
            hosts[0].addAddress(link.podAddress, to: link.podInterface)
            other.addAddress(link.peerAddress, to: "eth0")
            for address in link.peerExtraAddresses { other.addAddress(CIDR(host: address), to: "lo") }
            other.listeners = link.peerListeners
            other.forwarding = link.peerForwarding
            for command in link.peerSetup { try command.apply(to: &other) }
            hosts.append(other)
        }
        for command in podSetup { try command.apply(to: &hosts[0]) }
        for command in peerSetup { try command.apply(to: &hosts[1]) }
        return Network(hosts: hosts)
    }
}

/// A connection attempt of the scenario.
public struct Flow: Sendable {
    public enum Direction: String, Sendable {
        case inbound
        case outbound
    }

    public var id: String
    public var direction: Direction
    public var proto: IPProtocol
    public var destination: IPAddress
    public var destinationPort: UInt16
    public var source: IPAddress?
    /// 0: an ephemeral port.
    public var sourcePort: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32] = []
    public var mark: UInt32
    /// IP_TRANSPARENT on the client socket (binding to a foreign address).
    public var transparent = false
    /// Inbound flows: the namespace that sends (`peer` or an extra link's name).
    public var clientNamespace: String?
    /// A single raw TCP segment with these flags instead of a connection (`"SA"`, `"F"`, …).
    public var tcpFlags: Set<String>?

    public init(
        id: String, direction: Direction, proto: IPProtocol, destination: IPAddress, destinationPort: UInt16,
        source: IPAddress? = nil,
        sourcePort: UInt16 = 0, uid: UInt32 = 0, gid: UInt32? = nil, mark: UInt32 = 0
    ) {
        self.id = id
        self.direction = direction
        self.proto = proto
        self.destination = destination
        self.destinationPort = destinationPort
        self.source = source
        self.sourcePort = sourcePort
        self.uid = uid
        self.gid = gid ?? uid
        self.mark = mark
    }
}

/// Where a flow landed: the listener that accepted it, or the error the client saw.
public enum FlowOutcome: Hashable, Sendable {
    /// `local` is the address the accepted socket sees; `originalDestination` what
    /// SO_ORIGINAL_DST / conntrack reports (nil where the namespace tracks no connection).
    case accepted(
        namespace: String, port: UInt16, proto: IPProtocol, local: String, originalDestination: String?,
        source: String)
    case error(String)
}

public struct FlowResult: Sendable {
    public var id: String
    public var outcome: FlowOutcome
    /// UDP: where the client saw the answer come from (nil: no answer reached it).
    public var replyFrom: String?
    /// The landing socket's local address and port as values (`local` of the outcome is its text,
    /// as the socket prints it).
    public var localEndpoint: (address: IPAddress, port: UInt16)?
    /// The pod's nat rules the flow's packets matched, in iptables-save order.
    public var natTrace: [(chain: ChainName, rule: Rule)]
    /// Every rule the first packet met in the pod, per hook and table, for explanations.
    public var walks: [(hook: ChainName, walk: Walk)]
    /// Every table every packet of the exchange walked, on every host.
    public var visits: [HookVisit]
    /// The exchange, packet by packet: what was sent and where it ended.
    public var packets: [String]
}
