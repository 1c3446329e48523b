import PacketModel

/// A connection's addresses and ports in one direction, as conntrack keys it
/// (`nf_conntrack_tuple`). ICMP echo uses its identifier as both ports.
public struct ConnectionTuple: Hashable, Sendable, CustomStringConvertible {
    public var proto: IPProtocol
    public var source: IPAddress
    public var sourcePort: UInt16
    public var destination: IPAddress
    public var destinationPort: UInt16

    public init(
        proto: IPProtocol, source: IPAddress, sourcePort: UInt16, destination: IPAddress,
        destinationPort: UInt16
    ) {
        self.proto = proto
        self.source = source
        self.sourcePort = sourcePort
        self.destination = destination
        self.destinationPort = destinationPort
    }

    public init(_ header: PacketHeader) {
        self.init(
            proto: header.proto, source: header.source, sourcePort: header.sourcePort,
            destination: header.destination, destinationPort: header.destinationPort)
    }

    /// The tuple a reply carries.
    public var reversed: ConnectionTuple {
        ConnectionTuple(
            proto: proto, source: destination, sourcePort: destinationPort, destination: source,
            destinationPort: sourcePort)
    }

    public var description: String {
        "\(proto) \(Simulator.text(source, sourcePort)) -> \(Simulator.text(destination, destinationPort))"
    }
}

/// Which way a packet travels relative to the connection's first packet.
public enum ConntrackDirection: String, Hashable, Sendable {
    case original
    case reply
}

/// The NAT manipulation a hook performs: destination in PREROUTING/OUTPUT, source in
/// INPUT/POSTROUTING (`HOOK2MANIP`).
public enum NATManipulation: Hashable, Sendable {
    case source
    case destination

    public init?(hook: ChainName) {
        switch hook {
        case .prerouting, .output: self = .destination
        case .input, .postrouting: self = .source
        default: return nil
        }
    }
}

/// One conntrack entry: the original tuple, the tuple replies are expected with (rewritten by
/// NAT), the zone it lives in, its mark, and which NAT manipulations are settled.
public struct ConntrackEntry: Hashable, Sendable {
    public let id: Int
    public var zone: UInt16
    public var original: ConnectionTuple
    public var reply: ConnectionTuple
    public var seenReply = false
    public var confirmed = false
    public var natInitialised: Set<NATManipulation> = []
    public var mark: UInt32 = 0

    /// `IPS_SRC_NAT`: replies are addressed to something else than the original source.
    public var sourceNATted: Bool {
        reply.destination != original.source || reply.destinationPort != original.sourcePort
    }

    /// `IPS_DST_NAT`: replies come from something else than the original destination.
    public var destinationNATted: Bool {
        reply.source != original.destination || reply.sourcePort != original.destinationPort
    }

    /// Rewrites a packet of this connection for the manipulation a hook performs
    /// (`nf_nat_packet`): the original direction is translated towards the reply tuple, the reply
    /// direction back towards the original one.
    public func translate(
        _ header: inout PacketHeader, _ manipulation: NATManipulation, _ direction: ConntrackDirection
    ) {
        var applies = manipulation == .source ? sourceNATted : destinationNATted
        if direction == .reply { applies = manipulation == .source ? destinationNATted : sourceNATted }
        guard applies else { return }
        // The tuple the packet must end up with is the inverse of the other direction's tuple.
        let target = (direction == .original ? reply : original).reversed
        if manipulation == .source {
            header.source = target.source
            header.sourcePort = target.sourcePort
        } else {
            header.destination = target.destination
            header.destinationPort = target.destinationPort
        }
    }
}

/// What conntrack made of a packet (`ctinfo`), as `-m conntrack --ctstate` sees it.
public struct ConntrackVerdict: Hashable, Sendable {
    public var entry: Int?
    public var direction: ConntrackDirection
    public var state: ConntrackMatch.State

    public static let invalid = ConntrackVerdict(entry: nil, direction: .original, state: .invalid)
    public static let untracked = ConntrackVerdict(entry: nil, direction: .original, state: .untracked)
}

