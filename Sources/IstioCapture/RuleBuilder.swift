import Netfilter
import PacketModel

/// A rule the generator produced, with the reason and settings behind it.
public struct GeneratedRule: Hashable, Sendable {
    public var chainRule: ChainRule
    public var provenance: Provenance

    public init(_ chainRule: ChainRule, _ provenance: Provenance) {
        self.chainRule = chainRule
        self.provenance = provenance
    }
}

/// Both families' rules in generation order: the order `iptables` commands run and
/// restore lines are written.
public struct GeneratedRules: Hashable, Sendable {
    public var v4: [GeneratedRule] = []
    public var v6: [GeneratedRule] = []

    public init(v4: [GeneratedRule] = [], v6: [GeneratedRule] = []) {
        self.v4 = v4
        self.v6 = v6
    }

    public subscript(family: IPFamily) -> [GeneratedRule] {
        family == .ipv4 ? v4 : v6
    }
}

/// Names of the NFLOG prefixes Istio's trace logging used (`iptableslog.Command` upstream).
enum TraceCommand: String {
    case jumpInbound = "JumpInbound"
    case jumpOutbound = "JumpOutbound"
    case excludeInboundPort = "ExcludeInboundPort"
    case includeInboundPort = "IncludeInboundPort"
    case inboundCapture = "InboundCapture"
    case kubevirt = "KubevirtCommand"
    case excludeInterface = "ExcludeInterfaceCommand"
}

/// Which families a rule is written for.
enum Families {
    case both
    case v4Only
    case v6Only
}

/// Istio's rule builder: append/insert per family (IPv6 only when enabled), and trace logging
/// that shadows selected rules with an NFLOG rule of the same matches.
struct RuleBuilder {
    let enableIPv6: Bool
    /// NFLOG style when `--iptables-trace-logging` is on and the release still honours it.
    let nflog: RuleLayout.TraceLogging?
    private(set) var rules = GeneratedRules()

    init(enableIPv6: Bool, nflog: RuleLayout.TraceLogging?) {
        self.enableIPv6 = enableIPv6
        self.nflog = nflog
    }

    mutating func append(
        _ table: Table, _ chain: ChainName, _ matches: [Match], _ target: Target,
        families: Families = .both, trace: TraceCommand? = nil, why provenance: Provenance
    ) {
        add(table, chain, .append, Rule(matches, target), families, trace, provenance)
    }

    mutating func insert(
        _ table: Table, _ chain: ChainName, at position: Int, _ matches: [Match], _ target: Target,
        families: Families = .both, trace: TraceCommand? = nil, why provenance: Provenance
    ) {
        add(table, chain, .insert(position: position), Rule(matches, target), families, trace, provenance)
    }

    /// A rule whose address differs per family (`AppendVersionedRule` upstream).
    mutating func appendVersioned(
        _ table: Table, _ chain: ChainName, v4: AddressMatchSpelling, v6: AddressMatchSpelling,
        why provenance: Provenance, _ build: (AddressMatchSpelling) -> ([Match], Target)
    ) {
        let (matches4, target4) = build(v4)
        add(table, chain, .append, Rule(matches4, target4), .v4Only, nil, provenance)
        let (matches6, target6) = build(v6)
        add(table, chain, .append, Rule(matches6, target6), .v6Only, nil, provenance)
    }

    private mutating func add(
        _ table: Table, _ chain: ChainName, _ placement: RulePlacement, _ rule: Rule, _ families: Families,
        _ trace: TraceCommand?, _ provenance: Provenance
    ) {
        var entries: [GeneratedRule] = [
            GeneratedRule(ChainRule(table: table, chain: chain, placement: placement, rule: rule), provenance)
        ]
        if let trace, let nflog, nflog != .none {
            let logRule = Rule(
                rule.matches,
                .nflog(
                    NFLogTarget(
                        prefix: trace.rawValue, quotePrefix: nflog == .nflogQuotedPrefix, group: 1337,
                        size: 20)))
            let logEntry = GeneratedRule(
                ChainRule(table: table, chain: chain, placement: placement, rule: logRule),
                Provenance("trace logging: log packets that reach the next rule", [.traceLogging]))
            // An appended log rule goes before its rule; an inserted one after, at the same
            // position, which bumps it in front.
            switch placement {
            case .append: entries.insert(logEntry, at: 0)
            case .insert: entries.append(logEntry)
            }
        }
        if families != .v6Only { rules.v4 += entries }
        if families != .v4Only && enableIPv6 { rules.v6 += entries }
    }
}

/// Shorthands for the matches Istio writes, in Istio's option order.
enum M {
    static let tcp = Match.protocol(ProtocolMatch(.tcp))
    static let udp = Match.protocol(ProtocolMatch(.udp))
    static func dport(_ port: PortSpec, not: Bool = false) -> Match {
        .port(PortMatch(.destination, port, Negation(not)))
    }
    static func sport(_ port: PortSpec) -> Match { .port(PortMatch(.source, port)) }
    static func dports(_ ports: [PortSpec], not: Bool = false) -> Match {
        .multiport(MultiportMatch(.destination, ports, Negation(not)))
    }
    static func source(_ address: AddressMatchSpelling, not: Bool = false) -> Match {
        .address(AddressMatch(.source, address.cidr, spelling: address.text, Negation(not)))
    }
    static func destination(_ address: AddressMatchSpelling, not: Bool = false) -> Match {
        .address(AddressMatch(.destination, address.cidr, spelling: address.text, Negation(not)))
    }
    static func destination(_ cidr: CIDR) -> Match { .address(AddressMatch(.destination, cidr)) }
    static func input(_ name: String) -> Match { .interface(InterfaceMatch(.incoming, name)) }
    static func output(_ name: String) -> Match { .interface(InterfaceMatch(.outgoing, name)) }
    static func uid(_ id: OwnerID, not: Bool = false) -> Match { .owner(OwnerMatch(.uid, id, Negation(not))) }
    static func gid(_ id: OwnerID, not: Bool = false) -> Match { .owner(OwnerMatch(.gid, id, Negation(not))) }
    static func ctstate(_ states: [ConntrackMatch.State]) -> Match { .conntrack(ConntrackMatch(states)) }
    static func mark(_ value: MarkValue, not: Bool = false) -> Match {
        .mark(MarkMatch(value, Negation(not)))
    }
    static func connmark(_ value: MarkValue) -> Match { .connmark(ConnmarkMatch(value)) }
}

extension Families: Equatable {}
