/// `-m connmark [!] --mark VALUE[/MASK]`: the connection's mark in conntrack.
public struct ConnmarkMatch: Hashable, Sendable {
    public var mark: MarkValue
    public var negation: Negation

    public init(_ mark: MarkValue, _ negation: Negation = .normal) {
        self.mark = mark
        self.negation = negation
    }

    public var arguments: [String] { ["-m", "connmark"] + negation.prefix + ["--mark", mark.text] }

    public func matches(_ connectionMark: UInt32) -> Bool {
        guard let value = mark.value else { return negation.isInverted }
        let mask = mark.mask ?? .max
        return (connectionMark & mask == value) != negation.isInverted
    }
}
