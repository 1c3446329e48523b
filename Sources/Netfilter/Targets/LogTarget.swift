/// `-j LOG [--log-prefix P] [--log-level L]`: log to the kernel ring buffer and continue.
public struct LogTarget: Hashable, Sendable {
    public var prefix: String?
    public var level: String?

    public init(prefix: String?, level: String?) {
        self.prefix = prefix
        self.level = level
    }

    public var arguments: [String] {
        (prefix.map { ["--log-prefix", $0] } ?? []) + (level.map { ["--log-level", $0] } ?? [])
    }
}
