import CHints
import Netfilter
import PacketCodec
import PacketModel

/// conntrack's default timeouts (`/proc/sys/net/netfilter/nf_conntrack_*_timeout*`), in seconds.
public struct Timeouts: Sendable {
    /// A SYN without an answer yet (`tcp_timeout_syn_sent`).
    public var tcpUnreplied: Int64 = 120
    /// `tcp_timeout_established`: five days.
    public var tcpEstablished: Int64 = 432_000
    /// After a FIN (`tcp_timeout_fin_wait`, `tcp_timeout_time_wait`).
    public var tcpClosing: Int64 = 120
    /// After a RST (`tcp_timeout_close`).
    public var tcpReset: Int64 = 10
    /// `udp_timeout` (one direction only) and `udp_timeout_stream` (replied).
    public var udpUnreplied: Int64 = 30
    public var udpReplied: Int64 = 120
    /// `icmp_timeout`, `icmpv6_timeout`.
    public var icmp: Int64 = 30
    /// `generic_timeout`.
    public var other: Int64 = 600

    public init() {}
}

/// A finished (or, at the end of the input, still live) flow.
public struct FlowRecord: Sendable {
    public var proto: IPProtocol
    /// The initiator (who sent the first packet, or the SYN).
    public var source: IPAddress
    public var sourcePort: UInt16
    public var destination: IPAddress
    public var destinationPort: UInt16
    public var direction: FlowDirection
    public var verdict: FlowVerdict
    /// The socket owner the simulation assumed (flows the pod starts), nil for inbound.
    public var uid: UInt32?
    /// Its group, alongside `uid`.
    public var gid: UInt32? = nil
    /// Packets in both directions, and those from the responder.
    public var packets: Int
    public var replyPackets: Int
    /// ICMP errors quoting this flow (RELATED in conntrack's terms).
    public var relatedPackets: Int
    public var firstSeenNanoseconds: Int64
    public var lastSeenNanoseconds: Int64
    /// LINUX_SLL2's interface index of the first packet.
    public var interfaceIndex: UInt32?
    /// TCP flags of the first packet.
    public var firstTCPFlags: TCPFlags
    /// Packets of the flow's redirected leg on `lo` (to 127.0.0.1:15001, 15053, …), joined into
    /// it by ``LoopbackLegJoiner`` (already counted in `packets`).
    public var loopbackLegPackets = 0

    /// The first packet's headers as the netfilter model sees them.
    public var firstPacket: PacketHeader {
        PacketHeader(
            proto: proto, source: source, sourcePort: sourcePort, destination: destination,
            destinationPort: destinationPort, tcpFlags: Set(firstTCPFlags.names))
    }

    /// What SO_ORIGINAL_DST reports on the landing socket (`ip:port`), when it reports one.
    public var originalDestination: String? {
        guard verdict.reportsOriginalDestination else { return nil }
        return Simulator.text(destination, destinationPort)
    }
}

/// Counters over everything seen.
public struct ReplayStatistics: Sendable {
    public var packets = 0
    /// Packets without an IP header (ARP, LLDP, unsupported link types, …).
    public var nonIP = 0
    /// Packets whose headers were cut (snaplen) or malformed.
    public var truncated = 0
    public var malformed = 0
    /// Later fragments (no ports) and those joined to their first fragment's flow.
    public var fragments = 0
    public var fragmentsJoined = 0
    /// ICMP errors, and those whose quoted packet belongs to a live flow.
    public var icmpErrors = 0
    public var icmpErrorsRelated = 0
    public var flows = 0
    public var peakLiveFlows = 0
    public var firstNanoseconds: Int64?
    public var lastNanoseconds: Int64 = 0

    public init() {}
}

