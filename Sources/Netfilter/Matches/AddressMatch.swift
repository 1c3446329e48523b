import PacketModel

/// `[!] -s ADDR[/LEN]` or `[!] -d ADDR[/LEN]`.
public struct AddressMatch: Hashable, Sendable {
    public enum Side: Hashable, Sendable {
        case source
        case destination
    }

    public var side: Side
    public var network: CIDR
    /// The text as written, when it differs from `network.description` (`::127.0.0.53/128`).
    public var spelling: String
    public var negation: Negation

    public init(_ side: Side, _ network: CIDR, spelling: String? = nil, _ negation: Negation = .normal) {
        self.side = side
        self.network = network
        self.spelling = spelling ?? network.description
        self.negation = negation
    }

    public var arguments: [String] {
        negation.prefix + [side == .source ? "-s" : "-d", spelling]
    }

    public func matches(_ address: IPAddress) -> Bool {
        network.contains(address) != negation.isInverted
    }
}
