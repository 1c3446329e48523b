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

    public init(_ side: Side, _ port: PortSpec, _ negation: Negation = .normal) {
        self.side = side
        self.port = port
        self.negation = negation
    }

    public var arguments: [String] {
        negation.prefix + [side == .destination ? "--dport" : "--sport", port.text]
    }

    public func matches(_ value: UInt16) -> Bool { port.contains(value) != negation.isInverted }
}
