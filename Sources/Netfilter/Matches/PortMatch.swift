import PacketModel

/// `[!] --dport P` / `[!] --sport P` of the `tcp`/`udp` match that `-p tcp|udp` loads.
public struct PortMatch: Hashable, Sendable {
    public enum Side: Hashable, Sendable {
        case source
        case destination
    }

    public var side: Side
    public var port: PortSpec
    public var negation: Negation
    /// The module is the rule's protocol (`tcp`, `udp`); written as `-m tcp` only when explicit.
    public var module: ModuleSpelling
    public var moduleName: String

    public init(
        _ side: Side, _ port: PortSpec, _ negation: Negation = .normal, module: ModuleSpelling = .implicit,
        moduleName: String = "tcp"
    ) {
        self.side = side
        self.port = port
        self.negation = negation
        self.module = module
        self.moduleName = moduleName
    }

    public var arguments: [String] {
        module.prefix(moduleName) + negation.prefix + [
            side == .destination ? "--dport" : "--sport", port.text,
        ]
    }

    public func matches(_ value: UInt16) -> Bool { port.contains(value) != negation.isInverted }
}
