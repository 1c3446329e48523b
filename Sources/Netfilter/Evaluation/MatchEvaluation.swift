import PacketModel

extension Match {
    /// Whether the match holds for a packet at a hook, as the kernel's match function decides.
    /// Names that only the pod can resolve (owner by user name) never match.
    public func holds(for packet: PacketHeader, in context: PacketContext) -> Bool {
        switch self {
        case .protocol(let match):
            return (packet.proto == match.proto) != match.negation.isInverted
        case .address(let match):
            return match.matches(match.side == .source ? packet.source : packet.destination)
        case .interface(let match):
            return match.matches(match.direction == .incoming ? context.inInterface : context.outInterface)
        case .port(let match):
            return match.matches(match.side == .destination ? packet.destinationPort : packet.sourcePort)
        case .multiport(let match):
            return match.matches(source: packet.sourcePort, destination: packet.destinationPort)
        case .owner(let match):
            let hit: Bool
            switch match.kind {
            case .uid: hit = context.socketUID.map { match.id.range?.contains($0) ?? false } ?? false
            case .gid: hit = context.socketGID.map { match.id.range?.contains($0) ?? false } ?? false
            case .socketExists: hit = context.socketUID != nil
            }
            // Without a socket (a RST, an ICMP error, a forwarded packet) `owner_mt` returns
            // `(match ^ invert) == 0`: a negated test holds, a plain one fails.
            if context.socketUID == nil { return match.negation.isInverted }
            return hit != match.negation.isInverted
        case .conntrack(let match):
            if !match.states.isEmpty
                && match.states.contains(context.conntrackState) == match.negation.isInverted
            {
                return false
            }
            if let (text, negation) = match.originalDestination {
                let network = CIDR.parse(
                    text.contains("/") ? text : text + (text.contains(":") ? "/128" : "/32"))
                let inside =
                    (try? network.get()).map { net in context.originalDestination.map(net.contains) ?? false }
                    ?? false
                if inside == negation.isInverted { return false }
            }
            if let (port, negation) = match.originalDestinationPort {
                let inside = context.originalDestinationPort.map(port.contains) ?? false
                if inside == negation.isInverted { return false }
            }
            if let direction = match.direction, direction != context.conntrackDirection { return false }
            return true
        case .state(let match):
            return match.states.contains(context.conntrackState) != match.negation.isInverted
        case .mark(let match):
            return match.matches(context.mark)
        case .connmark(let match):
            return match.matches(context.connectionMark)
        case .comment:
            return true
        case .statistic:
            // Load balancing is not deterministic; the simulator decides statistic rules itself.
            return true
        case .addrType(let match):
            func isLocal(_ address: IPAddress) -> Bool {
                context.localAddresses.contains(address) || address.isLoopback
            }
            if let (type, negation) = match.sourceType, type.split(separator: ",").contains("LOCAL") {
                if isLocal(packet.source) == negation.isInverted { return false }
            }
            if let (type, negation) = match.destinationType, type.split(separator: ",").contains("LOCAL") {
                if isLocal(packet.destination) == negation.isInverted { return false }
            }
            return true
        case .icmp(let match):
            guard let type = packet.icmpType else { return match.negation.isInverted }
            let hit =
                (match.type == 255 || match.type == type)
                && (match.code.map { $0 == packet.icmpCode } ?? true)
            return hit != match.negation.isInverted
        case .tcpFlags(let match):
            return (packet.tcpFlags.intersection(match.mask) == match.compare) != match.negation.isInverted
        case .ipRange(let match):
            for (range, address) in [(match.source, packet.source), (match.destination, packet.destination)] {
                guard let range else { continue }
                let inside = range.first <= address && address <= range.last
                if inside == range.negation.isInverted { return false }
            }
            return true
        case .pktType(let match):
            return (context.linkType == match.type) != match.negation.isInverted
        case .socket(let match):
            guard let socket = context.socket, socket.exists else { return false }
            return !match.transparent || socket.transparent
        case .moduleOnly:
            return true
        }
    }
}
