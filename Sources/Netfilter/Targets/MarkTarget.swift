/// `-j MARK --set-mark V[/M]`: set the packet's fwmark.
public struct MarkTarget: Hashable, Sendable {
    public var setMark: MarkValue

    public init(setMark: MarkValue) { self.setMark = setMark }

    public var arguments: [String] { ["--set-mark", setMark.text] }
}
