import PacketModel

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

    @inline(__always) var hash: UInt64 {
        var h = (aHigh ^ (aLow &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        h ^= (bHigh ^ (bLow &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x94D0_49BB_1331_11EB
        h ^= (UInt64(aPort) << 32 | UInt64(bPort) << 16 | UInt64(proto) << 1 | (isV6 ? 1 : 0)) &* 0x9E37_79B9_7F4A_7C15
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

/// One live flow. Plain values only (no references), so the table is one flat allocation.
struct FlowEntry {
    var key: FlowKey
    var firstSeen: Int64
    var lastSeen: Int64
    var bytes: UInt64
    var packets: UInt32
    var replyPackets: UInt32
    var related: UInt32
    var verdict: Int32
    var interfaceIndex: UInt32
    var firstFlags: UInt16
    var state: FlowState
    /// The initiator is the key's `a` end.
    var initiatorIsA: Bool
    var direction: FlowDirection
    var hasInterfaceIndex: Bool
}

/// Open addressing with linear probing and backward-shift deletion, in two flat arrays: the
/// deadlines (0 = empty slot), scanned when expiring flows, and the entries.
struct FlowTable: ~Copyable {
    private(set) var capacity: Int
    private(set) var count = 0
    var deadlines: UnsafeMutablePointer<Int64>
    var entries: UnsafeMutablePointer<FlowEntry>

    init(capacity: Int = 1 << 12) {
        self.capacity = capacity
        deadlines = .allocate(capacity: capacity)
        deadlines.initialize(repeating: 0, count: capacity)
        entries = .allocate(capacity: capacity)
    }

    deinit {
        deadlines.deallocate()
        entries.deallocate()
    }

    var mask: Int { capacity - 1 }

    /// The slot holding `key`, or the empty slot where it would go (as a negative: -1 - slot).
    @inline(__always) func find(_ key: FlowKey, hash: UInt64) -> Int {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while deadlines[slot] != 0 {
            if entries[slot].key == key { return slot }
            slot = (slot + 1) & mask
        }
        return -1 - slot
    }

    /// Inserts into the empty slot `find` returned; may grow (then the slot is recomputed).
    mutating func insert(_ entry: FlowEntry, deadline: Int64, emptySlot: Int) -> Int {
        var slot = emptySlot
        if (count + 1) * 2 > capacity {
            grow()
            slot = -1 - find(entry.key, hash: entry.key.hash)
        }
        (entries + slot).initialize(to: entry)
        deadlines[slot] = max(deadline, 1)
        count += 1
        return slot
    }

    mutating func grow() {
        let oldCapacity = capacity
        let oldDeadlines = deadlines
        let oldEntries = entries
        capacity *= 2
        deadlines = .allocate(capacity: capacity)
        deadlines.initialize(repeating: 0, count: capacity)
        entries = .allocate(capacity: capacity)
        for slot in 0..<oldCapacity where oldDeadlines[slot] != 0 {
            let entry = oldEntries[slot]
            var target = Int(truncatingIfNeeded: entry.key.hash) & mask
            while deadlines[target] != 0 { target = (target + 1) & mask }
            (entries + target).initialize(to: entry)
            deadlines[target] = oldDeadlines[slot]
        }
        oldDeadlines.deallocate()
        oldEntries.deallocate()
    }

    /// Empties `slot` and shifts later entries of its cluster back (no tombstones).
    mutating func remove(at slot: Int) {
        var hole = slot
        var next = (slot + 1) & mask
        while deadlines[next] != 0 {
            let home = Int(truncatingIfNeeded: entries[next].key.hash) & mask
            // Move `next` into the hole unless its home lies cyclically in (hole, next].
            let distanceToNext = (next - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToNext {
                entries[hole] = entries[next]
                deadlines[hole] = deadlines[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        deadlines[hole] = 0
        count -= 1
    }
}
