import IptablesSave
import Netfilter
import PacketModel
import Testing

private func address(_ text: String) -> IPAddress { try! IPAddress.parse(text).get() }

private func tcp(
    _ source: String, _ sport: UInt16, _ destination: String, _ dport: UInt16, _ flags: Set<String>
)
    -> PacketHeader
{
    PacketHeader(
        proto: .tcp, source: address(source), sourcePort: sport, destination: address(destination),
        destinationPort: dport, tcpFlags: flags)
}

@Suite struct ConntrackTests {
    @Test func redirectBindingIsAppliedAndReversedForReplies() throws {
        var table = Conntrack()
        var syn = tcp("10.44.0.2", 40000, "93.184.216.34", 80, ["SYN"])
        let first = table.classify(syn, zone: 0, icmpOriginal: nil)
        #expect(first.state == .new && first.direction == .original)
        let id = try #require(first.entry)
        // REDIRECT in OUTPUT: replies will come from 127.0.0.1:15001.
        var reply = table[id]!.reply
        reply.source = address("127.0.0.1")
        reply.sourcePort = 15001
        table.bind(id, reply: reply, .destination)
        let confirmedid = table.confirm(id)
        #expect(confirmedid)
        table[id]!.translate(&syn, .destination, .original)
        #expect(syn.destination == address("127.0.0.1") && syn.destinationPort == 15001)

        // Envoy's SYN-ACK belongs to the connection in the reply direction; un-NAT happens at the
        // source-manipulating hooks (POSTROUTING / INPUT), not at the destination ones.
        var synAck = tcp("127.0.0.1", 15001, "10.44.0.2", 40000, ["SYN", "ACK"])
        let back = table.classify(synAck, zone: 0, icmpOriginal: nil)
        #expect(back.entry == id && back.direction == .reply && back.state == .established)
        table[id]!.translate(&synAck, .destination, .reply)
        #expect(synAck.source == address("127.0.0.1"))
        table[id]!.translate(&synAck, .source, .reply)
        #expect(synAck.source == address("93.184.216.34") && synAck.sourcePort == 80)

        // The client's next packet is ESTABLISHED now that a reply was seen.
        let ack = table.classify(
            tcp("10.44.0.2", 40000, "93.184.216.34", 80, ["ACK"]), zone: 0, icmpOriginal: nil)
        #expect(ack.entry == id && ack.state == .established)
    }

    @Test func icmpErrorsAreRelatedToTheQuotedConnection() throws {
        var table = Conntrack()
        let query = PacketHeader(
            proto: .udp, source: address("10.44.0.2"), sourcePort: 40000, destination: address("10.1.2.3"),
            destinationPort: 9999)
        let id = try #require(table.classify(query, zone: 0, icmpOriginal: nil).entry)
        let confirmedid = table.confirm(id)
        #expect(confirmedid)
        let error = PacketHeader(
            proto: .icmp, source: address("10.1.2.3"), destination: address("10.44.0.2"), icmpType: 3,
            icmpCode: 3)
        let related = table.classify(error, zone: 0, icmpOriginal: ConnectionTuple(query))
        #expect(related.state == .related && related.entry == id && related.direction == .reply)
        // Quoting a packet conntrack never saw: INVALID.
        var unknown = ConnectionTuple(query)
        unknown.sourcePort = 1
        #expect(table.classify(error, zone: 0, icmpOriginal: unknown).state == .invalid)
    }

    @Test func tcpSegmentsThatCannotStartAConnectionAreInvalid() {
        var table = Conntrack()
        for flags: Set<String> in [["SYN", "ACK"], ["FIN"], ["FIN", "ACK"], ["RST"], ["RST", "ACK"], []] {
            let verdict = table.classify(
                tcp("10.44.0.1", 5000, "10.44.0.2", 8080, flags), zone: 0, icmpOriginal: nil)
            #expect(verdict.state == .invalid && verdict.entry == nil, "\(flags)")
        }
        // nf_conntrack_tcp_loose: a bare ACK picks the connection up.
        let pickedUp = table.classify(
            tcp("10.44.0.1", 5000, "10.44.0.2", 8080, ["ACK"]), zone: 0, icmpOriginal: nil)
        #expect(pickedUp.state == .new)
    }

