/// `[!] --tcp-flags MASK COMP` or `--syn` (= `--tcp-flags FIN,SYN,RST,ACK SYN`) of the tcp match.
public struct TCPFlagsMatch: Hashable, Sendable {
    public static let order = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]

    public var mask: Set<String>
    public var compare: Set<String>
    public var negation: Negation
    /// Written `--syn`.
    public var writtenAsSyn: Bool
    public var module: ModuleSpelling

    public init(
        mask: Set<String>, compare: Set<String>, negation: Negation, writtenAsSyn: Bool,
        module: ModuleSpelling
    ) {
        self.mask = mask
        self.compare = compare
        self.negation = negation
        self.writtenAsSyn = writtenAsSyn
        self.module = module
    }

    static func list(_ flags: Set<String>) -> String {
        if flags.isEmpty { return "NONE" }
        if flags.count == order.count { return "ALL" }
        return order.filter(flags.contains).joined(separator: ",")
    }

    public var arguments: [String] {
        if writtenAsSyn { return module.prefix("tcp") + negation.prefix + ["--syn"] }
        return module.prefix("tcp") + negation.prefix + ["--tcp-flags", Self.list(mask), Self.list(compare)]
    }

    /// iptables' canonical form, as saved.
    public var savedArguments: [String] {
        negation.prefix + ["--tcp-flags", Self.list(mask), Self.list(compare)]
    }
}
