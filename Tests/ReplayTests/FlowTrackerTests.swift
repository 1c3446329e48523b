import Netfilter
import PacketCodec
import PacketModel
import Replay
import Testing

/// The flow table on its own: direction normalisation, timeouts, bounded memory, ICMP errors,
/// fragments, the simulation cache.
@Suite struct FlowTrackerTests {
    final class Collected: @unchecked Sendable {
        var flows: [FlowRecord] = []
    }

    /// A tracker without simulators (every flow not-simulated) or with a fake pod's rules.
    func tracker(
        _ collected: Collected, simulators: [Simulator] = [], timeouts: Timeouts = Timeouts(),
        capacity: Int = 1 << 16
    ) -> FlowTracker {
        FlowTracker(
            podAddresses: [pod], verdicts: SimulatorVerdicts(simulators: simulators), timeouts: timeouts,
            initialCapacity: capacity
        ) {
            collected.flows.append($0)
        }
    }

    func packet(
        _ source: IPAddress, _ sport: UInt16, _ destination: IPAddress, _ dport: UInt16,
        _ flags: TCPFlags = .ack
    ) -> DecodedPacket {
        PacketDecoder.decode(
            PacketEncoder.ip(
                source: source, destination: destination,
                transport: .tcp(sourcePort: sport, destinationPort: dport, flags: flags)),
            linkType: .raw)
    }

    /// The replay's fast path (``FlowTracker/addPipelined(_:linkType:timestamp:)``, one packet
    /// late, falling back to the full decoder) and the plain path give the same flows, in the
    /// same order, and the same counters: with expiry, table growth, ICMP errors and fragments
    /// in between the fast-path packets.
    @Test func thePipelinedFastPathCountsLikeThePlainPath() {
        var random = SeededGenerator(seed: 5)
        var timeouts = Timeouts()
        timeouts.tcpClosing = 1
        timeouts.udpUnreplied = 1
        var frames: [[UInt8]] = []
        for index in 0..<6_000 {
            let port = UInt16(20000 + Int.random(in: 0..<900, using: &random))
            let remotePort: UInt16 = [80, 443, 53, 15021][index % 4]
            let flags: TCPFlags = [.syn, .ack, [.syn, .ack], [.fin, .ack], .rst][
                Int.random(in: 0..<5, using: &random)]
            switch Int.random(in: 0..<10, using: &random) {
            case 0:
                let udp = PacketEncoder.ip(
                    source: pod, destination: remote, transport: .udp(sourcePort: port, destinationPort: 53))
                frames.append(udp)
                frames.append(
                    PacketEncoder.ip(
                        source: remote, destination: pod, transport: .icmp(type: 3, code: 3), payload: udp))
            case 1:
                frames.append(
                    PacketEncoder.ip(
                        source: pod, destination: remote,
                        transport: .udp(sourcePort: port, destinationPort: 53),
                        payload: [UInt8](repeating: 0, count: 24), identification: UInt16(index),
                        moreFragments: true))
                frames.append(
                    PacketEncoder.ip(
                        source: pod, destination: remote, transport: .raw(proto: .udp, bytes: [1, 2, 3, 4]),
                        identification: UInt16(index), fragmentOffset: 32))
            case 2...5:
                frames.append(
                    PacketEncoder.ip(
                        source: pod, destination: remote,
                        transport: .tcp(sourcePort: port, destinationPort: remotePort, flags: flags)))
            default:
                frames.append(
                    PacketEncoder.ip(
                        source: remote, destination: pod,
                        transport: .tcp(sourcePort: remotePort, destinationPort: port, flags: flags)))
            }
        }
        let plain = Collected()
        let pipelined = Collected()
        let plainTracker = tracker(plain, timeouts: timeouts, capacity: 16)
        let pipelinedTracker = tracker(pipelined, timeouts: timeouts, capacity: 16)
        var fast = 0
        for (index, frame) in frames.enumerated() {
            let timestamp = Int64(index) * 5_000_000
            plainTracker.add(PacketDecoder.decode(frame, linkType: .raw), timestamp: timestamp)
            let taken = frame.withUnsafeBytes {
                pipelinedTracker.addPipelined($0, linkType: .raw, timestamp: timestamp)
            }
            if taken {
                fast += 1
            } else {
                pipelinedTracker.add(PacketDecoder.decode(frame, linkType: .raw), timestamp: timestamp)
            }
        }
        plainTracker.finish()
        pipelinedTracker.finish()
        #expect(fast > frames.count / 2)
        #expect(plain.flows.count > 1_000)
        #expect(pipelined.flows.map { "\($0)" } == plain.flows.map { "\($0)" })
        #expect("\(pipelinedTracker.statistics)" == "\(plainTracker.statistics)")
        #expect(plainTracker.statistics.fragmentsJoined > 0 && plainTracker.statistics.icmpErrorsRelated > 0)
    }

