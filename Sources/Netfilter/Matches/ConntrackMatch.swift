import PacketModel

/// `-m conntrack [!] --ctstate S,S [!] --ctorigdst A [!] --ctorigdstport P --ctdir D`.
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

    public enum Direction: String, Hashable, Sendable {
        case original = "ORIGINAL"
        case reply = "REPLY"
    }

    /// Empty when `--ctstate` was not given.
    public var states: [State]
    public var negation: Negation
    public var module: ModuleSpelling
    /// `--ctorigdst A[/L]` as written.
    public var originalDestination: (text: String, negation: Negation)?
    public var originalDestinationPort: (port: PortSpec, negation: Negation)?
    public var direction: Direction?

    public init(_ states: [State], _ negation: Negation = .normal, module: ModuleSpelling = .explicit) {
        self.states = states
        self.negation = negation
        self.module = module
    }

    public var arguments: [String] {
        var words = module.prefix("conntrack")
        if !states.isEmpty {
            words += negation.prefix + ["--ctstate", states.map(\.rawValue).joined(separator: ",")]
        }
        if let (text, negation) = originalDestination { words += negation.prefix + ["--ctorigdst", text] }
        if let (port, negation) = originalDestinationPort {
            words += negation.prefix + ["--ctorigdstport", port.text]
        }
        if let direction { words += ["--ctdir", direction.rawValue] }
        return words
    }

    public static func == (lhs: ConntrackMatch, rhs: ConntrackMatch) -> Bool {
        lhs.arguments == rhs.arguments
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(arguments) }
}
