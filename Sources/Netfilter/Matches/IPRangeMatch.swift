import PacketModel

/// `-m iprange [!] --src-range A-B [!] --dst-range A-B`.
public struct IPRangeMatch: Hashable, Sendable {
    public struct Range: Hashable, Sendable {
        public var first: IPAddress
        public var last: IPAddress
        public var negation: Negation

        public init(first: IPAddress, last: IPAddress, negation: Negation) {
            self.first = first
            self.last = last
            self.negation = negation
        }
    }

    public var source: Range?
    public var destination: Range?

    public init(source: Range?, destination: Range?) {
        self.source = source
        self.destination = destination
    }

    public var arguments: [String] {
        var words = ["-m", "iprange"]
        if let source { words += source.negation.prefix + ["--src-range", "\(source.first)-\(source.last)"] }
        if let destination {
            words +=
                destination.negation.prefix + ["--dst-range", "\(destination.first)-\(destination.last)"]
        }
        return words
    }
}
