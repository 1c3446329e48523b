/// `-j CT --zone N`: put a not-yet-tracked packet's connection in conntrack zone N; `-j CT
/// --notrack`: do not track it at all. raw table only.
public struct CTTarget: Hashable, Sendable {
    public var zone: UInt16?
    public var notrack: Bool

    public init(zone: UInt16) {
        self.zone = zone
        self.notrack = false
    }

    public init(notrack: Bool) {
        self.zone = nil
        self.notrack = notrack
    }

    public var arguments: [String] { notrack ? ["--notrack"] : zone.map { ["--zone", String($0)] } ?? [] }
}