/// The streaming flow table: packets in, flows out. Each new flow is classified (inbound,
/// outbound, loopback, transit) and simulated once; a flow is handed to `emit` when it expires
/// (conntrack's timeouts against the capture's clock) or at ``finish()``. Memory grows with
/// the live flows, not with the file.
///
/// Single-threaded by design; the hot properties skip Swift's dynamic exclusivity checks
/// (`@exclusivity(unchecked)`), which cost more than the flow lookup itself.
public final class FlowTracker {
    @exclusivity(unchecked) public private(set) var statistics = ReplayStatistics()
    @exclusivity(unchecked) public private(set) var verdicts: SimulatorVerdicts
    let podAddresses: [(UInt64, UInt64, Bool)]
    let timeouts: Timeouts
    let emit: (FlowRecord) -> Void
    @exclusivity(unchecked) var table: FlowTable
    @exclusivity(unchecked) var now: Int64 = .min
    @exclusivity(unchecked) var nextSweep: Int64 = .min
    @exclusivity(unchecked) var packetsSinceSweep = 0
    /// First fragments' ports, to join later fragments (`ipfrag_time` 30 s is not modelled:
    /// the map is cleared when it grows past its limit).
    @exclusivity(unchecked) var fragmentPorts: [FragmentKey: (UInt16, UInt16)] = [:]

    struct FragmentKey: Hashable {
        var sourceHigh: UInt64
        var sourceLow: UInt64
        var destinationHigh: UInt64
        var destinationLow: UInt64
        var identification: UInt32
        var proto: UInt8
    }

    /// `initialCapacity` (a power of two) is the table's first size; expired flows are swept
    /// every `capacity` packets, so up to about a quarter of it may hold expired flows.
    public init(
        podAddresses: [IPAddress], verdicts: SimulatorVerdicts, timeouts: Timeouts = Timeouts(),
        initialCapacity: Int = 1 << 16, recordsTranslations: Bool = false,
        emit: @escaping (FlowRecord) -> Void
    ) {
        self.recordsTranslations = recordsTranslations
        table = FlowTable(capacity: max(16, initialCapacity.nextPowerOfTwo))
        self.podAddresses = podAddresses.map { Self.words($0) }
        self.verdicts = verdicts
        self.timeouts = timeouts
        self.emit = emit
        pendingSlots = .allocate(capacity: 2)
        pendingSlots.initialize(repeating: PendingPacket(), count: 2)
    }

    deinit { pendingSlots.deallocate() }

    @inline(__always) static func words(_ address: IPAddress) -> (UInt64, UInt64, Bool) {
        switch address {
        case .v4(let v4): (0, UInt64(v4.value), false)
        case .v6(let v6): (v6.high, v6.low, true)
        }
    }

    /// Set by `add` when `recordsTranslations`: how the last packet looks to the pod's socket.
    public private(set) var lastTranslation: Translation?
    /// Whether a flow to a loopback address started (a REDIRECTed leg, for ``LoopbackLegJoiner``).
    public private(set) var sawLoopbackLeg = false
    /// Whether `add` works out `lastTranslation` (for `--write-pcap`).
    public let recordsTranslations: Bool

    @inline(__always) func translate(
        _ verdictIndex: Int32, fromInitiator: Bool, source: IPAddress, sourcePort: UInt16,
        destination: IPAddress,
        destinationPort: UInt16
    ) {
        let verdict = verdicts.verdicts[Int(verdictIndex)]
        guard let address = verdict.localAddress, let port = verdict.localPort else { return }
        // Towards the socket the destination is what NAT made it; from it, the source (before
        // the reply is un-NATed).
        if fromInitiator {
            if address != destination || port != destinationPort {
                lastTranslation = Translation(rewritesDestination: true, address: address, port: port)
            }
        } else if address != source || port != sourcePort {
            lastTranslation = Translation(rewritesDestination: false, address: address, port: port)
        }
    }

    /// A fast-path packet between decoding and counting: its headers and its flow key, worked
    /// out once.
    struct PendingPacket {
        var headers = FlowHeaders()
        var key = FlowKey.empty
        var hash: UInt64 = 0
        var sourceFirst = false
        var timestamp: Int64 = 0
    }

    /// Two places to decode into: the packet just read and the one ``addPipelined`` holds back
    /// (pointers, so neither is copied per packet).
    let pendingSlots: UnsafeMutablePointer<PendingPacket>
    /// Which of `pendingSlots` waits to be counted (-1: none).
    @exclusivity(unchecked) var pendingSlot = -1

