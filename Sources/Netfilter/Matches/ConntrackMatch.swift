/// `-m conntrack [!] --ctstate S,S`.
public struct ConntrackMatch: Hashable, Sendable {
    public enum State: String, Hashable, Sendable, CaseIterable {
        case invalid = "INVALID"
        case new = "NEW"
        case established = "ESTABLISHED"
        case related = "RELATED"
        case untracked = "UNTRACKED"
        case snat = "SNAT"
        case dnat = "DNAT"
    }

    public var states: [State]
    public var negation: Negation
    public var module: ModuleSpelling

    public init(_ states: [State], _ negation: Negation = .normal, module: ModuleSpelling = .explicit) {
        self.states = states
        self.negation = negation
        self.module = module
    }

    public var arguments: [String] {
        module.prefix("conntrack") + negation.prefix + [
            "--ctstate", states.map(\.rawValue).joined(separator: ","),
        ]
    }
}
