import Foundation
import IstioCapture
import PacketModel

/// Runs the real iptables binaries (in `--network-namespace` through `nsenter`), for the apply
/// procedure of `IstioCapture`. Every command it ran is kept for the log.
public final class SystemExecutor: IptablesExecutor {
    let namespace: String?
    /// `--force-iptables-binary`: `legacy` or `nft` selects `iptables-legacy` / `iptables-nft`.
    let variant: String
    public private(set) var ran: [String] = []

    public init(namespace: String?, variant: String = "") {
        self.namespace = namespace
        self.variant = variant
    }

    /// Why applying cannot work on this machine, before anything is touched.
    public static func preflight() -> String? {
        if geteuid() != 0 {
            return "applying rules needs root (CAP_NET_ADMIN); run as root, or add --dry-run to print them"
        }
        if find("iptables-restore") == nil {
            return "iptables-restore not found in PATH; install iptables (Debian: apt-get install iptables)"
        }
        return nil
    }

    func tool(_ family: IPFamily, _ suffix: String) -> String {
        let base = family == .ipv4 ? "iptables" : "ip6tables"
        let flavour = variant.isEmpty ? "" : "-\(variant)"
        return base + flavour + suffix
    }

    public func run(_ family: IPFamily, _ arguments: [String], quietly: Bool) -> Bool {
        execute([tool(family, "")] + arguments, input: nil).status == 0
    }

    public func save(_ family: IPFamily) -> String? {
        let result = execute([tool(family, "-save")], input: nil)
        return result.status == 0 ? result.stdout : nil
    }

    public func restore(_ family: IPFamily, _ input: String) -> Result<Void, ExecutionFailure> {
        let command = [tool(family, "-restore"), "--noflush"]
        let result = execute(command, input: input)
        guard result.status == 0 else {
            return .failure(
                ExecutionFailure(
                    "\(command.joined(separator: " ")) failed (exit status \(result.status)): "
                        + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return .success(())
    }

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func execute(_ command: [String], input: String?) -> Outcome {
        var argv = command
        if let namespace { argv = ["nsenter", "--net=\(namespace)", "--"] + argv }
        ran.append(argv.joined(separator: " "))
        guard let executable = Self.find(argv[0]) else {
            return Outcome(status: 127, stdout: "", stderr: "\(argv[0]): command not found")
        }
        let result = Subprocess.run(executable, Array(argv.dropFirst()), input: Array((input ?? "").utf8))
        return Outcome(
            status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self),
            stderr: String(decoding: result.stderr, as: UTF8.self))
    }

    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

