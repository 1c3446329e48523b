/// `-j CONNMARK --save-mark` (packet mark -> connection) or `--restore-mark` (connection -> packet).
public enum ConnmarkTarget: Hashable, Sendable {
    case saveMark
    case restoreMark

    public var arguments: [String] {
        switch self {
        case .saveMark: ["--save-mark"]
        case .restoreMark: ["--restore-mark"]
        }
    }
}