    /// The replay's per-packet call: decodes `bytes` with
    /// ``PacketDecoder/decodeFlowHeaders(_:linkType:into:)`` and, when that fast path applies,
    /// counts the packet one packet late and returns true; otherwise returns false, and the
    /// caller decodes fully and calls ``add(_:timestamp:)``.
    ///
    /// One packet late: it starts loading this packet's table slot into the cache and counts the
    /// previous packet, so the slot's cache miss (most of a packet's cost when many flows are
    /// live) overlaps reading and decoding the next packet. Packet order is kept: ``add(_:timestamp:)``,
    /// ``flush()`` and ``finish()`` count the waiting packet first. Not pipelined when
    /// translations are recorded (they describe the packet just added).
    public func addPipelined(_ bytes: UnsafeRawBufferPointer, linkType: LinkType, timestamp: Int64) -> Bool {
        let slot = pendingSlot == 0 ? 1 : 0
        let next = pendingSlots + slot
        guard PacketDecoder.decodeFlowHeaders(bytes, linkType: linkType, into: &next.pointee.headers) else {
            return false
        }
        let headers = next.pointee.headers
        (next.pointee.key, next.pointee.sourceFirst) = FlowKey.normalised(
            headers.sourceHigh, headers.sourceLow, headers.sourcePort, headers.destinationHigh,
            headers.destinationLow, headers.destinationPort, proto: headers.proto, isV6: headers.isV6)
        next.pointee.hash = next.pointee.key.hash
        next.pointee.timestamp = timestamp
        if recordsTranslations {
            count(next)
            return true
        }
        chints_prefetch_for_write(table.entries + (Int(truncatingIfNeeded: next.pointee.hash) & table.mask))
        if pendingSlot >= 0 { count(pendingSlots + pendingSlot) }
        pendingSlot = slot
        return true
    }

    /// Counts the packet ``addPipelined(_:linkType:timestamp:)`` holds back, if any.
    public func flush() {
        guard pendingSlot >= 0 else { return }
        let slot = pendingSlot
        pendingSlot = -1
        count(pendingSlots + slot)
    }

    @inline(__always) func count(_ packet: UnsafePointer<PendingPacket>) {
        if recordsTranslations { lastTranslation = nil }
        statistics.packets &+= 1
        advanceClock(to: packet.pointee.timestamp)
        let headers = packet.pointee.headers
        track(
            packet.pointee.key, sourceFirst: packet.pointee.sourceFirst, hash: packet.pointee.hash,
            flags: headers.tcpFlags, portsKnown: true, observedOwner: nil,
            interfaceIndex: headers.hasInterfaceIndex ? headers.interfaceIndex : nil,
            timestamp: packet.pointee.timestamp)
    }

    /// Adds one decoded packet captured at `timestamp` (ns): any packet, including non-IP ones,
    /// fragments, ICMP errors and NFLOG records.
    public func add(_ packet: borrowing DecodedPacket, timestamp: Int64) {
        flush()
        if recordsTranslations { lastTranslation = nil }
        statistics.packets += 1
        if let issue = packet.issue {
            switch issue {
            case .truncated: statistics.truncated += 1
            case .malformed, .unsupportedLinkType: statistics.malformed += 1
            }
        }
        guard let ip = packet.ip else {
            statistics.nonIP += 1
            return
        }
        advanceClock(to: timestamp)

        let (sourceHigh, sourceLow, isV6) = Self.words(ip.source)
        let (destinationHigh, destinationLow, _) = Self.words(ip.destination)
        var sourcePort: UInt16 = 0
        var destinationPort: UInt16 = 0
        var flags: TCPFlags = []
        /// False when a TCP/UDP packet's ports are unknown (a later fragment without its first).
        var portsKnown = true
        if let transport = packet.transport {
            sourcePort = transport.sourcePort
            destinationPort = transport.destinationPort
            flags = transport.tcpFlags
            if let fragment = ip.fragment, fragment.moreFragments {
                rememberFragment(
                    ip, sourceHigh, sourceLow, destinationHigh, destinationLow, fragment, transport)
            }
        } else if let icmp = packet.icmp {
            if icmp.isError {
                relate(icmp)
                return
            }
            // Echo: conntrack's tuple has the identifier on both sides.
            sourcePort = icmp.identifier ?? 0
            destinationPort = sourcePort
        } else if let fragment = ip.fragment, !fragment.isFirst {
            statistics.fragments += 1
            let key = FragmentKey(
                sourceHigh: sourceHigh, sourceLow: sourceLow, destinationHigh: destinationHigh,
                destinationLow: destinationLow, identification: fragment.identification,
                proto: ip.proto.rawValue)
            if let ports = fragmentPorts[key] {
                statistics.fragmentsJoined += 1
                (sourcePort, destinationPort) = ports
                if !fragment.moreFragments { fragmentPorts[key] = nil }
            } else {
                portsKnown = false
            }
        } else if DecodedPacket.hasPorts(ip.proto) {
            portsKnown = false  // the transport header was cut
        }
        var observed: (uid: UInt32, gid: UInt32)?
        if let nflog = packet.nflog, let uid = nflog.uid { observed = (uid, nflog.gid ?? uid) }
        let (key, sourceFirst) = FlowKey.normalised(
            sourceHigh, sourceLow, sourcePort, destinationHigh, destinationLow, destinationPort,
            proto: ip.proto.rawValue, isV6: isV6)
        track(
            key, sourceFirst: sourceFirst, hash: key.hash, flags: flags, portsKnown: portsKnown,
            observedOwner: observed, interfaceIndex: packet.interfaceIndex, timestamp: timestamp)
    }

