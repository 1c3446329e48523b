/// `-m socket [--transparent] [--nowildcard]`: a local socket exists for the packet (TPROXY setups).
public struct SocketMatch: Hashable, Sendable {
    public var transparent: Bool
    public var noWildcard: Bool

    public init(transparent: Bool = false, noWildcard: Bool = false) {
        self.transparent = transparent
        self.noWildcard = noWildcard
    }

    public var arguments: [String] {
        ["-m", "socket"] + (transparent ? ["--transparent"] : []) + (noWildcard ? ["--nowildcard"] : [])
    }

    public static let validTables: Set<Table> = [.mangle]
}
