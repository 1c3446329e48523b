/// `-m pkttype [!] --pkt-type unicast|broadcast|multicast`.
public struct PktTypeMatch: Hashable, Sendable {
    public var type: String
    public var negation: Negation

    public init(_ type: String, _ negation: Negation = .normal) {
        self.type = type
        self.negation = negation
    }

    public var arguments: [String] { ["-m", "pkttype"] + negation.prefix + ["--pkt-type", type] }
}
