import IstioCapture
import Netfilter
import PacketModel

/// What a run printed and how it ended. The command never writes to the terminal itself, so
/// tests can run it in-process.
public struct CommandOutput: Sendable {
    public var stdout = ""
    public var stderr = ""
    public var exitCode = ExitCode.success

    public init() {}
}

/// The `istio-iptables` drop-in: parse like upstream, generate like upstream, and either print
/// (dry run) or apply with the real `iptables-restore`.
public struct IstioIptablesCommand {
    let environment: [String: String]
    let machine: any Machine
    let applier: any RuleApplier

    public init(environment: [String: String], machine: any Machine = LiveMachine(), applier: any RuleApplier = SystemApplier()) {
        self.environment = environment
        self.machine = machine
        self.applier = applier
    }

    public func run(_ arguments: [String]) -> CommandOutput {
        var output = CommandOutput()
        let resolver = InvocationResolver(environment: environment, machine: machine)
        let invocation: Invocation
        switch resolver.resolve(arguments) {
        case .failure(let failure):
            if failure.isUsageError { output.stderr += "Error: \(failure.message)\n" }
            output.stderr += "error\t\(failure.message)\n"
            output.exitCode = failure.exitCode
            return output
        case .success(let resolved):
            invocation = resolved
        }
        if invocation.helpRequested {
            output.stdout = Help.text(for: invocation.release)
            return output
        }
        for warning in invocation.warnings { output.stderr += "warn\t\(warning)\n" }

        if invocation.nativeNftables {
            output.stderr += "error\t--native-nftables: nftables output is not supported yet by this emulator\n"
            output.exitCode = .failure
            return output
        }
        if invocation.dryRun {
            output.stderr += "info\trunning iptables in dry-run mode, no rule changes will be made\n"
        }
        if invocation.skipRuleApply {
            output.stderr += "info\t--skip-rule-apply: no rules generated or applied\n"
            return output
        }

        let generator = RuleGenerator(config: invocation.config, release: invocation.release)
        if invocation.config.redirectDNS && !generator.dnsCaptureEffective {
            output.stderr +=
                "warn\tREDIRECT_DNS is set, but CAPTURE_ALL_DNS is false, and no DNS servers provided. DNS capture disabled.\n"
        }
        output.stderr += ConfigDump.text(invocation)
        let rules = generator.generate()
        let dryRunOutput = DryRunOutput(
            release: invocation.release, rules: rules, enableIPv6: invocation.config.enableIPv6, apply: invocation.apply)

        if let format = invocation.goldenFormat {
            let lines = dryRunOutput.golden(format)
            output.stdout = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
            return output
        }
        if invocation.dryRun {
            output.stdout = invocation.apply.cleanupOnly ? "" : dryRunOutput.restoreInput
            return output
        }
        return apply(invocation, dryRunOutput, into: output)
    }

    private func apply(_ invocation: Invocation, _ rendered: DryRunOutput, into output: CommandOutput) -> CommandOutput {
        var output = output
        if invocation.apply.cleanupOnly || invocation.reconcile {
            output.stderr += "error\t--cleanup-only and --reconcile are not emulated yet; nothing was changed\n"
            output.exitCode = .failure
            return output
        }
        let plan = ApplyPlan(
            namespace: invocation.networkNamespace.isEmpty ? nil : invocation.networkNamespace,
            v4: rendered.restoreV4, v6: invocation.config.enableIPv6 ? rendered.restoreV6 : nil,
            perCommand: invocation.release.output.hasRestoreFormatFlag && !invocation.apply.restoreFormat
                ? (RuleText.commands(rendered.rules.v4, family: .ipv4), RuleText.commands(rendered.rules.v6, family: .ipv6))
                : nil)
        switch applier.apply(plan) {
        case .success(let log):
            output.stderr += log
        case .failure(let failure):
            output.stderr += "error\t\(failure.message)\n"
            output.exitCode = .failure
        }
        return output
    }
}
