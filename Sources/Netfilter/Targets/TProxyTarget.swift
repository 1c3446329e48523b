import PacketModel

/// `-j TPROXY --tproxy-mark V/M --on-port P [--on-ip A]`: deliver to a local IP_TRANSPARENT
/// socket without rewriting the packet; mangle PREROUTING only.
public struct TProxyTarget: Hashable, Sendable {
    public var mark: MarkValue
    public var onPort: PortSpec
    public var onIP: IPAddress?

    public init(mark: MarkValue, onPort: PortSpec, onIP: IPAddress? = nil) {
        self.mark = mark
        self.onPort = onPort
        self.onIP = onIP
    }

    public var arguments: [String] {
        ["--tproxy-mark", mark.text, "--on-port", onPort.text]
            + (onIP.map { ["--on-ip", $0.description] } ?? [])
    }

    public static let validHooks: Set<ChainName> = [.prerouting]
}
