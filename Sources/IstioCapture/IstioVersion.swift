/// An Istio release number, `1.30.3`; `1.30` alone means that minor's newest known patch.
public struct IstioVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// `1.30.3` → (1, 30, 3); `1.30` → (1, 30, nil). Returns nil for anything else.
    public static func parseRequest(_ text: String) -> (major: Int, minor: Int, patch: Int?)? {
        var body = Substring(text)
        if body.hasPrefix("v") { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
            let major = Int(parts[0]), let minor = Int(parts[1])
        else { return nil }
        let patch = parts.count == 3 ? Int(parts[2]) : nil
        if parts.count == 3 && patch == nil { return nil }
        return (major, minor, patch)
    }

    public static func < (lhs: IstioVersion, rhs: IstioVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
}

extension IstioVersion: ExpressibleByStringLiteral {
    /// For the release table only: literals are checked when the table is built.
    public init(stringLiteral value: String) {
        guard let parsed = IstioVersion.parseRequest(value), let patch = parsed.patch else {
            preconditionFailure("bad version literal \(value)")
        }
        self.init(parsed.major, parsed.minor, patch)
    }
}