    @Test func repliesJoinTheirFlowAndTheInitiatorIsTheSYNSender() {
        let collected = Collected()
        let flows = tracker(collected)
        // The capture starts with the SYN-ACK: the initiator is its destination.
        flows.add(packet(remote, 80, pod, 40001, [.syn, .ack]), timestamp: 1)
        flows.add(packet(pod, 40001, remote, 80), timestamp: 2)
        flows.add(packet(remote, 80, pod, 40001), timestamp: 3)
        flows.finish()
        #expect(collected.flows.count == 1)
        let flow = collected.flows[0]
        #expect(flow.source == pod)
        #expect(flow.sourcePort == 40001)
        #expect(flow.destination == remote)
        #expect(flow.direction == .outbound)
        #expect(flow.packets == 3)
        #expect(flow.replyPackets == 2)
        #expect(flow.firstTCPFlags == [.syn, .ack])
        #expect(flow.verdict.verdict == .notSimulated)
    }

    @Test func directionsFromThePodAddresses() {
        let collected = Collected()
        let flows = tracker(collected)
        flows.add(packet(peer, 50000, pod, 8080, .syn), timestamp: 1)
        flows.add(packet(pod, 40000, remote, 443, .syn), timestamp: 2)
        flows.add(packet(.v4(.loopback), 40001, pod, 8080, .syn), timestamp: 3)
        flows.add(packet(peer, 40002, remote, 443, .syn), timestamp: 4)
        flows.finish()
        #expect(collected.flows.map(\.direction) == [.inbound, .outbound, .loopback, .transit])
    }

    @Test func closedFlowsExpireAndMemoryFollowsTheLiveFlows() {
        let collected = Collected()
        var timeouts = Timeouts()
        timeouts.tcpClosing = 2
        let flows = tracker(collected, timeouts: timeouts, capacity: 1 << 10)
        let second: Int64 = 1_000_000_000
        // 10,000 short connections, one every 10 ms: ~200 are within the 2 s timeout at a time.
        // Expired flows are swept every `capacity` packets: the table stays small.
        for index in 0..<10_000 {
            let now = Int64(index) * second / 100
            let sport = UInt16(20000 + index % 40000)
            flows.add(packet(pod, sport, remote, 80, .syn), timestamp: now)
            flows.add(packet(remote, 80, pod, sport, [.syn, .ack]), timestamp: now + 1000)
            flows.add(packet(pod, sport, remote, 80, [.fin, .ack]), timestamp: now + 2000)
            flows.add(packet(remote, 80, pod, sport, [.fin, .ack]), timestamp: now + 3000)
        }
        #expect(collected.flows.count > 9000)  // emitted while reading, not at the end
        #expect(flows.statistics.peakLiveFlows < 1000)
        flows.finish()
        #expect(collected.flows.count == 10_000)
        #expect(collected.flows.allSatisfy { $0.packets == 4 })
    }

