/// `-j CT --zone N`: put a not-yet-tracked packet's connection in conntrack zone N. raw table only.
public struct CTTarget: Hashable, Sendable {
    public var zone: UInt16

    public init(zone: UInt16) { self.zone = zone }

    public var arguments: [String] { ["--zone", String(zone)] }
}
