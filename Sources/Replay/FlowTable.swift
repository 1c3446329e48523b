import PacketModel

#if canImport(Glibc)
    import Glibc
#endif

/// A direction-normalised 5-tuple: the smaller (address, port) end first, so a reply finds its
/// request's flow. Addresses as two words (IPv4 in the low word, tagged by `isV6`).
struct FlowKey: Equatable {
    var aHigh: UInt64
    var aLow: UInt64
    var bHigh: UInt64
    var bLow: UInt64
    var aPort: UInt16
    var bPort: UInt16
    var proto: UInt8
    var isV6: Bool

    /// The key of a packet's flow whatever its direction: the lower endpoint is `a`. Also says
    /// whether the packet's source is that lower endpoint.
    @inline(__always) static func normalised(
        _ sourceHigh: UInt64, _ sourceLow: UInt64, _ sourcePort: UInt16, _ destinationHigh: UInt64,
        _ destinationLow: UInt64, _ destinationPort: UInt16, proto: UInt8, isV6: Bool
    ) -> (FlowKey, sourceFirst: Bool) {
        let sourceFirst =
            (sourceHigh, sourceLow, sourcePort) <= (destinationHigh, destinationLow, destinationPort)
        return sourceFirst
            ? (
                FlowKey(
                    aHigh: sourceHigh, aLow: sourceLow, bHigh: destinationHigh, bLow: destinationLow,
                    aPort: sourcePort, bPort: destinationPort, proto: proto, isV6: isV6), true
            )
            : (
                FlowKey(
                    aHigh: destinationHigh, aLow: destinationLow, bHigh: sourceHigh, bLow: sourceLow,
                    aPort: destinationPort, bPort: sourcePort, proto: proto, isV6: isV6), false
            )
    }

    static let empty = FlowKey(
        aHigh: 0, aLow: 0, bHigh: 0, bLow: 0, aPort: 0, bPort: 0, proto: 0, isV6: false)

    /// The two ends as addresses and ports, `a` first when `aFirst` (source, then destination).
    func ends(aFirst: Bool) -> (IPAddress, UInt16, IPAddress, UInt16) {
        let a = address(aHigh, aLow)
        let b = address(bHigh, bLow)
        return aFirst ? (a, aPort, b, bPort) : (b, bPort, a, aPort)
    }

    func address(_ high: UInt64, _ low: UInt64) -> IPAddress {
        isV6 ? .v6(IPv6Address(high: high, low: low)) : .v4(IPv4Address(UInt32(truncatingIfNeeded: low)))
    }

