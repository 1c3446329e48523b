import PacketModel

/// `tcpdump -i any` in a meshed pod shows a REDIRECTed connection twice: on `lo` after NAT
/// (10.44.0.2:p -> 127.0.0.1:15001) and, for the answers, un-NATed (93.184.216.34:80 ->
/// 10.44.0.2:p), which the tracker sees as the application's own flow. This joins the first into
/// the second: a loopback flow to the loopback address and port another flow of the same
/// initiator endpoint landed on is that flow's leg. Legs wait (bounded) for their flow; those
/// that find none are passed on as flows of their own.
public final class LoopbackLegJoiner {
    struct Endpoint: Hashable {
        var proto: UInt8
        var address: IPAddress
        var port: UInt16
    }

    let emit: (FlowRecord) -> Void
    /// Legs waiting for their flow, and flows landing on a loopback socket waiting for their leg
    /// (capture order and expiry order need not agree), each bounded: the oldest are let go.
    var legs = Waiting()
    var partners = Waiting()
    let capacity: Int
    public private(set) var joined = 0

    struct Waiting {
        var records: [Endpoint: FlowRecord] = [:]
        /// Arrival order from `head` on (a queue without O(n) removal at the front).
        var order: [Endpoint] = []
        var head = 0

        mutating func popOldest() -> Endpoint {
            defer {
                head += 1
                if head >= 4096 && head * 2 >= order.count {
                    order.removeFirst(head)
                    head = 0
                }
            }
            return order[head]
        }

        var queued: Int { order.count - head }
    }

    public init(capacity: Int = 4096, emit: @escaping (FlowRecord) -> Void) {
        self.capacity = capacity
        self.emit = emit
    }

    static func isLeg(_ flow: FlowRecord) -> Bool {
        flow.direction == .loopback && flow.destination.isLoopback
    }

    /// Whether the capture has shown a leg at all (the tracker says when one starts): until then
    /// flows pass straight through, so captures without `lo` traffic pay nothing and keep their order.
    public var legsPossible: () -> Bool = { true }

    public func add(_ flow: FlowRecord) {
        let endpoint = Endpoint(proto: flow.proto.rawValue, address: flow.source, port: flow.sourcePort)
        if Self.isLeg(flow) {
            if let partner = partners.records[endpoint], matches(flow, partner) {
                partners.records[endpoint] = nil
                emit(merge(flow, into: partner))
            } else {
                wait(flow, endpoint, in: &legs)
            }
        } else if flow.verdict.localAddress?.isLoopback == true && legsPossible() {
            if let leg = legs.records[endpoint], matches(leg, flow) {
                legs.records[endpoint] = nil
                emit(merge(leg, into: flow))
            } else {
                wait(flow, endpoint, in: &partners)
            }
        } else {
            emit(flow)
        }
    }

    func merge(_ leg: FlowRecord, into flow: FlowRecord) -> FlowRecord {
        var merged = flow
        merged.loopbackLegPackets = leg.packets
        merged.packets += leg.packets
        joined += 1
        return merged
    }

    /// The leg goes to where the flow's verdict says the flow landed.
    func matches(_ leg: FlowRecord, _ flow: FlowRecord) -> Bool {
        flow.verdict.localAddress == leg.destination && flow.verdict.localPort == leg.destinationPort
    }

    func wait(_ flow: FlowRecord, _ endpoint: Endpoint, in waiting: inout Waiting) {
        if let earlier = waiting.records.updateValue(flow, forKey: endpoint) { emit(earlier) }
        waiting.order.append(endpoint)
        while waiting.records.count > capacity || waiting.queued > 2 * capacity {
            if let record = waiting.records.removeValue(forKey: waiting.popOldest()) { emit(record) }
        }
    }

    /// Passes on what found no partner.
    public func finish() {
        var remaining: [FlowRecord] = []
        for var waiting in [legs, partners] {
            for endpoint in waiting.order[waiting.head...] {
                if let record = waiting.records.removeValue(forKey: endpoint) { remaining.append(record) }
            }
        }
        legs = Waiting()
        partners = Waiting()
        for record in remaining.sorted(by: { $0.firstSeenNanoseconds < $1.firstSeenNanoseconds }) {
            emit(record)
        }
    }
}