    @Test func aNewConnectionAfterExpiryIsANewFlow() {
        let collected = Collected()
        let flows = tracker(collected)
        let second: Int64 = 1_000_000_000
        flows.add(packet(pod, 40000, remote, 80, .rst), timestamp: 0)
        flows.add(packet(pod, 40000, remote, 80, .syn), timestamp: 30 * second)  // RST timeout is 10 s
        flows.add(packet(pod, 40000, remote, 80, .ack), timestamp: 31 * second)
        flows.finish()
        #expect(collected.flows.map(\.packets) == [1, 2])
    }

    @Test func icmpErrorsAreRelatedToTheirFlow() {
        let collected = Collected()
        let flows = tracker(collected)
        let udp = PacketEncoder.ip(
            source: pod, destination: remote, transport: .udp(sourcePort: 5000, destinationPort: 9999),
            payload: [1])
        flows.add(PacketDecoder.decode(udp, linkType: .raw), timestamp: 1)
        let error = PacketEncoder.ip(
            source: remote, destination: pod, transport: .icmp(type: 3, code: 3), payload: udp)
        flows.add(PacketDecoder.decode(error, linkType: .raw), timestamp: 2)
        flows.finish()
        #expect(collected.flows.count == 1)
        #expect(collected.flows[0].relatedPackets == 1)
        #expect(flows.statistics.icmpErrorsRelated == 1)
    }

    @Test func laterFragmentsJoinTheFirstFragmentsFlow() {
        let collected = Collected()
        let flows = tracker(collected)
        let first = PacketEncoder.ip(
            source: pod, destination: remote, transport: .udp(sourcePort: 5000, destinationPort: 53),
            payload: [UInt8](repeating: 0, count: 32), identification: 9, moreFragments: true)
        let later = PacketEncoder.ip(
            source: pod, destination: remote,
            transport: .raw(proto: .udp, bytes: [UInt8](repeating: 0, count: 16)),
            identification: 9, fragmentOffset: 40)
        flows.add(PacketDecoder.decode(first, linkType: .raw), timestamp: 1)
        flows.add(PacketDecoder.decode(later, linkType: .raw), timestamp: 2)
        flows.finish()
        #expect(collected.flows.count == 1)
        #expect(collected.flows[0].packets == 2)
        #expect(flows.statistics.fragmentsJoined == 1)
    }

    @Test func aLoneLaterFragmentIsNotSimulated() {
        let collected = Collected()
        let flows = tracker(collected)
        let later = PacketEncoder.ip(
            source: pod, destination: remote,
            transport: .raw(proto: .udp, bytes: [UInt8](repeating: 0, count: 16)),
            identification: 10, fragmentOffset: 40)
        flows.add(PacketDecoder.decode(later, linkType: .raw), timestamp: 1)
        flows.finish()
        #expect(collected.flows.first?.verdict.detail == "ports unknown (a later fragment or a cut header)")
    }

    @Test func nonIPAndTruncatedPacketsAreCounted() {
        let collected = Collected()
        let flows = tracker(collected)
        flows.add(PacketDecoder.decode([0x45, 0], linkType: .raw), timestamp: 1)
        let arp = [UInt8](repeating: 0xff, count: 12) + [0x08, 0x06] + [UInt8](repeating: 0, count: 28)
        flows.add(PacketDecoder.decode(arp, linkType: .ethernet), timestamp: 2)
        flows.finish()
        #expect(flows.statistics.packets == 2)
        #expect(flows.statistics.nonIP == 2)
        #expect(flows.statistics.truncated == 1)
        #expect(collected.flows.isEmpty)
    }

