import IstioCapture
import IstioIptablesCLI
import PacketModel
import Testing

/// A machine with fixed answers, so no test depends on the host.
struct FakeMachine: Machine {
    var users: [String: String] = [:]
    var addresses: [IPAddress] = [.v4(IPv4Address(127, 0, 0, 1)), .v4(IPv4Address(10, 44, 0, 2))]
    var resolv: String? = "nameserver 10.96.0.10\nsearch default.svc.cluster.local\n"

    func userID(named name: String) -> String? { users[name] }
    func interfaceAddresses() throws -> [IPAddress] { addresses }
    func resolvConf() throws -> String {
        guard let resolv else { throw MachineError("open /etc/resolv.conf: no such file or directory") }
        return resolv
    }
}

/// A kernel stand-in: records the commands, answers saves with a given state, can fail restores.
final class FakeExecutor: IptablesExecutor, @unchecked Sendable {
    var commands: [String] = []
    var restored: [(IPFamily, String)] = []
    var savedState = ""
    var restoreFailure: String?
    var failingChecks = false

    func run(_ family: IPFamily, _ arguments: [String], quietly: Bool) -> Bool {
        commands.append(([family == .ipv4 ? "iptables" : "ip6tables"] + arguments).joined(separator: " "))
        return !(failingChecks && arguments.contains("-C"))
    }
    func save(_ family: IPFamily) -> String? {
        commands.append(family == .ipv4 ? "iptables-save" : "ip6tables-save")
        return family == .ipv4 ? savedState : ""
    }
    func restore(_ family: IPFamily, _ input: String) -> Result<Void, ExecutionFailure> {
        if let restoreFailure { return .failure(ExecutionFailure(restoreFailure)) }
        restored.append((family, input))
        return .success(())
    }
}

let labArguments = [
    "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d",
    "15090,15021,15020",
]

func run(
    _ arguments: [String], env: [String: String] = [:], machine: FakeMachine = FakeMachine(),
    executor: FakeExecutor = FakeExecutor()
) -> CommandOutput {
    IstioIptablesCommand(
        environment: env, machine: machine, makeExecutor: { _, _ in .success(executor) },
        writeFile: { _, _ in }
    ).run(arguments)
}

/// The dry-run rule lines (without table headers), for compact assertions.
func ruleLines(_ output: CommandOutput) -> [String] {
    output.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A") || $0.hasPrefix("-I") }
}
