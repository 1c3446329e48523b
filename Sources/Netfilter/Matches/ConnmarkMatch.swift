/// `-m connmark [!] --mark VALUE[/MASK]`: the connection's mark in conntrack.
public struct ConnmarkMatch: Hashable, Sendable {
    public var mark: MarkValue
    public var negation: Negation
    public var module: ModuleSpelling

    public init(_ mark: MarkValue, _ negation: Negation = .normal, module: ModuleSpelling = .explicit) {
        self.mark = mark
        self.negation = negation
        self.module = module
    }

    public var arguments: [String] { module.prefix("connmark") + negation.prefix + ["--mark", mark.text] }

    public func matches(_ connectionMark: UInt32) -> Bool {
        guard let value = mark.value else { return negation.isInverted }
        let mask = mark.mask ?? .max
        return (connectionMark & mask == value) != negation.isInverted
    }
}
