/// `-m mark [!] --mark VALUE[/MASK]`: the packet's fwmark.
public struct MarkMatch: Hashable, Sendable {
    public var mark: MarkValue
    public var negation: Negation
    public var module: ModuleSpelling

    public init(_ mark: MarkValue, _ negation: Negation = .normal, module: ModuleSpelling = .explicit) {
        self.mark = mark
        self.negation = negation
        self.module = module
    }

    public var arguments: [String] { module.prefix("mark") + negation.prefix + ["--mark", mark.text] }

    public func matches(_ packetMark: UInt32) -> Bool {
        guard let value = mark.value else { return negation.isInverted }
        let mask = mark.mask ?? .max
        return (packetMark & mask == value) != negation.isInverted
    }
}
