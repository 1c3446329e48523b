/// `-j MARK --set-mark V[/M]` (or `--set-xmark`, `--and-mark`, `--or-mark`, `--xor-mark`):
/// change the packet's fwmark. All load as "clear MASK, then XOR VALUE".
public struct MarkTarget: Hashable, Sendable {
    public enum Operation: String, Hashable, Sendable {
        case set = "--set-mark"
        case setX = "--set-xmark"
        case and = "--and-mark"
        case or = "--or-mark"
        case xor = "--xor-mark"
    }

    public var operation: Operation
    public var setMark: MarkValue

    public init(setMark: MarkValue, operation: Operation = .set) {
        self.setMark = setMark
        self.operation = operation
    }

    public var arguments: [String] { [operation.rawValue, setMark.text] }

    /// The (value, mask) the kernel holds: the mark becomes (mark & ~mask) ^ value.
    public var xmark: (value: UInt32, mask: UInt32) {
        let value = setMark.value ?? 0
        switch operation {
        case .set: return (value, setMark.mask.map { $0 | value } ?? .max)
        case .setX: return (value, setMark.mask ?? .max)
        case .and: return (0, ~value)
        case .or: return (value, value)
        case .xor: return (value, 0)
        }
    }
}
