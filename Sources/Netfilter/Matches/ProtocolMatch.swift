import PacketModel

/// `[!] -p PROTO`. Loading `tcp` or `udp` also makes `--dport`/`--sport` available (see `PortMatch`).
public struct ProtocolMatch: Hashable, Sendable {
    public var proto: IPProtocol
    public var negation: Negation

    public init(_ proto: IPProtocol, _ negation: Negation = .normal) {
        self.proto = proto
        self.negation = negation
    }

    public var arguments: [String] { negation.prefix + ["-p", proto.description] }

    /// Valid in every table and hook.
    public static let validTables = Set(Table.allCases)
}
