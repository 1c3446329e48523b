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

    /// `ConfigureRoutes`, with `ip` instead of netlink: `::6/128` on lo, and for TPROXY
    /// `ip rule add fwmark MARK lookup TABLE` plus a local default route in TABLE, per family.
    func configureRoutes(_ plan: RoutePlan) -> String? {
        if plan.addIPv6PassthroughAddress {
            let result = execute(["ip", "-6", "addr", "add", "::6/128", "dev", "lo"], input: nil)
            // netlink's EEXIST, which upstream ignores; ip(8) words it "address already assigned".
            let exists = ["file exists", "already assigned"].contains {
                result.stderr.lowercased().contains($0)
            }
            if result.status != 0 && !exists {
                return
                    "failed to add IPv6 inbound address: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            }
        }
        guard let tproxy = plan.tproxy else { return nil }
        guard let table = Int(tproxy.table) else {
            return
                "failed to parse InboundTProxyRouteTable: strconv.Atoi: parsing \(quote(tproxy.table)): invalid syntax"
        }
        guard let mark = Int(tproxy.mark) else {
            return
                "failed to parse InboundTProxyMark: strconv.Atoi: parsing \(quote(tproxy.mark)): invalid syntax"
        }
        let families = plan.ipv6 ? ["-4", "-6"] : ["-4"]
        for family in families {
            let result = execute(
                ["ip", family, "rule", "add", "fwmark", String(mark), "lookup", String(table)], input: nil)
            if result.status != 0 {
                return
                    "failed to configure netlink rule: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            }
        }
        for family in families {
            let destination = family == "-4" ? "0.0.0.0/0" : "::/0"
            let result = execute(
                ["ip", family, "route", "add", "local", destination, "dev", "lo", "table", String(table)],
                input: nil)
            if result.status != 0 && !result.stderr.lowercased().contains("file exists") {
                return "failed to add route: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
            }
        }
        return nil
    }

    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + [
            "/usr/sbin", "/sbin", "/usr/bin", "/bin",
        ] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
