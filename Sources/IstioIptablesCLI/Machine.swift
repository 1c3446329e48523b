import Foundation
import PacketModel

#if canImport(Glibc)
    import Glibc
#endif

/// What upstream reads from the machine when a value is not given. Injected, so tests and
/// `--dry-run` with the emulator flags never depend on the host.
public protocol Machine: Sendable {
    /// The uid of a user name (`user.Lookup`), or nil when there is no such user.
    func userID(named name: String) -> String?
    /// Interface addresses in the kernel's order (`net.InterfaceAddrs`).
    func interfaceAddresses() throws -> [IPAddress]
    /// The text of `/etc/resolv.conf`.
    func resolvConf() throws -> String
}

/// The real host.
public struct LiveMachine: Machine {
    public init() {}

    public func userID(named name: String) -> String? {
        guard let entry = getpwnam(name) else { return nil }
        return String(entry.pointee.pw_uid)
    }

    public func interfaceAddresses() throws -> [IPAddress] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else {
            throw MachineError("cannot list interface addresses: \(String(cString: strerror(errno)))")
        }
        defer { freeifaddrs(head) }
        var addresses: [IPAddress] = []
        var cursor = head
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let socketAddress = entry.pointee.ifa_addr else { continue }
            switch Int32(socketAddress.pointee.sa_family) {
            case AF_INET:
                let value = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt32(bigEndian: $0.pointee.sin_addr.s_addr)
                }
                addresses.append(.v4(IPv4Address(value)))
            case AF_INET6:
                let bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
                let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                addresses.append(.v6(IPv6Address(high: high, low: low)))
            default:
                continue
            }
        }
        return addresses
    }

    public func resolvConf() throws -> String {
        do {
            return try String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)
        } catch {
            throw MachineError("open /etc/resolv.conf: no such file or directory")
        }
    }
}

public struct MachineError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