/// A network namespace's connection tracking table (`nf_conntrack`), keyed by zone and tuple.
/// Entries are created unconfirmed by a connection's first packet and confirmed when that packet
/// leaves the last hook; a packet dropped before that takes its entry with it.
public struct Conntrack: Sendable {
    struct Key: Hashable {
        var zone: UInt16
        var tuple: ConnectionTuple
    }

    public private(set) var entries: [Int: ConntrackEntry] = [:]
    private var index: [Key: Int] = [:]
    private var nextID = 1

    public init() {}

    public subscript(id: Int) -> ConntrackEntry? {
        get { entries[id] }
        set { entries[id] = newValue }
    }

    /// The confirmed entry a tuple belongs to in a zone, and in which direction.
    public func find(_ tuple: ConnectionTuple, zone: UInt16) -> (id: Int, direction: ConntrackDirection)? {
        guard let id = index[Key(zone: zone, tuple: tuple)], let entry = entries[id] else { return nil }
        return (id, entry.original == tuple ? .original : .reply)
    }

    /// `nf_conntrack_in` for a packet with no entry attached yet.
    public mutating func classify(_ header: PacketHeader, zone: UInt16, icmpOriginal: ConnectionTuple?)
        -> ConntrackVerdict
    {
        if let inner = icmpOriginal {
            // An ICMP error belongs to the connection of the packet it quotes (`icmp_error_message`),
            // which travelled the other way; without one it is INVALID.
            guard let (id, direction) = find(inner, zone: zone) else { return .invalid }
            return ConntrackVerdict(
                entry: id, direction: direction == .original ? .reply : .original, state: .related)
        }
        let tuple = ConnectionTuple(header)
        if let (id, direction) = find(tuple, zone: zone) {
            let entry = entries[id]!
            if direction == .reply {
                entries[id]!.seenReply = true
                return ConntrackVerdict(entry: id, direction: .reply, state: .established)
            }
            return ConntrackVerdict(
                entry: id, direction: .original, state: entry.seenReply ? .established : .new)
        }
        if header.proto == .tcp && !Self.tcpMayStart(header.tcpFlags) { return .invalid }
        let id = nextID
        nextID += 1
        entries[id] = ConntrackEntry(id: id, zone: zone, original: tuple, reply: tuple.reversed)
        return ConntrackVerdict(entry: id, direction: .original, state: .new)
    }

    /// `tcp_new`: a SYN starts a connection and, with `nf_conntrack_tcp_loose` (the default), so
    /// does a bare ACK (a connection picked up mid-stream); SYN-ACK, FIN, RST alone are INVALID.
    static func tcpMayStart(_ flags: Set<String>) -> Bool {
        if flags.contains("RST") { return false }
        if flags.contains("SYN") { return !flags.contains("ACK") }
        if flags.contains("FIN") { return false }
        return flags.contains("ACK")
    }

    /// NAT decided: replies now come back with this tuple.
    public mutating func bind(_ id: Int, reply: ConnectionTuple, _ manipulation: NATManipulation) {
        entries[id]?.reply = reply
        entries[id]?.natInitialised.insert(manipulation)
    }

    /// `__nf_conntrack_confirm`: the entry becomes visible to later packets. A clash with an
    /// existing entry drops the packet (returns false).
    public mutating func confirm(_ id: Int) -> Bool {
        guard var entry = entries[id], !entry.confirmed else { return true }
        let keys = [Key(zone: entry.zone, tuple: entry.original), Key(zone: entry.zone, tuple: entry.reply)]
        if keys.contains(where: { index[$0] != nil }) {
            entries[id] = nil
            return false
        }
        entry.confirmed = true
        entries[id] = entry
        for key in keys { index[key] = id }
        return true
    }

    /// Forget an unconfirmed entry whose packet was dropped.
    public mutating func discardUnconfirmed(_ id: Int) {
        if entries[id]?.confirmed == false { entries[id] = nil }
    }
}
