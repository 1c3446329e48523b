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

/// Records what would have been loaded.
final class RecordingApplier: RuleApplier, @unchecked Sendable {
    var plans: [ApplyPlan] = []
    var result: Result<String, ApplyFailure> = .success("")
    func apply(_ plan: ApplyPlan) -> Result<String, ApplyFailure> {
        plans.append(plan)
        return result
    }
}

let labArguments = ["-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]

func run(
    _ arguments: [String], env: [String: String] = [:], machine: FakeMachine = FakeMachine(),
    applier: RecordingApplier = RecordingApplier()
) -> CommandOutput {
    IstioIptablesCommand(environment: env, machine: machine, applier: applier).run(arguments)
}

/// The dry-run rule lines (without table headers), for compact assertions.
func ruleLines(_ output: CommandOutput) -> [String] {
    output.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A") || $0.hasPrefix("-I") }
}
