/// `-m state [!] --state S,S`: the older spelling of `-m conntrack --ctstate`.
public struct StateMatch: Hashable, Sendable {
    public var states: [ConntrackMatch.State]
    public var negation: Negation

    public init(_ states: [ConntrackMatch.State], _ negation: Negation = .normal) {
        self.states = states
        self.negation = negation
    }

    public var arguments: [String] {
        ["-m", "state"] + negation.prefix + ["--state", states.map(\.rawValue).joined(separator: ",")]
    }
}
