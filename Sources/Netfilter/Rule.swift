/// One netfilter rule: its matches in the order they were written, and one target.
///
/// The order of `matches` is significant for rendering only (Istio and iptables-save write
/// options in different orders); for evaluation all matches must hold.
public struct Rule: Hashable, Sendable {
    public var matches: [Match]
    public var target: Target

    public init(_ matches: [Match], _ target: Target) {
        self.matches = matches
        self.target = target
    }

    /// The rule as command-line arguments, in the order they were written
    /// (`-o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT`).
    public var arguments: [String] {
        matches.flatMap(\.arguments) + target.arguments
    }

    public var text: String { arguments.joined(separator: " ") }
}

/// Where a rule goes in its chain: `-A CHAIN` or `-I CHAIN N` (1-based, as iptables counts).
public enum RulePlacement: Hashable, Sendable {
    case append
    case insert(position: Int)
}

/// A rule addressed to a table and chain, as one line of iptables-restore input describes it.
public struct ChainRule: Hashable, Sendable {
    public var table: Table
    public var chain: ChainName
    public var placement: RulePlacement
    public var rule: Rule

    public init(table: Table, chain: ChainName, placement: RulePlacement = .append, rule: Rule) {
        self.table = table
        self.chain = chain
        self.placement = placement
        self.rule = rule
    }

    /// `-A CHAIN …` / `-I CHAIN N …`, without the table.
    public var restoreLine: String {
        var words: [String]
        switch placement {
        case .append: words = ["-A", chain.rawValue]
        case .insert(let position): words = ["-I", chain.rawValue, String(position)]
        }
        words += rule.arguments
        return words.joined(separator: " ")
    }
}

/// A `!` before an option inverts it.
public enum Negation: Hashable, Sendable {
    case normal
    case inverted

    public init(_ inverted: Bool) { self = inverted ? .inverted : .normal }

    public var isInverted: Bool { self == .inverted }

    /// `["!"]` when inverted: the prefix iptables expects before the option.
    public var prefix: [String] { isInverted ? ["!"] : [] }
}
