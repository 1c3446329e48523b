import PacketModel

/// `-m multiport [!] --dports|--sports|--ports P,P:Q,…` (at most 15 ports, a range counts two).
public struct MultiportMatch: Hashable, Sendable {
    public enum Side: String, Hashable, Sendable {
        case destination = "--dports"
        case source = "--sports"
        case either = "--ports"
    }

    public var side: Side
    public var ports: [PortSpec]
    public var negation: Negation
    public var module: ModuleSpelling

    public init(
        _ side: Side, _ ports: [PortSpec], _ negation: Negation = .normal, module: ModuleSpelling = .explicit
    ) {
        self.side = side
        self.ports = ports
        self.negation = negation
        self.module = module
    }

    public var arguments: [String] {
        module.prefix("multiport") + negation.prefix + [
            side.rawValue, ports.map(\.text).joined(separator: ","),
        ]
    }

    public func matches(source: UInt16, destination: UInt16) -> Bool {
        let hit: Bool
        switch side {
        case .destination: hit = ports.contains { $0.contains(destination) }
        case .source: hit = ports.contains { $0.contains(source) }
        case .either: hit = ports.contains { $0.contains(source) || $0.contains(destination) }
        }
        return hit != negation.isInverted
    }
}
