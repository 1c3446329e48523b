import PacketModel

/// The socket lookups of the TCP and UDP stacks (`__inet_lookup`, `__udp4_lib_lookup`): a
/// connected socket for the exact 4-tuple first, then a bound one, a specific address before the
/// wildcard.
enum Sockets {
    static func established(_ host: Host, _ header: PacketHeader) -> Int? {
        host.sockets.firstIndex {
            !$0.closed && $0.proto == header.proto && $0.remote != nil
                && $0.localPort == header.destinationPort
                && ($0.local == nil || $0.local == header.destination) && $0.remote == header.source
                && $0.remotePort == header.sourcePort
        }
    }

    static func listener(_ host: Host, proto: IPProtocol, address: IPAddress, port: UInt16) -> Int? {
        let candidates = host.listeners.indices.filter {
            let listener = host.listeners[$0]
            return listener.proto == proto && (listener.port == port || listener.port == 0)
                && listener.accepts(address)
        }
        // A specific address beats the wildcard; a real port beats the trace's "every port".
        return candidates.max { a, b in
            let la = host.listeners[a]
            let lb = host.listeners[b]
            let sa = (la.bind != nil ? 2 : 0) + (la.port != 0 ? 1 : 0)
            let sb = (lb.bind != nil ? 2 : 0) + (lb.port != 0 ? 1 : 0)
            return sa < sb || (sa == sb && a > b)
        }
    }

    /// An unconnected UDP socket bound to the port (a client's, waiting for its answer).
    static func boundDatagram(_ host: Host, _ header: PacketHeader) -> Int? {
        host.sockets.firstIndex {
            !$0.closed && $0.proto == .udp && $0.remote == nil && $0.localPort == header.destinationPort
                && ($0.local == nil || $0.local == header.destination)
        }
    }

    static func lookup(_ host: Host, _ header: PacketHeader) -> SocketTarget? {
        if let socket = established(host, header) { return .socket(socket) }
        if header.proto == .udp, let socket = boundDatagram(host, header) { return .socket(socket) }
        return listener(host, proto: header.proto, address: header.destination, port: header.destinationPort)
            .map(SocketTarget.listener)
    }

    static func isTransparent(_ host: Host, _ target: SocketTarget) -> Bool {
        switch target {
        case .listener(let index): host.listeners[index].transparent
        case .socket(let index): host.sockets[index].transparent
        }
    }
}