    @inline(__always) var hash: UInt64 {
        var h = (aHigh ^ (aLow &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        h ^= (bHigh ^ (bLow &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x94D0_49BB_1331_11EB
        h ^=
            (UInt64(aPort) << 32 | UInt64(bPort) << 16 | UInt64(proto) << 1 | (isV6 ? 1 : 0))
            &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        return h
    }
}

/// TCP/UDP progress bits of a flow, for conntrack-like timeouts.
struct FlowState: OptionSet {
    let rawValue: UInt8
    /// A packet went from the responder back to the initiator.
    static let replied = FlowState(rawValue: 1)
    static let finFromInitiator = FlowState(rawValue: 2)
    static let finFromResponder = FlowState(rawValue: 4)
    static let reset = FlowState(rawValue: 8)
}

/// One live flow's hot part: what every packet reads and writes, in one 64-byte cache line
/// (the key's 38 bytes, the state bytes in its tail padding, deadline, counters).
struct FlowEntry {
    var key: FlowKey
    var state: FlowState
    /// The initiator is the key's `a` end.
    var initiatorIsA: Bool
    /// When the flow expires (ns, capture clock); 0 marks an empty slot.
    var deadline: Int64
    var lastSeen: Int64
    var packets: UInt32
    var replyPackets: UInt32

    static let empty = FlowEntry(
        key: .empty, state: [],
        initiatorIsA: true, deadline: 0, lastSeen: 0, packets: 0, replyPackets: 0)
}

/// One live flow's cold part, read when the flow starts and ends.
struct FlowDetails {
    var firstSeen: Int64
    var verdict: Int32
    var related: UInt32
    var interfaceIndex: UInt32
    var firstFlags: UInt16
    var direction: FlowDirection
    var hasInterfaceIndex: Bool
    /// The owner the flow was simulated with (outbound and loopback flows).
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Open addressing with linear probing and backward-shift deletion: hot entries in one flat
/// 64-byte-aligned array (a slot is empty when its deadline is 0), details in a parallel one.
struct FlowTable: ~Copyable {
    private(set) var capacity: Int
    private(set) var count = 0
    var entries: UnsafeMutablePointer<FlowEntry>
    var details: UnsafeMutablePointer<FlowDetails>

    init(capacity: Int) {
        self.capacity = capacity
        entries = Self.allocate(capacity)
        details = TableMemory.allocate(FlowDetails.self, capacity)
    }

    static func allocate(_ capacity: Int) -> UnsafeMutablePointer<FlowEntry> {
        let entries = TableMemory.allocate(FlowEntry.self, capacity)
        entries.initialize(repeating: .empty, count: capacity)
        return entries
    }

    deinit {
        TableMemory.deallocate(entries)
        TableMemory.deallocate(details)
    }

    var mask: Int { capacity - 1 }

    /// The slot holding `key`, or the empty slot where it would go (as a negative: -1 - slot).
    @inline(__always) func find(_ key: FlowKey, hash: UInt64) -> Int {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while entries[slot].deadline != 0 {
            if entries[slot].key == key { return slot }
            slot = (slot + 1) & mask
        }
        return -1 - slot
    }

    /// Inserts into the empty slot `find` returned; may grow (then the slot is recomputed).
    mutating func insert(_ entry: FlowEntry, _ detail: FlowDetails, emptySlot: Int) {
        var slot = emptySlot
        if (count + 1) * 2 > capacity {
            grow()
            slot = -1 - find(entry.key, hash: entry.key.hash)
        }
        entries[slot] = entry
        if entries[slot].deadline == 0 { entries[slot].deadline = 1 }
        (details + slot).initialize(to: detail)
        count += 1
    }

    mutating func grow() {
        let oldCapacity = capacity
        let old = entries
        let oldDetails = details
        capacity *= 2
        entries = Self.allocate(capacity)
        details = .allocate(capacity: capacity)
        for slot in 0..<oldCapacity where old[slot].deadline != 0 {
            var target = Int(truncatingIfNeeded: old[slot].key.hash) & mask
            while entries[target].deadline != 0 { target = (target + 1) & mask }
            entries[target] = old[slot]
            (details + target).initialize(to: oldDetails[slot])
        }
        TableMemory.deallocate(old)
        TableMemory.deallocate(oldDetails)
    }

    /// Empties `slot` and shifts later entries of its cluster back (no tombstones).
    mutating func remove(at slot: Int) {
        var hole = slot
        var next = (slot + 1) & mask
        while entries[next].deadline != 0 {
            let home = Int(truncatingIfNeeded: entries[next].key.hash) & mask
            // Move `next` into the hole unless its home lies cyclically in (hole, next].
            if (hole - home) & mask < (next - home) & mask {
                entries[hole] = entries[next]
                details[hole] = details[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        entries[hole].deadline = 0
        count -= 1
    }
}

/// The flow table's arrays: 64-byte aligned, and from 2 MiB on in transparent huge pages where
/// the kernel offers them (`madvise(MADV_HUGEPAGE)`; `enabled` is often `madvise`). Lookups land
/// anywhere in a table of tens of MiB: with 4 KiB pages nearly each one also misses the TLB, and
/// every page is a separate fault when first written.
enum TableMemory {
    static let hugePage = 2 << 20

    static func allocate<T>(_: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let bytes = max(MemoryLayout<T>.stride * count, 1)
        #if canImport(Glibc)
            var memory: UnsafeMutableRawPointer?
            guard posix_memalign(&memory, bytes >= hugePage ? hugePage : 64, bytes) == 0, let memory else {
                fatalError("flow table: out of memory allocating \(bytes) bytes")
            }
            if bytes >= hugePage { _ = madvise(memory, bytes, MADV_HUGEPAGE) }  // advice: may be refused
            return memory.bindMemory(to: T.self, capacity: count)
        #else
            return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                .bindMemory(to: T.self, capacity: count)
        #endif
    }

    static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>) {
        #if canImport(Glibc)
            free(pointer)
        #else
            pointer.deallocate()
        #endif
    }
}
