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
    /// Makes the executor that changes the kernel (given `--network-namespace` and
    /// `--force-iptables-binary`); nil means this machine cannot apply, with the reason.
    let makeExecutor: @Sendable (_ namespace: String?, _ variant: String) -> Result<any IptablesExecutor, ExecutionFailure>
    /// Writes a file (`DRY_RUN_FILE_PATH`); injected so tests stay off the disk.
    let writeFile: @Sendable (_ path: String, _ contents: String) throws -> Void

    public init(
        environment: [String: String], machine: any Machine = LiveMachine(),
        makeExecutor: @escaping @Sendable (String?, String) -> Result<any IptablesExecutor, ExecutionFailure> = {
            namespace, variant in
            if let problem = SystemExecutor.preflight() { return .failure(ExecutionFailure(problem)) }
            return .success(SystemExecutor(namespace: namespace, variant: variant))
        },
        writeFile: @escaping @Sendable (String, String) throws -> Void = DryRunFile.write
    ) {
        self.environment = environment
        self.machine = machine
        self.makeExecutor = makeExecutor
        self.writeFile = writeFile
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
            // Upstream's stub writes everything it "ran" to DRY_RUN_FILE_PATH (1.17+).
            if let path = environment["DRY_RUN_FILE_PATH"], !path.isEmpty {
                let transcript = dryRunOutput.transcript
                do {
                    try writeFile(path, transcript.map { $0 + "\n" }.joined())
                } catch {
                    output.stderr += "error\tunable to open dry run output file \(path): \(error)\n"
                }
            }
            output.stdout = invocation.apply.cleanupOnly ? "" : dryRunOutput.restoreInput
            return output
        }
        return apply(invocation, rules, into: output)
    }

    private func apply(_ invocation: Invocation, _ rules: GeneratedRules, into output: CommandOutput) -> CommandOutput {
        var output = output
        let namespace = invocation.networkNamespace.isEmpty ? nil : invocation.networkNamespace
        var executor: any IptablesExecutor
        switch makeExecutor(namespace, invocation.forceIptablesBinary) {
        case .failure(let failure):
            output.stderr += "error\t\(failure)\n"
            output.exitCode = .failure
            return output
        case .success(let made):
            executor = made
        }
        let procedure = ApplyProcedure(
            release: invocation.release, rules: rules, enableIPv6: invocation.config.enableIPv6, settings: invocation.apply)
        switch procedure.execute(&executor) {
        case .success(let log):
            for line in log { output.stderr += "info\t\(line)\n" }
        case .failure(let failure):
            output.stderr += "error\t\(failure)\n"
            output.exitCode = .failure
        }
        return output
    }
}