    @Test func zonesKeepConnectionsApart() throws {
        var table = Conntrack()
        let query = PacketHeader(
            proto: .udp, source: address("10.44.0.2"), sourcePort: 40000, destination: address("10.96.0.10"),
            destinationPort: 53)
        let id = try #require(table.classify(query, zone: 2, icmpOriginal: nil).entry)
        let confirmedid = table.confirm(id)
        #expect(confirmedid)
        let answer = ConnectionTuple(query).reversed
        #expect(table.find(answer, zone: 2)?.id == id)
        #expect(table.find(answer, zone: 0) == nil)
        // The same tuple in zone 0 is a new connection, and confirming it does not clash.
        let other = try #require(table.classify(query, zone: 0, icmpOriginal: nil).entry)
        let confirmedOther = table.confirm(other)
        #expect(other != id && confirmedOther)
        // The same tuple twice in one zone clashes: the second packet is dropped.
        let a = try #require(table.classify(query, zone: 7, icmpOriginal: nil).entry)
        let b = try #require(table.classify(query, zone: 7, icmpOriginal: nil).entry)
        let confirmeda = table.confirm(a)
        #expect(confirmeda)
        let clashed = !table.confirm(b)
        #expect(clashed)
    }
}

@Suite struct RoutingTests {
    func host() throws -> Host {
        var host = Host(name: "pod")
        host.interfaces.append(NetworkInterface(name: "eth0"))
        host.addAddress(CIDR(address: address("10.44.0.2"), prefixLength: 24), to: "eth0")
        for command in [
            "route add default via 10.44.0.1", "-4 rule add fwmark 1337 lookup 133",
            "route add local default dev lo table 133", "route add 10.99.0.0/16 via 10.44.0.9",
        ] {
            try IPCommand.parse(command).apply(to: &host)
        }
        return host
    }

    @Test func fwmarkRulesMakeAnyDestinationLocal() throws {
        let host = try host()
        let remote = address("10.44.0.1")
        #expect(host.routing.decide(remote, mark: 1337, isLocal: host.isLocal) == .local(table: "133"))
        #expect(
            host.routing.decide(remote, mark: 0, isLocal: host.isLocal)
                == .forward(device: "eth0", nextHop: remote, source: address("10.44.0.2"), table: "main"))
        // The mark must match under the rule's mask.
        #expect(host.routing.decide(remote, mark: 1338, isLocal: host.isLocal) != .local(table: "133"))
        // The local table comes first whatever the mark.
        #expect(
            host.routing.decide(address("10.44.0.2"), mark: 0, isLocal: host.isLocal)
                == .local(table: "local"))
    }

    @Test func longestPrefixWinsAndGatewaysAreNextHops() throws {
        let host = try host()
        #expect(
            host.routing.decide(address("10.99.1.1"), mark: 0, isLocal: host.isLocal)
                == .forward(device: "eth0", nextHop: address("10.44.0.9"), source: nil, table: "main"))
        #expect(
            host.routing.decide(address("8.8.8.8"), mark: 0, isLocal: host.isLocal)
                == .forward(device: "eth0", nextHop: address("10.44.0.1"), source: nil, table: "main"))
        #expect(
            host.sourceAddress(
                for: address("8.8.8.8"),
                host.routing.decide(address("8.8.8.8"), mark: 0, isLocal: host.isLocal))
                == address("10.44.0.2"))
        #expect(host.sourceAddress(for: address("127.0.0.5"), .local(table: "local")) == address("127.0.0.1"))
    }

    @Test func aNewerIPv6AddressIsListedFirst() {
        var interface = NetworkInterface(name: "eth0")
        interface.add(CIDR(address: address("fd00::2"), prefixLength: 64))
        interface.add(CIDR(address: address("10.44.0.2"), prefixLength: 24))
        interface.add(CIDR(address: address("10.44.0.3"), prefixLength: 24))
        interface.add(CIDR(address: address("fd00::3"), prefixLength: 64))
        #expect(interface.primaryAddress(.ipv6) == address("fd00::3"))
        #expect(interface.primaryAddress(.ipv4) == address("10.44.0.2"))
    }

    @Test func unsupportedIPCommandsAreRefused() {
        for text in [
            "link set eth0 up", "route del default", "rule add from 10.0.0.1 lookup 5", "route add default",
            "addr add 10.0.0.1/33 dev eth0",
        ] {
            #expect(throws: IPCommand.Failure.self, "\(text)") { try IPCommand.parse(text) }
        }
    }
}

@Suite struct OwnerMatchTests {
    let uid = Match.owner(OwnerMatch(.uid, OwnerID("1337")))
    let notUID = Match.owner(OwnerMatch(.uid, OwnerID("1337"), .inverted))
    let gidRange = Match.owner(OwnerMatch(.gid, OwnerID("1400-2000")))
    let packet = tcp("10.44.0.2", 40000, "10.1.2.3", 80, ["SYN"])

