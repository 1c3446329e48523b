/// `-j REJECT [--reject-with TYPE]`: drop and answer (filter table).
public struct RejectTarget: Hashable, Sendable {
    public var with: String?

    public init(with: String?) { self.with = with }

    public var arguments: [String] { with.map { ["--reject-with", $0] } ?? [] }
}