    /// Moves the capture clock forward and sweeps expired flows now and then.
    @inline(__always) func advanceClock(to timestamp: Int64) {
        if timestamp > now {
            now = timestamp
            if statistics.firstNanoseconds == nil { statistics.firstNanoseconds = timestamp }
        }
        packetsSinceSweep &+= 1
        if now >= nextSweep && packetsSinceSweep >= table.capacity { sweep() }
    }

    /// Counts an IP packet on its flow, starting the flow (and simulating it) when it is new.
    /// `observedOwner`: the uid/gid an NFLOG record gives for the packet's sender.
    /// `key` is the packet's normalised flow key, `sourceFirst` whether its source is the key's
    /// `a` end, `hash` the key's hash.
    @inline(__always) func track(
        _ key: FlowKey, sourceFirst: Bool, hash: UInt64, flags: TCPFlags, portsKnown: Bool,
        observedOwner: (uid: UInt32, gid: UInt32)?, interfaceIndex: UInt32?, timestamp: Int64
    ) {
        var slot = table.find(key, hash: hash)
        if slot >= 0 && table.entries[slot].deadline < timestamp {
            // Expired since the last sweep: conntrack would have forgotten it; this packet
            // starts a new flow with the same 5-tuple.
            emit(record(table.entries[slot], table.details[slot]))
            table.remove(at: slot)
            slot = table.find(key, hash: hash)
        }
        guard slot >= 0 else {
            startFlow(
                key, sourceFirst: sourceFirst, emptySlot: -1 - slot, flags: flags, portsKnown: portsKnown,
                observedOwner: observedOwner, interfaceIndex: interfaceIndex, timestamp: timestamp)
            return
        }
        let entry = table.entries + slot
        let fromInitiator = entry.pointee.initiatorIsA == sourceFirst
        if timestamp > entry.pointee.lastSeen { entry.pointee.lastSeen = timestamp }
        if fromInitiator {
            entry.pointee.packets &+= 1
        } else {
            entry.pointee.replyPackets &+= 1
            entry.pointee.state.insert(.replied)
        }
        // RST (0x04) and FIN (0x01), RFC 9293 §3.1.
        if flags.rawValue & 0x05 != 0 {
            if flags.rawValue & 0x04 != 0 { entry.pointee.state.insert(.reset) }
            if flags.rawValue & 0x01 != 0 {
                entry.pointee.state.insert(fromInitiator ? .finFromInitiator : .finFromResponder)
            }
        }
        entry.pointee.deadline = max(entry.pointee.lastSeen &+ timeout(entry.pointee), 1)
        if recordsTranslations {
            let (source, sourcePort, destination, destinationPort) = key.ends(aFirst: sourceFirst)
            translate(
                table.details[slot].verdict, fromInitiator: fromInitiator, source: source,
                sourcePort: sourcePort, destination: destination, destinationPort: destinationPort)
        }
    }

