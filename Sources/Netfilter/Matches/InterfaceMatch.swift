/// `[!] -i NAME` (incoming) or `[!] -o NAME` (outgoing); a trailing `+` matches any suffix.
public struct InterfaceMatch: Hashable, Sendable {
    public enum Direction: Hashable, Sendable {
        case incoming
        case outgoing
    }

    public var direction: Direction
    public var name: String
    public var negation: Negation

    public init(_ direction: Direction, _ name: String, _ negation: Negation = .normal) {
        self.direction = direction
        self.name = name
        self.negation = negation
    }

    public var arguments: [String] {
        negation.prefix + [direction == .incoming ? "-i" : "-o", name]
    }

    public func matches(_ interface: String?) -> Bool {
        guard let interface else { return negation.isInverted }
        let hit: Bool
        if name.hasSuffix("+") {
            hit = interface.hasPrefix(name.dropLast())
        } else {
            hit = interface == name
        }
        return hit != negation.isInverted
    }

    /// `-i` has no meaning where packets are locally generated, `-o` where none is chosen yet.
    public func isValid(atHook hook: ChainName) -> Bool {
        switch direction {
        case .incoming: [.prerouting, .input, .forward].contains(hook)
        case .outgoing: [.output, .forward, .postrouting].contains(hook)
        }
    }
}
