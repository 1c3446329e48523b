import PacketModel

/// One route of a routing table (`ip route`): unicast through a device (via a gateway or
/// directly), or `local` (delivered to this host whatever the address).
public struct Route: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case unicast
        case local
    }

    public var kind: Kind
    /// nil: `default`.
    public var destination: CIDR?
    public var family: IPFamily
    public var gateway: IPAddress?
    public var device: String
    /// `src`: the preferred source address.
    public var source: IPAddress?

    public init(
        kind: Kind = .unicast, destination: CIDR?, family: IPFamily, gateway: IPAddress? = nil,
        device: String,
        source: IPAddress? = nil
    ) {
        self.kind = kind
        self.destination = destination
        self.family = family
        self.gateway = gateway
        self.device = device
        self.source = source
    }

    func covers(_ address: IPAddress) -> Bool {
        guard address.family == family else { return false }
        return destination?.contains(address) ?? true
    }

    var prefixLength: Int { destination?.prefixLength ?? 0 }
}

/// `ip rule add fwmark M[/K] lookup T`.
public struct PolicyRule: Hashable, Sendable {
    public var family: IPFamily
    public var mark: UInt32
    public var mask: UInt32
    public var table: Int

    public init(family: IPFamily, mark: UInt32, mask: UInt32 = .max, table: Int) {
        self.family = family
        self.mark = mark
        self.mask = mask
        self.table = table
    }
}

/// Where the routing decision sends a packet.
public enum RouteDecision: Hashable, Sendable {
    /// For this host: delivered through `lo` when locally generated.
    case local(table: String)
    /// Out of `device`; `nextHop` is the gateway or the destination itself.
    case forward(device: String, nextHop: IPAddress, source: IPAddress?, table: String)
    case unreachable
}

/// A host's routing: the local table (its addresses, loopback), the policy rules in the order
/// the kernel consults them (newest `ip rule add` first, each before `main`), and its tables.
public struct RoutingPolicy: Sendable {
    public var rules: [PolicyRule] = []
    public var tables: [Int: [Route]] = [:]
    public static let mainTable = 254

    public init() {}

    public mutating func add(_ route: Route, table: Int = RoutingPolicy.mainTable) {
        tables[table, default: []].append(route)
    }

    public mutating func add(_ rule: PolicyRule) {
        // `ip rule add` without a priority takes one below the lowest existing: consulted first.
        rules.insert(rule, at: 0)
    }

    /// `fib_lookup`: local addresses first, then the fwmark rules, then main.
    public func decide(_ destination: IPAddress, mark: UInt32, isLocal: (IPAddress) -> Bool) -> RouteDecision
    {
        if isLocal(destination) { return .local(table: "local") }
        for rule in rules where rule.family == destination.family && mark & rule.mask == rule.mark {
            if let decision = lookup(destination, table: rule.table) { return decision }
        }
        return lookup(destination, table: Self.mainTable) ?? .unreachable
    }

    func lookup(_ destination: IPAddress, table: Int) -> RouteDecision? {
        let best = (tables[table] ?? []).filter { $0.covers(destination) }.max {
            $0.prefixLength < $1.prefixLength
        }
        guard let route = best else { return nil }
        let name = table == Self.mainTable ? "main" : String(table)
        switch route.kind {
        case .local: return .local(table: name)
        case .unicast:
            return .forward(
                device: route.device, nextHop: route.gateway ?? destination, source: route.source, table: name
            )
        }
    }
}
