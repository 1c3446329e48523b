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
    let makeExecutor:
        @Sendable (_ namespace: String?, _ variant: String) -> Result<any IptablesExecutor, ExecutionFailure>
    /// Writes a file (`DRY_RUN_FILE_PATH`); injected so tests stay off the disk.
    let writeFile: @Sendable (_ path: String, _ contents: String) throws -> Void

    public init(
        environment: [String: String], machine: any Machine = LiveMachine(),
        makeExecutor:
            @escaping @Sendable (String?, String) -> Result<any IptablesExecutor, ExecutionFailure> = {
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
        func info(_ message: String) { output.stderr += "info\t\(message)\n" }
        func fail(_ message: String, _ code: ExitCode = .failure) -> CommandOutput {
            output.stderr += "error\t\(message)\n"
            output.exitCode = code
            return output
        }

        // Flags, environment, machine-derived values, Validate().
        let invocation: Invocation
        switch InvocationResolver(environment: environment, machine: machine).resolve(arguments) {
        case .failure(let failure):
            if failure.isUsageError {
                output.stderr += "Error: \(failure.message)\n"
                // The standalone binary's cobra command prints its usage after the error.
                if failure.exitCode == .failure,
                    let release = try? Release.resolve(requestedRelease(arguments)).get()
                {
                    output.stderr += Help.usage(for: release)
                }
            }
            guard let level = failure.level else {
                // A Go panic: its message and a stack on stderr, not a log record.
                output.stderr +=
                    "\(failure.message)\n\ngoroutine 1 [running]:\n(stack omitted by the emulator)\n"
                output.exitCode = failure.exitCode
                return output
            }
            output.stderr += "\(level)\t\(failure.message)\n"
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
            return fail(
                "--native-nftables: nftables output is not supported yet by this emulator; nothing was changed"
            )
        }
        if invocation.dryRun { info("running iptables in dry-run mode, no rule changes will be made") }
        if invocation.skipRuleApply { return validate(invocation, output) }

        // The configurator's Run(): outbound ranges first, then the dumps, then the rules.
        for notice in invocation.notices { output.stderr += notice + "\n" }
        if let rangeFailure = invocation.rangeFailure {
            if rangeFailure.exitCode == .panic {
                // Go prints a panic and its goroutine stack on stderr, not as a log record.
                output.stderr +=
                    "\(rangeFailure.message)\n\ngoroutine 1 [running]:\n(stack omitted by the emulator)\n"
                output.exitCode = .panic
                return output
            }
            return fail(rangeFailure.message, rangeFailure.exitCode)
        }
        let generator = RuleGenerator(config: invocation.config, release: invocation.release)
        if invocation.config.redirectDNS && !generator.dnsCaptureEffective {
            output.stderr +=
                "warn\tREDIRECT_DNS is set, but CAPTURE_ALL_DNS is false, and no DNS servers provided. DNS capture disabled.\n"
        }
        output.stderr += ConfigDump.text(invocation)
        let rules = generator.generate()
        let procedure = ApplyProcedure(
            release: invocation.release, rules: rules, enableIPv6: invocation.config.enableIPv6,
            settings: invocation.apply)

        if invocation.dryRun || invocation.goldenFormat != nil {
            var recorder = RecordingExecutor()
            if case .success(let log) = procedure.execute(&recorder) { log.forEach(info) }
            if invocation.dryRun { info("skipping configuring routes due to dry run mode") }
            // Upstream's stub writes everything it "ran" to DRY_RUN_FILE_PATH.
            if let path = environment["DRY_RUN_FILE_PATH"], !path.isEmpty {
                do {
                    try writeFile(path, recorder.lines.map { $0 + "\n" }.joined())
                } catch {
                    output.stderr += "error\tunable to open dry run output file \(path): \(error)\n"
                }
            }
            let printed = DryRunOutput(
                release: invocation.release, rules: rules, enableIPv6: invocation.config.enableIPv6,
                apply: invocation.apply)
            if invocation.goldenFormat == .realStdout {
                // Upstream's log records all go to stdout.
                output.stdout = output.stderr
                return output
            }
            if let format = invocation.goldenFormat {
                let lines = printed.golden(format, recorded: recorder.lines)
                output.stdout = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
                return output
            }
            output.stdout = invocation.apply.cleanupOnly ? "" : printed.restoreInput
            return validate(invocation, output)
        }

        let namespace = invocation.networkNamespace.isEmpty ? nil : invocation.networkNamespace
        var executor: any IptablesExecutor
        switch makeExecutor(namespace, invocation.forceIptablesBinary) {
        case .failure(let failure): return fail(failure.description)
        case .success(let made): executor = made
        }
        switch procedure.execute(&executor) {
        case .success(let log): log.forEach(info)
        case .failure(let failure):
            failure.log.forEach(info)
            return fail(failure.description)
        }
        if let failure = executor.configureRoutes(RoutePlan(invocation)) {
            return fail("failed to configure routes: \(failure)")
        }
        return validate(invocation, output)
    }

    /// `--run-validation` runs after the rules, dry run or not, as upstream's does.
    private func validate(_ invocation: Invocation, _ output: CommandOutput) -> CommandOutput {
        var output = output
        guard invocation.runValidation else { return output }
        let raw = invocation.raw
        let ports = [raw["envoy-port"] ?? "", raw["inbound-capture-port"] ?? ""].map { UInt16($0) ?? 0 }
        let validator = Validator(
            listenPorts: ports, probePort: GoValues.uint16Value(raw["iptables-probe-port"] ?? "") ?? 0,
            timeoutSeconds: GoValues.durationSeconds(raw["probe-timeout"] ?? "") ?? 0,
            ipv6: invocation.config.enableIPv6)
        let result = validator.run { message, isError in
            output.stderr += "\(isError ? "error" : "info")\t\(message)\n"
        }
        if case .failure = result {
            output.stderr += "error\t\(Validator.failureMessage)\n"
            output.exitCode = .validationFailed
        }
        return output
    }
}