    @Test func theSocketCreatorIsMatched() {
        let proxy = PacketContext(hook: .output, socketUID: 1337, socketGID: 1337)
        let app = PacketContext(hook: .output, socketUID: 1000, socketGID: 1500)
        #expect(uid.holds(for: packet, in: proxy) && !notUID.holds(for: packet, in: proxy))
        #expect(!uid.holds(for: packet, in: app) && notUID.holds(for: packet, in: app))
        #expect(gidRange.holds(for: packet, in: app) && !gidRange.holds(for: packet, in: proxy))
    }

    @Test func withoutASocketOnlyNegatedTestsHold() {
        // A RST or ICMP error the kernel sends: owner_mt returns (match ^ invert) == 0.
        let kernel = PacketContext(hook: .output)
        #expect(!uid.holds(for: packet, in: kernel))
        #expect(notUID.holds(for: packet, in: kernel))
        #expect(!Match.owner(OwnerMatch(.socketExists, OwnerID(""))).holds(for: packet, in: kernel))
        #expect(Match.owner(OwnerMatch(.socketExists, OwnerID(""), .inverted)).holds(for: packet, in: kernel))
    }
}

@Suite struct ExchangeTests {
    /// A pod with DNS capture rules: the app's query is REDIRECTed to the agent in zone 2.
    func simulator(agentUID: UInt32) throws -> Simulator {
        let text = """
            *raw
            :PREROUTING ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            -A OUTPUT -p udp --dport 53 -m owner --uid-owner 1337 -j CT --zone 1
            -A OUTPUT -p udp --sport 15053 -m owner --uid-owner 1337 -j CT --zone 2
            -A OUTPUT -p udp --dport 53 -d 10.96.0.10/32 -j CT --zone 2
            -A PREROUTING -p udp --sport 53 -s 10.96.0.10/32 -j CT --zone 1
            COMMIT
            *nat
            :PREROUTING ACCEPT [0:0]
            :INPUT ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            -A OUTPUT -m owner --uid-owner 1337 -j RETURN
            -A OUTPUT -p udp --dport 53 -d 10.96.0.10/32 -j REDIRECT --to-ports 15053
            COMMIT

            """
        let rules = try RuleTables(try RestoreParser.parse(text).get())
        var environment = PodEnvironment(
            podAddress: address("10.44.0.2"), peerAddress: address("10.44.0.1"),
            peerExtraAddresses: [address("10.96.0.10")],
            listeners: [Listener(port: 15053, proto: .udp, uid: agentUID, bind: address("127.0.0.1"))],
            peerListeners: [Listener(port: 53, proto: .udp, bind: address("10.96.0.10"))])
        environment.peerOwnsEverything = false
        return Simulator(network: try environment.network(rules: [.ipv4: rules]))
    }

    func query(_ uid: UInt32) -> Flow {
        Flow(
            id: "q", direction: .outbound, proto: .udp, destination: address("10.96.0.10"),
            destinationPort: 53, uid: uid)
    }

    @Test func theAgentsAnswerIsUnNATedInItsZone() throws {
        let result = try simulator(agentUID: 1337).run(query(1000))
        guard case .accepted(let namespace, let port, _, let local, let original, _) = result.outcome else {
            Issue.record("not accepted: \(result.outcome)")
            return
        }
        #expect(
            namespace == "pod" && port == 15053 && local == "127.0.0.1:15053" && original == "10.96.0.10:53")
        #expect(result.replyFrom == "10.96.0.10:53")
    }

    @Test func anAgentMissingTheZoneRuleAnswersFromItsOwnAddress() throws {
        let result = try simulator(agentUID: 0).run(query(1000))
        #expect(result.replyFrom == "127.0.0.1:15053")
        // Its answer walked nat as a new connection of zone 0.
        #expect(result.visits.contains { $0.packet == "answer" && $0.table == .nat })
    }

    @Test func theAgentsOwnQueryLeavesAndItsAnswerComesBackInZone1() throws {
        let result = try simulator(agentUID: 1337).run(query(1337))
        guard case .accepted(let namespace, _, _, let local, _, _) = result.outcome else {
            Issue.record("not accepted: \(result.outcome)")
            return
        }
        #expect(namespace == "peer" && local == "10.96.0.10:53")
        #expect(result.replyFrom == "10.96.0.10:53")
        #expect(!result.visits.contains { $0.packet == "answer" && $0.table == .nat })
    }

    @Test func aConnectionToAClosedPortIsRefusedByTheRST() throws {
        let simulator = try simulator(agentUID: 1337)
        let result = simulator.run(
            Flow(
                id: "c", direction: .outbound, proto: .tcp, destination: address("10.44.0.2"),
                destinationPort: 7777))
        #expect(result.outcome == .error("refused"))
        #expect(result.packets.contains { $0.hasPrefix("RST") })
    }
}
