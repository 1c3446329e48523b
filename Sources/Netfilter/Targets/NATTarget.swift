/// `-j DNAT --to-destination A[:P]`, `-j SNAT --to-source A[:P]` (nat table) and
/// `-j MASQUERADE [--to-ports P] [--random|--random-fully]` (nat POSTROUTING).
public struct NATTarget: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case dnat = "DNAT"
        case snat = "SNAT"
        case masquerade = "MASQUERADE"
    }

    public var kind: Kind
    /// `--to-destination` / `--to-source` / `--to-ports` value as written.
    public var to: String?
    /// `--random`, `--random-fully`, `--persistent` as written.
    public var flags: [String]

    public init(_ kind: Kind, to: String?, flags: [String] = []) {
        self.kind = kind
        self.to = to
        self.flags = flags
    }

    public var arguments: [String] {
        let option: String
        switch kind {
        case .dnat: option = "--to-destination"
        case .snat: option = "--to-source"
        case .masquerade: option = "--to-ports"
        }
        return (to.map { [option, $0] } ?? []) + flags
    }
}
