/// `-m owner [!] --uid-owner ID` / `[!] --gid-owner ID`: the socket creator's uid or gid.
/// Only valid in OUTPUT and POSTROUTING, where a local socket exists.
public struct OwnerMatch: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case uid = "--uid-owner"
        case gid = "--gid-owner"
        /// `--socket-exists`: takes no value (`id` is empty).
        case socketExists = "--socket-exists"
    }

    public var kind: Kind
    public var id: OwnerID
    public var negation: Negation
    public var module: ModuleSpelling

    public init(
        _ kind: Kind, _ id: OwnerID, _ negation: Negation = .normal, module: ModuleSpelling = .explicit
    ) {
        self.kind = kind
        self.id = id
        self.negation = negation
        self.module = module
    }

    public var arguments: [String] {
        module.prefix("owner") + negation.prefix
            + (kind == .socketExists ? [kind.rawValue] : [kind.rawValue, id.text])
    }

    public static let validHooks: Set<ChainName> = [.output, .postrouting]
}

/// A user or group as written: a number, `a-b` range, or a name iptables resolves when loading.
public struct OwnerID: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let range: ClosedRange<UInt32>?

    public init(_ text: String) {
        self.text = text
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, let low = UInt32(parts[0]), let high = UInt32(parts[1]), low <= high {
            range = low...high
        } else if let value = UInt32(text) {
            range = value...value
        } else {
            range = nil
        }
    }

    /// `nil` for a name that only the pod's `/etc/passwd` or `/etc/group` can resolve.
    public var numeric: UInt32? { range.flatMap { $0.lowerBound == $0.upperBound ? $0.lowerBound : nil } }

    public var description: String { text }
}