    /// A new flow: classified, simulated (once per kind of flow, see ``SimulatorVerdicts``) and
    /// put in the table at `emptySlot`. Out of line: most packets belong to a known flow.
    @inline(never) func startFlow(
        _ key: FlowKey, sourceFirst: Bool, emptySlot: Int, flags: TCPFlags, portsKnown: Bool,
        observedOwner: (uid: UInt32, gid: UInt32)?, interfaceIndex: UInt32?, timestamp: Int64
    ) {
        let (source, sourcePort, destination, destinationPort) = key.ends(aFirst: sourceFirst)
        let proto = IPProtocol(rawValue: key.proto)
        // The initiator sent the first packet, unless that packet is a SYN-ACK (or mid-stream
        // TCP, where the lower port is taken as the server's).
        var initiatorIsSource = true
        if key.proto == 6 {
            if flags.contains(.syn) {
                initiatorIsSource = !flags.contains(.ack)
            } else {
                initiatorIsSource = sourcePort >= destinationPort
            }
        }
        let initiator = initiatorIsSource ? source : destination
        let responder = initiatorIsSource ? destination : source
        let direction = classify(initiator: initiator, responder: responder)
        if direction == .loopback && responder.isLoopback { sawLoopbackLeg = true }
        let initiatorPort = initiatorIsSource ? sourcePort : destinationPort
        let responderPort = initiatorIsSource ? destinationPort : sourcePort
        // Only flows the pod starts have an owner; an NFLOG record of the initiator's packet names it.
        var owner: (uid: UInt32, gid: UInt32) = (0, 0)
        if direction == .outbound || direction == .loopback {
            owner = verdicts.owner(
                initiator: initiator, initiatorPort: initiatorPort, responder: responder,
                responderPort: responderPort, observed: initiatorIsSource ? observedOwner : nil)
        }
        let verdict =
            portsKnown
            ? verdicts.verdict(
                direction: direction, proto: proto, initiator: initiator, initiatorPort: initiatorPort,
                responder: responder, responderPort: responderPort, owner: owner,
                interfaceIndex: interfaceIndex)
            : SimulatorVerdicts.portsUnknown
        var entry = FlowEntry(
            key: key, state: initiatorIsSource ? [] : .replied,
            initiatorIsA: initiatorIsSource == sourceFirst,
            deadline: 0, lastSeen: timestamp, packets: initiatorIsSource ? 1 : 0,
            replyPackets: initiatorIsSource ? 0 : 1)
        if flags.contains(.rst) { entry.state.insert(.reset) }
        if flags.contains(.fin) {
            entry.state.insert(initiatorIsSource ? .finFromInitiator : .finFromResponder)
        }
        entry.deadline = timestamp &+ timeout(entry)
        let details = FlowDetails(
            firstSeen: timestamp, verdict: verdict, related: 0, interfaceIndex: interfaceIndex ?? 0,
            firstFlags: flags.rawValue, direction: direction, hasInterfaceIndex: interfaceIndex != nil,
            uid: owner.uid, gid: owner.gid)
        table.insert(entry, details, emptySlot: emptySlot)
        if recordsTranslations {
            translate(
                verdict, fromInitiator: initiatorIsSource, source: source, sourcePort: sourcePort,
                destination: destination, destinationPort: destinationPort)
        }
        statistics.flows += 1
        if table.count > statistics.peakLiveFlows { statistics.peakLiveFlows = table.count }
    }

    @inline(__always) func timeout(_ entry: FlowEntry) -> Int64 {
        let seconds: Int64
        switch entry.key.proto {
        case 6:
            let state = entry.state
            if state.contains(.reset) {
                seconds = timeouts.tcpReset
            } else if !state.isDisjoint(with: [.finFromInitiator, .finFromResponder]) {
                seconds = timeouts.tcpClosing
            } else {
                seconds = state.contains(.replied) ? timeouts.tcpEstablished : timeouts.tcpUnreplied
            }
        case 17:
            seconds = entry.state.contains(.replied) ? timeouts.udpReplied : timeouts.udpUnreplied
        case 1, 58:
            seconds = timeouts.icmp
        default:
            seconds = timeouts.other
        }
        return seconds &* 1_000_000_000
    }

    func isPodLocal(_ address: IPAddress) -> Bool {
        if address.isLoopback { return true }
        let words = Self.words(address)
        return podAddresses.contains { $0 == words }
    }

    func classify(initiator: IPAddress, responder: IPAddress) -> FlowDirection {
        let from = isPodLocal(initiator)
        let to = isPodLocal(responder)
        switch (from, to) {
        case (true, true): return .loopback
        case (true, false): return .outbound
        case (false, true): return .inbound
        case (false, false): return .transit
        }
    }

