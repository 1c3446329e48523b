/// `-j CONNMARK --save-mark` (packet mark -> connection), `--restore-mark` (connection ->
/// packet), with optional masks, or `--set-mark`/`--set-xmark` (set the connection's mark).
public enum ConnmarkTarget: Hashable, Sendable {
    case saveMark
    case restoreMark
    /// save/restore with masks as written: `--mask M` or `--nfmask N --ctmask C`.
    case transfer(save: Bool, masks: [String])
    case set(option: String, value: MarkValue)

    public var arguments: [String] {
        switch self {
        case .saveMark: ["--save-mark"]
        case .restoreMark: ["--restore-mark"]
        case .transfer(let save, let masks): [save ? "--save-mark" : "--restore-mark"] + masks
        case .set(let option, let value): [option, value.text]
        }
    }
}
