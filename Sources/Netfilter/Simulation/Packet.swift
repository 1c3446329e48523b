import PacketModel

/// A packet in flight with what the kernel carries beside its headers: the mark, the conntrack
/// entry attached to it (kept across the loopback), the sending socket, the socket TPROXY chose.
public struct Packet: Sendable {
    public var header: PacketHeader
    /// The packet an ICMP error quotes, as a tuple.
    public var icmpOriginal: ConnectionTuple?
    public var mark: UInt32
    /// The sending socket's owner; nil for packets the kernel makes (RST, ICMP errors).
    public var owner: SocketOwner?
    /// What the exchange calls this packet (`SYN`, `SYN-ACK`, `reply`, …), for traces.
    public var label: String
    var conntrack: ConntrackVerdict?
    var assigned: SocketTarget?
    var hops = 0

    public init(
        header: PacketHeader, label: String, mark: UInt32 = 0, owner: SocketOwner? = nil,
        icmpOriginal: ConnectionTuple? = nil
    ) {
        self.header = header
        self.label = label
        self.mark = mark
        self.owner = owner
        self.icmpOriginal = icmpOriginal
    }
}

/// A socket a packet can be delivered to on a host.
public enum SocketTarget: Hashable, Sendable {
    case listener(Int)
    case socket(Int)
}

/// One table walked at one hook on one host, with the packet as it entered.
public struct HookVisit: Sendable {
    public var host: String
    public var packet: String
    public var hook: ChainName
    public var table: Table
    public var header: PacketHeader
    public var walk: Walk
}

/// Where a packet's journey ended.
public enum PacketFate: Sendable {
    /// Routed to a local socket lookup on `host` (arrived on `interface`).
    case arrived(host: String, interface: String, packet: Packet)
    /// Dropped on `host`: by a rule (`table hook`), or by the stack (`reason`).
    case dropped(host: String, reason: String)
    /// The sender's own host refused to send it (`eperm` from a DROP, `refused` from a REJECT).
    case refusedLocally(String)
    /// No route from the sending host.
    case unreachable
}