    @Test func oneSimulationPerClientAndService() throws {
        // A pod whose rules send everything from the app to 15001.
        let rules = StaticRules(nat: [
            .output: [
                Rule([.protocol(ProtocolMatch(.tcp))], .redirect(RedirectTarget(ports: PortSpec(15001))))
            ]
        ])
        let environment = PodEnvironment(
            podAddress: pod, peerAddress: peer, listeners: [Listener(port: 15001, uid: 1337)],
            peerListeners: [Listener(port: 0)])
        let collected = Collected()
        let flows = tracker(collected, simulators: [try Simulator(rules: rules, environment: environment)])
        for sport in UInt16(30000)..<30100 {
            flows.add(packet(pod, sport, remote, 80, .syn), timestamp: Int64(sport))
        }
        flows.finish()
        #expect(flows.verdicts.simulations == 1)
        #expect(collected.flows.count == 100)
        #expect(
            collected.flows.allSatisfy {
                $0.verdict.verdict == .envoyOutbound && $0.verdict.socketPort == 15001
            })
        #expect(collected.flows[0].originalDestination == "93.184.216.34:80")
    }

    @Test func clientsOfOneClassShareASimulation() throws {
        // Inbound: the rules test `-s 10.44.1.0/24`; clients inside and outside it.
        let rules = StaticRules(nat: [
            .prerouting: [
                Rule(
                    [
                        .protocol(ProtocolMatch(.tcp)),
                        .address(AddressMatch(.source, try CIDR.parse("10.44.1.0/24").get())),
                    ],
                    .redirect(RedirectTarget(ports: PortSpec(15006))))
            ]
        ])
        var environment = PodEnvironment(
            podAddress: pod, peerAddress: peer,
            listeners: [Listener(port: 15006, uid: 1337), Listener(port: 8080)])
        // The peer stands for every client (as replay's standard pod has it).
        environment.peerOwnsEverything = true
        let collected = Collected()
        let flows = tracker(collected, simulators: [try Simulator(rules: rules, environment: environment)])
        for host in UInt8(1)...50 {
            flows.add(
                packet(.v4(IPv4Address(10, 44, 1, host)), 50000, pod, 8080, .syn), timestamp: Int64(host))
            flows.add(
                packet(.v4(IPv4Address(10, 44, 2, host)), 50000, pod, 8080, .syn), timestamp: Int64(host))
        }
        flows.finish()
        #expect(collected.flows.count == 100)
        // peer (10.44.1.7) is its own class: three classes in all.
        #expect(flows.verdicts.simulations == 3)
        #expect(collected.flows.filter { $0.verdict.verdict == .envoyInbound }.count == 50)
        #expect(collected.flows.filter { $0.verdict.verdict == .direct }.count == 50)
    }

    @Test func sourcePortRulesMakeEachPortASimulation() throws {
        let rules = StaticRules(nat: [
            .output: [
                Rule(
                    [.protocol(ProtocolMatch(.tcp)), .port(PortMatch(.source, PortSpec("30000:30049")))],
                    .redirect(RedirectTarget(ports: PortSpec(15001))))
            ]
        ])
        var environment = PodEnvironment(
            podAddress: pod, peerAddress: peer, listeners: [Listener(port: 15001, uid: 1337)],
            peerListeners: [Listener(port: 0)])
        environment.peerOwnsEverything = true
        let collected = Collected()
        let flows = tracker(collected, simulators: [try Simulator(rules: rules, environment: environment)])
        for sport in UInt16(30000)..<30100 {
            flows.add(packet(pod, sport, remote, 80, .syn), timestamp: Int64(sport))
        }
        flows.finish()
        #expect(flows.verdicts.simulations == 100)
        #expect(collected.flows.filter { $0.verdict.verdict == .envoyOutbound }.count == 50)
        #expect(collected.flows.filter { $0.verdict.verdict == .direct }.count == 50)
    }
}

/// Rules by hand: nat chains only, ACCEPT policies.
struct StaticRules: RuleLookup {
    var nat: [ChainName: [Rule]]

    func rules(_ table: Table, _ chain: ChainName) -> [Rule]? {
        table == .nat ? nat[chain] ?? (table.builtinChains.contains(chain) ? [] : nil) : []
    }

    func policy(_ table: Table, _ chain: ChainName) -> Target? { nil }
}

let remote6 = IPAddress.v6(IPv6Address(high: 0x2606_2800_0220_0001, low: 1))

/// xorshift64*: deterministic random input, so a failure reproduces.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
