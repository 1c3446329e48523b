/// How a match's module was named on the command line. iptables loads `tcp`/`udp` implicitly
/// after `-p tcp|udp`; other modules need `-m NAME`, and further options of the same module may
/// follow without repeating it. Kept so a parsed rule renders back as it was written.
public enum ModuleSpelling: Hashable, Sendable {
    /// No `-m`: the protocol's own options (`-p tcp --dport 80`).
    case implicit
    /// `-m NAME` before the option.
    case explicit
    /// Another option of the module the previous match loaded (`-m owner --uid-owner 1 --gid-owner 2`).
    case continuation

    func prefix(_ module: String) -> [String] { self == .explicit ? ["-m", module] : [] }
}
