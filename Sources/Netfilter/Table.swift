/// The netfilter tables iptables knows, in the order the kernel walks them at a shared hook.
public enum Table: String, Hashable, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case raw
    case mangle
    case nat
    case filter
    case security

    /// Built-in chains of each table (`iptables -t T -L` on a fresh namespace).
    public var builtinChains: [ChainName] {
        switch self {
        case .raw: [.prerouting, .output]
        case .mangle: [.prerouting, .input, .forward, .output, .postrouting]
        case .nat: [.prerouting, .input, .output, .postrouting]
        case .filter, .security: [.input, .forward, .output]
        }
    }

    /// Alphabetical, which is how Istio (1.23+) orders `*table` blocks in its restore text.
    public static func < (lhs: Table, rhs: Table) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }
}

/// A chain's name. Built-in chains are the hooks; everything else is a user chain.
public struct ChainName: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { self.rawValue = name }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let prerouting: ChainName = "PREROUTING"
    public static let input: ChainName = "INPUT"
    public static let forward: ChainName = "FORWARD"
    public static let output: ChainName = "OUTPUT"
    public static let postrouting: ChainName = "POSTROUTING"

    public var isBuiltin: Bool {
        [ChainName.prerouting, .input, .forward, .output, .postrouting].contains(self)
    }

    public var description: String { rawValue }
}
