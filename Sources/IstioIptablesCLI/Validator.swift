#if canImport(Glibc)
    import Glibc
#endif

/// `--run-validation`: after the rules are in place, prove that they redirect. Listens where
/// Envoy would (127.0.0.1 on the outbound and inbound capture ports), dials 127.0.0.6 on the
/// probe port every second, and passes when a redirected connection arrives whose original
/// destination (SO_ORIGINAL_DST) is the probe port. Upstream's `validation.Validator`.
struct Validator {
    var listenPorts: [UInt16]
    var probePort: UInt16
    var timeoutSeconds: Double
    var ipv6: Bool

    struct Failure: Error {
        let message: String
    }

    /// Returns the log lines (info, or error when prefixed) and the outcome.
    func run(log: (String, Bool) -> Void) -> Result<Void, Failure> {
        log(
            "Starting iptables validation. This check verifies that iptables rules are properly established for the network.",
            false)
        let listenHost = ipv6 ? "::1" : "127.0.0.1"
        var listeners: [Int32] = []
        defer { listeners.forEach { _ = close($0) } }
        for port in listenPorts {
            let display = ipv6 ? "[\(listenHost)]:\(port)" : "\(listenHost):\(port)"
            log("Listening on \(display)", false)
            switch Socket.listen(host: listenHost, port: port, ipv6: ipv6) {
            case .success(let descriptor): listeners.append(descriptor)
            case .failure(let error): log("Error on listening: listen tcp \(display): \(error)", true)
            }
        }
        guard !listeners.isEmpty else {
            let addresses = listenPorts.map { ipv6 ? "[\(listenHost)]:\($0)" : "\(listenHost):\($0)" }
            let message = "no listener available: " + addresses.joined(separator: ",")
            log("Validation failed: \(message)", true)
            return .failure(Failure(message: message))
        }
        let deadline = Socket.now() + timeoutSeconds
        var nextDial = Socket.now()
        while Socket.now() < deadline {
            if Socket.now() >= nextDial {
                let target = ipv6 ? "[::6]:\(probePort)" : "127.0.0.6:\(probePort)"
                if let error = Socket.dial(
                    from: listenHost, to: ipv6 ? "::6" : "127.0.0.6", port: probePort, ipv6: ipv6)
                {
                    log("Error connecting to \(target): dial tcp \(target): \(error)", true)
                }
                nextDial += 1
            }
            let wait = max(0, min(deadline, nextDial) - Socket.now())
            var fds = listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), Int32(wait * 1000))
            for entry in fds where entry.revents & Int16(POLLIN) != 0 {
                let connection = accept(entry.fd, nil, nil)
                guard connection >= 0 else { continue }
                let original = Socket.originalDestinationPort(connection, ipv6: ipv6)
                if let original {
                    let reply = Array(String(original).utf8)
                    _ = reply.withUnsafeBytes {
                        send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                    }
                } else {
                    log("Error getting original dst: \(String(cString: strerror(errno)))", true)
                }
                close(connection)
                if original == probePort {
                    log("Validation passed, iptables rules established", false)
                    return .success(())
                }
            }
        }
        return .failure(Failure(message: "validation timeout"))
    }

    /// The message upstream logs for any validation failure (exit status 126).
    static let failureMessage = """
        iptables validation failed; workload is not ready for Istio.
        When using Istio CNI, this can occur if a pod is scheduled before the node is ready.

        If installed with 'cni.repair.deletePods=true', this pod should automatically be deleted and retry.
        Otherwise, this pod will need to be manually removed so that it is scheduled on a node with istio-cni running, allowing iptables rules to be established.

        """
}

/// The few socket calls the validator needs.
enum Socket {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func address(_ host: String, _ port: UInt16, ipv6: Bool) -> sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            if ipv6 {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = port.bigEndian
                _ = inet_pton(AF_INET6, host, &address.sin6_addr)
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                _ = inet_pton(AF_INET, host, &address.sin_addr)
                withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
            }
        }
        return storage
    }

    static func length(ipv6: Bool) -> socklen_t {
        socklen_t(ipv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
    }

    static func errorText() -> String { String(cString: strerror(errno)).lowercased() }

    static func listen(host: String, port: UInt16, ipv6: Bool) -> Result<Int32, SocketError> {
        let descriptor = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return .failure(SocketError(errorText())) }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var storage = address(host, port, ipv6: ipv6)
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length(ipv6: ipv6)) }
        }
        guard bound == 0, Glibc.listen(descriptor, 16) == 0 else {
            let error = SocketError("bind: " + errorText())
            close(descriptor)
            return .failure(error)
        }
        return .success(descriptor)
    }

    /// Connects from host:0 to target:port and closes; nil on success.
    static func dial(from host: String, to target: String, port: UInt16, ipv6: Bool) -> String? {
        let descriptor = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return errorText() }
        defer { close(descriptor) }
        var local = address(host, 0, ipv6: ipv6)
        _ = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length(ipv6: ipv6)) }
        }
        var remote = address(target, port, ipv6: ipv6)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, length(ipv6: ipv6))
            }
        }
        return connected == 0 ? nil : "connect: " + errorText()
    }

    /// SO_ORIGINAL_DST (IPv4) / IP6T_SO_ORIGINAL_DST (IPv6), both option 80.
    static func originalDestinationPort(_ descriptor: Int32, ipv6: Bool) -> UInt16? {
        var storage = sockaddr_storage()
        var size = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let level = ipv6 ? Int32(IPPROTO_IPV6) : Int32(SOL_IP)
        guard getsockopt(descriptor, level, 80, &storage, &size) == 0 else { return nil }
        return withUnsafeBytes(of: storage) { raw in
            UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        }
    }
}

struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