    func rememberFragment(
        _ ip: IPHeader, _ sourceHigh: UInt64, _ sourceLow: UInt64, _ destinationHigh: UInt64,
        _ destinationLow: UInt64, _ fragment: Fragment, _ transport: TransportHeader
    ) {
        if fragmentPorts.count >= 1 << 16 { fragmentPorts.removeAll(keepingCapacity: true) }
        let key = FragmentKey(
            sourceHigh: sourceHigh, sourceLow: sourceLow, destinationHigh: destinationHigh,
            destinationLow: destinationLow, identification: fragment.identification, proto: ip.proto.rawValue)
        fragmentPorts[key] = (transport.sourcePort, transport.destinationPort)
    }

    /// An ICMP error counts on the flow of the packet it quotes.
    func relate(_ icmp: ICMPHeader) {
        statistics.icmpErrors += 1
        guard let quoted = icmp.quoted else { return }
        let (sourceHigh, sourceLow, isV6) = Self.words(quoted.source)
        let (destinationHigh, destinationLow, _) = Self.words(quoted.destination)
        let sourcePort = quoted.sourcePort ?? 0
        let destinationPort = quoted.destinationPort ?? 0
        let (key, _) = FlowKey.normalised(
            sourceHigh, sourceLow, sourcePort, destinationHigh, destinationLow, destinationPort,
            proto: quoted.proto.rawValue, isV6: isV6)
        let slot = table.find(key, hash: key.hash)
        guard slot >= 0 else { return }
        statistics.icmpErrorsRelated += 1
        table.details[slot].related &+= 1
    }

    /// Hands expired flows to `emit` and frees their slots.
    func sweep() {
        packetsSinceSweep = 0
        nextSweep = now &+ 1_000_000_000
        var slot = 0
        while slot < table.capacity {
            let deadline = table.entries[slot].deadline
            if deadline != 0 && deadline < now {
                emit(record(table.entries[slot], table.details[slot]))
                table.remove(at: slot)
                continue  // the slot may now hold a shifted entry
            }
            slot += 1
        }
    }

    /// Emits every live flow (by first packet) and empties the table.
    public func finish() {
        flush()
        var live: [(firstSeen: Int64, slot: Int)] = []
        live.reserveCapacity(table.count)
        for slot in 0..<table.capacity where table.entries[slot].deadline != 0 {
            live.append((table.details[slot].firstSeen, slot))
        }
        live.sort { $0.firstSeen < $1.firstSeen || ($0.firstSeen == $1.firstSeen && $0.slot < $1.slot) }
        for (_, slot) in live { emit(record(table.entries[slot], table.details[slot])) }
        table = FlowTable(capacity: 1 << 4)
        statistics.lastNanoseconds = now
    }

    func record(_ entry: FlowEntry, _ details: FlowDetails) -> FlowRecord {
        let key = entry.key
        let (source, sourcePort, destination, destinationPort) = key.ends(aFirst: entry.initiatorIsA)
        let verdict = verdicts.verdicts[Int(details.verdict)]
        let owned = details.direction == .outbound || details.direction == .loopback
        let uid: UInt32? = owned ? details.uid : nil
        return FlowRecord(
            proto: IPProtocol(rawValue: key.proto), source: source, sourcePort: sourcePort,
            destination: destination, destinationPort: destinationPort, direction: details.direction,
            verdict: verdict, uid: verdict.verdict == .notSimulated ? nil : uid,
            gid: verdict.verdict == .notSimulated || !owned ? nil : details.gid,
            packets: Int(entry.packets + entry.replyPackets),
            replyPackets: Int(entry.replyPackets), relatedPackets: Int(details.related),
            firstSeenNanoseconds: details.firstSeen, lastSeenNanoseconds: entry.lastSeen,
            interfaceIndex: details.hasInterfaceIndex ? details.interfaceIndex : nil,
            firstTCPFlags: TCPFlags(rawValue: details.firstFlags))
    }
}

extension Int {
    /// The smallest power of two at least `self` (for positive values).
    fileprivate var nextPowerOfTwo: Int {
        var value = 1
        while value < self { value <<= 1 }
        return value
    }
}
