import PacketModel

/// A network interface of a host and the addresses on it, in the kernel's list order.
public struct NetworkInterface: Hashable, Sendable {
    public var name: String
    public var addresses: [CIDR]
    /// The other end of the veth: (host, interface).
    public var link: (host: String, interface: String)?

    public init(name: String, addresses: [CIDR] = [], link: (host: String, interface: String)? = nil) {
        self.name = name
        self.addresses = addresses
        self.link = link
    }

    public static func == (a: NetworkInterface, b: NetworkInterface) -> Bool {
        a.name == b.name && a.addresses == b.addresses && a.link?.host == b.link?.host
            && a.link?.interface == b.link?.interface
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// IPv4 keeps the first address of a subnet primary; IPv6 lists a new global address before
    /// the older ones (`ipv6_link_dev_addr` inserts before the first address of the same scope).
    public mutating func add(_ address: CIDR) {
        if address.family == .ipv6, let first = addresses.firstIndex(where: { $0.family == .ipv6 }) {
            addresses.insert(address, at: first)
        } else {
            addresses.append(address)
        }
    }

    /// The address REDIRECT in PREROUTING and TPROXY without `--on-ip` use: the interface's first
    /// (primary) address of the family.
    public func primaryAddress(_ family: IPFamily) -> IPAddress? {
        addresses.first { $0.family == family }?.address
    }
}

/// Who owns a socket, as `-m owner` sees it.
public struct SocketOwner: Hashable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var groups: [UInt32]

    public init(uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }
}

/// A connected (or bound, for a UDP client) socket: a client's, or one a listener accepted.
public struct Socket: Hashable, Sendable {
    public var proto: IPProtocol
    public var local: IPAddress?
    public var localPort: UInt16
    public var remote: IPAddress?
    public var remotePort: UInt16
    public var owner: SocketOwner
    public var mark: UInt32
    public var transparent: Bool
    public var closed = false
}

/// One network namespace: interfaces, routing, its netfilter rules (none for a peer), its
/// conntrack table, listeners and connected sockets.
public struct Host: Sendable {
    public var name: String
    public var interfaces: [NetworkInterface]
    public var routing = RoutingPolicy()
    /// Per family; a host without rules has no netfilter hooks at all (and no conntrack).
    public var rules: [IPFamily: any RuleLookup & Sendable] = [:]
    public var forwarding: Set<IPFamily> = []
    public var listeners: [Listener] = []
    public var sockets: [Socket] = []
    public var conntrack = Conntrack()
    /// Traces: the peer stands for every remote host, i.e. owns every address but these (the pod's).
    public var ownsEveryAddressBut: Set<IPAddress>?

    public init(name: String, interfaces: [NetworkInterface] = [NetworkInterface(name: "lo")]) {
        self.name = name
        self.interfaces = interfaces
        if !self.interfaces.contains(where: { $0.name == "lo" }) {
            self.interfaces.insert(NetworkInterface(name: "lo"), at: 0)
        }
        localAddresses = Set(self.interfaces.flatMap { $0.addresses.map(\.address) })
    }

    /// Conntrack runs for a family once a table of that family is loaded.
    public func tracksConnections(_ family: IPFamily) -> Bool { rules[family] != nil }

    public func interface(_ name: String) -> NetworkInterface? {
        interfaces.first { $0.name == name }
    }

    public mutating func withInterface(_ name: String, _ change: (inout NetworkInterface) -> Void) {
        if let index = interfaces.firstIndex(where: { $0.name == name }) {
            change(&interfaces[index])
        } else {
            var interface = NetworkInterface(name: name)
            change(&interface)
            interfaces.append(interface)
        }
    }

    /// The local table: every address of every interface (the weak host model) and loopback.
    public func isLocal(_ address: IPAddress) -> Bool {
        if address.isLoopback { return true }
        if let others = ownsEveryAddressBut, !others.contains(address) { return true }
        return interfaces.contains { $0.addresses.contains { $0.address == address } }
    }

    public func interface(containing address: IPAddress) -> NetworkInterface? {
        interfaces.first { $0.addresses.contains { $0.address == address } }
    }

    /// Addresses for `-m addrtype --dst-type LOCAL`.
    /// Kept by `addAddress` (add addresses through it).
    public private(set) var localAddresses: Set<IPAddress> = []

    /// Adds an address with the connected route the kernel creates for it.
    public mutating func addAddress(_ address: CIDR, to interfaceName: String) {
        withInterface(interfaceName) { $0.add(address) }
        localAddresses.insert(address.address)
        if address.prefixLength < address.family.addressBits {
            let network = address.masked
            let exists = routing.tables[RoutingPolicy.mainTable, default: []].contains {
                $0.destination == network && $0.device == interfaceName
            }
            if !exists {
                routing.add(
                    Route(
                        destination: network, family: address.family, device: interfaceName,
                        source: address.address))
            }
        }
    }

    /// Source address selection for an unbound socket: the route's preferred source, the
    /// destination itself when it is local (127.0.0.1 for the loopback range), else the outgoing
    /// interface's primary address of the family.
    public func sourceAddress(for destination: IPAddress, _ decision: RouteDecision) -> IPAddress? {
        switch decision {
        case .local:
            if destination.isLoopback {
                return destination.family == .ipv4 ? .v4(.loopback) : .v6(.loopback)
            }
            return interface(containing: destination) != nil
                ? destination : interfaces.first { $0.name != "lo" }?.primaryAddress(destination.family)
        case .forward(let device, let nextHop, let source, _):
            if let source { return source }
            let addresses = interface(device)?.addresses.filter { $0.family == destination.family } ?? []
            return (addresses.first { $0.contains(nextHop) } ?? addresses.first)?.address
        case .unreachable:
            return nil
        }
    }
}
