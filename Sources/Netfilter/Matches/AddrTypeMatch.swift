/// `-m addrtype [!] --src-type T [!] --dst-type T [--limit-iface-in|--limit-iface-out]`.
public struct AddrTypeMatch: Hashable, Sendable {
    public var sourceType: (String, Negation)?
    public var destinationType: (String, Negation)?
    public var limitInterfaceIn = false
    public var limitInterfaceOut = false

    public init(
        sourceType: (String, Negation)? = nil, destinationType: (String, Negation)? = nil,
        limitInterfaceIn: Bool = false,
        limitInterfaceOut: Bool = false
    ) {
        self.sourceType = sourceType
        self.destinationType = destinationType
        self.limitInterfaceIn = limitInterfaceIn
        self.limitInterfaceOut = limitInterfaceOut
    }

    public var arguments: [String] {
        var words = ["-m", "addrtype"]
        if let (type, negation) = sourceType { words += negation.prefix + ["--src-type", type] }
        if let (type, negation) = destinationType { words += negation.prefix + ["--dst-type", type] }
        if limitInterfaceIn { words.append("--limit-iface-in") }
        if limitInterfaceOut { words.append("--limit-iface-out") }
        return words
    }

    public static func == (lhs: AddrTypeMatch, rhs: AddrTypeMatch) -> Bool { lhs.arguments == rhs.arguments }
    public func hash(into hasher: inout Hasher) { hasher.combine(arguments) }
}
