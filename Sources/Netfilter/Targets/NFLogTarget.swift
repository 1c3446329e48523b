/// `-j NFLOG --nflog-prefix P --nflog-group G --nflog-size S`: copy the packet to a netlink
/// logger and continue with the next rule.
public struct NFLogTarget: Hashable, Sendable {
    public var prefix: String
    /// Istio before 1.24 wrote the prefix Go-quoted (`"InboundCapture"`) into its commands.
    public var quotePrefix: Bool
    public var group: UInt16
    public var size: UInt32

    public init(prefix: String, quotePrefix: Bool, group: UInt16, size: UInt32) {
        self.prefix = prefix
        self.quotePrefix = quotePrefix
        self.group = group
        self.size = size
    }

    public var arguments: [String] {
        [
            "--nflog-prefix", quotePrefix ? "\"\(prefix)\"" : prefix, "--nflog-group", String(group),
            "--nflog-size", String(size),
        ]
    }
}
