import Netfilter
import PacketModel

/// iptables-save / iptables-restore text as statements, in the order written. Applying them to
/// an empty ruleset gives the tables the kernel would hold (`finalChains`).
public struct RestoreDocument: Hashable, Sendable {
    public var family: IPFamily
    public var blocks: [TableBlock]

    public init(family: IPFamily, blocks: [TableBlock] = []) {
        self.family = family
        self.blocks = blocks
    }
}

/// Packet and byte counters (`[p:b]`).
public struct Counters: Hashable, Sendable {
    public var packets: UInt64
    public var bytes: UInt64

    public init(packets: UInt64, bytes: UInt64) {
        self.packets = packets
        self.bytes = bytes
    }
}

/// One `*table` … `COMMIT` block.
public struct TableBlock: Hashable, Sendable {
    public var table: Table
    public var statements: [Statement]
    /// Istio writes `* nat`, iptables-save `*nat`; both load.
    public var spacedHeader: Bool

    public init(table: Table, statements: [Statement] = [], spacedHeader: Bool = false) {
        self.table = table
        self.statements = statements
        self.spacedHeader = spacedHeader
    }
}

/// A line of a table block.
public enum Statement: Hashable, Sendable {
    /// `:CHAIN POLICY [p:b]` (policy `-` for user chains).
    case chain(ChainName, policy: Policy?, counters: Counters?)
    /// `-N CHAIN`
    case newChain(ChainName)
    /// `-A CHAIN rule` / `-I CHAIN [n] rule`, optionally with `[p:b]` counters before it.
    case rule(ChainRule, counters: Counters?)
    /// `-D CHAIN rule` or `-D CHAIN n`.
    case delete(ChainName, DeleteTarget)
    /// `-F [CHAIN]`
    case flush(ChainName?)
    /// `-X [CHAIN]`
    case deleteChain(ChainName?)
    /// `-P CHAIN POLICY`
    case policy(ChainName, Policy)
}

public enum DeleteTarget: Hashable, Sendable {
    case rule(Rule)
    case position(Int)
}

/// A built-in chain's policy.
public enum Policy: String, Hashable, Sendable {
    case accept = "ACCEPT"
    case drop = "DROP"
}
