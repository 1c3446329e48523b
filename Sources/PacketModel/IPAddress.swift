/// The two address families netfilter keeps apart (`iptables` and `ip6tables`).
public enum IPFamily: String, Hashable, Sendable, CaseIterable {
    case ipv4
    case ipv6

    public var addressBits: Int { self == .ipv4 ? 32 : 128 }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public var family: IPFamily {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }

    public var isLoopback: Bool {
        switch self {
        case .v4(let address): address.isLoopback
        case .v6(let address): address.isLoopback
        }
    }

    /// Go `netip.ParseAddr`: the first `.` or `:` decides the family; zones are not allowed here.
    public static func parse(_ text: String) -> Result<IPAddress, AddressParseError> {
        switch parseAllowingZone(text) {
        case .failure(let error): return .failure(error)
        case .success((let address, nil)): return .success(address)
        case .success((_, .some)):
            return .failure(.init(input: text, message: "IPv6 zone not allowed"))
        }
    }

    public static func parseAllowingZone(_ text: String) -> Result<(IPAddress, String?), AddressParseError> {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "."): return IPv4Address.parse(text).map { (.v4($0), nil) }
            case UInt8(ascii: ":"): return IPv6Address.parseWithZone(text).map { (.v6($0.0), $0.1) }
            case UInt8(ascii: "%"): return .failure(.init(input: text, message: "missing IPv6 address"))
            default: continue
            }
        }
        return .failure(.init(input: text, message: "unable to parse IP"))
    }

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}