extension IstioIptablesCommand {
    /// The release the command line (or ISTIO_VERSION) asks for, as text.
    func requestedRelease(_ arguments: [String]) -> String {
        if case .success(let release) = InvocationResolver(environment: environment, machine: machine)
            .release(for: arguments)
        {
            return release.version.description
        }
        return Release.newest.version.description
    }
}

/// The rules an `istio-iptables` command line produces, for tools built on the drop-in.
public struct RuleSetResult: Sendable {
    public let release: Release
    public let config: CaptureConfig
    public let rules: GeneratedRules
    /// Warnings and notices the command line would print.
    public let warnings: [String]
    /// Each setting's text as given or defaulted (flag names, env-only names), for explanations.
    public let settings: [String: String]
}

/// A command line that produces no rules, with upstream's message and exit status.
public struct CommandLineError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public let exitCode: ExitCode
}

extension IstioIptablesCommand {
    /// Resolves `arguments` exactly as `run` does (flags, env, release, validation) and returns
    /// the generated rules instead of printing or applying them.
    public func ruleSet(_ arguments: [String]) -> Result<RuleSetResult, CommandLineError> {
        switch InvocationResolver(environment: environment, machine: machine).resolve(arguments) {
        case .failure(let failure):
            return .failure(CommandLineError(description: failure.message, exitCode: failure.exitCode))
        case .success(let invocation):
            if let failure = invocation.rangeFailure {
                return .failure(CommandLineError(description: failure.message, exitCode: failure.exitCode))
            }
            let rules = RuleGenerator(config: invocation.config, release: invocation.release).generate()
            return .success(
                RuleSetResult(
                    release: invocation.release, config: invocation.config, rules: rules,
                    warnings: invocation.notices + invocation.warnings, settings: invocation.raw))
        }
    }
}

/// What `ConfigureRoutes` sets up after the rules: `::6` on lo for IPv6, and for TPROXY the policy
/// routing that delivers marked packets locally.
public struct RoutePlan: Sendable, Equatable {
    public var addIPv6PassthroughAddress: Bool
    /// (mark, table) texts, still to be parsed as upstream does (`strconv.Atoi`).
    public var tproxy: (mark: String, table: String)?
    public var ipv6: Bool

    init(_ invocation: Invocation) {
        ipv6 = invocation.config.enableIPv6
        addIPv6PassthroughAddress = invocation.config.enableIPv6
        let capturesInbound = invocation.config.inboundPorts != .none
        tproxy =
            capturesInbound && invocation.config.interceptionMode == .tproxy
            ? (invocation.config.tproxyMark.text, invocation.config.tproxyRouteTable) : nil
    }

    public static func == (lhs: RoutePlan, rhs: RoutePlan) -> Bool {
        lhs.addIPv6PassthroughAddress == rhs.addIPv6PassthroughAddress && lhs.ipv6 == rhs.ipv6
            && lhs.tproxy?.mark == rhs.tproxy?.mark && lhs.tproxy?.table == rhs.tproxy?.table
    }
}

extension IptablesExecutor {
    /// Executors that cannot touch routing (tests) do nothing.
    func configureRoutes(_ plan: RoutePlan) -> String? {
        (self as? SystemExecutor)?.configureRoutes(plan)
    }
}
