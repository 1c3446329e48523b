import IstioCapture
import Netfilter
import PacketModel

/// Everything one `istio-iptables` run needs, resolved from flags > environment > defaults
/// (and the machine, for what upstream derives from it), typed.
struct Invocation {
    var release: Release
    var config = CaptureConfig()
    var apply = ApplySettings()
    var dryRun = false
    var goldenFormat: GoldenFormat?
    var networkNamespace = ""
    var nativeNftables = false
    var skipRuleApply = false
    var runValidation = false
    var forceIptablesBinary = ""
    /// Each setting's text as upstream keeps it, for the configuration dump.
    var raw: [String: String] = [:]
    var warnings: [String] = []
    /// Lines upstream writes to stderr as they are (not log records).
    var notices: [String] = []
    /// A bad `-i`/`-x`, reported only when the configurator runs (not with --skip-rule-apply).
    var rangeFailure: CommandFailure?
    var helpRequested = false
    /// The environment as given, for the dump of upstream's raw environment lines.
    var rawEnvironment: [String: String] = [:]
}

/// A failure with the exit status upstream uses for it.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    let exitCode: ExitCode
    /// Cobra prints `Error: …` for command-line errors before the log line.
    let isUsageError: Bool

    /// The log level upstream reports it at (`error`, `fatal`), or nil for a Go panic's raw text.
    let level: String?

    init(_ message: String, exitCode: ExitCode = .failure, usage: Bool = false, level: String = "error") {
        self.message = message
        self.exitCode = exitCode
        self.isUsageError = usage
        self.level = exitCode == .panic ? nil : level
    }

    var description: String { message }
}

/// Exit statuses, in one place.
public enum ExitCode: Int32, Sendable {
    case success = 0
    /// `handleErrorWithCode(err, 1)`: configuration and apply errors.
    case failure = 1
    /// Run validation failed (`constants.ValidationErrorCode`).
    case validationFailed = 126
    /// A Go panic (`-x '*'` up to 1.18).
    case panic = 2
    /// `os.Exit(-1)` in pilot-agent's main when cobra rejects the command line.
    case usage = 255
}

/// Emulator-only flags (DESIGN.md): they replace what upstream reads from the machine.
enum EmulatorFlag {
    static let istioVersion = FlagSpec(name: "istio-version", shorthand: nil, kind: .string)
    static let enableIPv6 = FlagSpec(name: "enable-ipv6", shorthand: nil, kind: .bool)
    static let dnsServersV4 = FlagSpec(name: "dns-servers-v4", shorthand: nil, kind: .string)
    static let dnsServersV6 = FlagSpec(name: "dns-servers-v6", shorthand: nil, kind: .string)
    static let goldenFormat = FlagSpec(name: "golden-format", shorthand: nil, kind: .string)
    static let all = [istioVersion, enableIPv6, dnsServersV4, dnsServersV6, goldenFormat]
}

struct InvocationResolver {
    let environment: [String: String]
    let machine: any Machine

    func flagSpecs(for release: Release) -> [FlagSpec] {
        FlagCatalog.flags(for: release.version).map {
            FlagSpec(name: $0.name, shorthand: $0.shorthand, kind: $0.kind)
        }
            + EmulatorFlag.all
    }

    /// Picks the release first (its flag set decides how the rest parses).
    func release(for arguments: [String]) -> Result<Release, CommandFailure> {
        var everyFlag: [String: FlagSpec] = [:]
        for definition in FlagCatalog.all {
            everyFlag[definition.name] = FlagSpec(
                name: definition.name, shorthand: definition.shorthand, kind: definition.kind)
        }
        for flag in EmulatorFlag.all { everyFlag[flag.name] = flag }
        var requested = environment["ISTIO_VERSION"].flatMap { $0.isEmpty ? nil : $0 }
        if case .success(let parsed) = FlagParser(flags: Array(everyFlag.values)).parse(arguments),
            let flag = parsed.values[EmulatorFlag.istioVersion.name]
        {
            requested = flag.value
        }
        guard let requested else { return .success(.newest) }
        switch Release.resolve(requested) {
        case .success(let release): return .success(release)
        case .failure(let error):
            return .failure(CommandFailure(error.description, exitCode: .usage, usage: true))
        }
    }

    func resolve(_ arguments: [String]) -> Result<Invocation, CommandFailure> {
        let release: Release
        switch self.release(for: arguments) {
        case .success(let found): release = found
        case .failure(let failure): return .failure(failure)
        }
        let parsed: FlagParser.Result
        switch FlagParser(flags: flagSpecs(for: release)).parse(arguments) {
        case .success(let result): parsed = result
        case .failure(let error):
            // The standalone binary (≤1.16) exits 1 on a bad command line; pilot-agent exits 255.
            let code: ExitCode = release.cli.standaloneBinary ? .failure : .usage
            return .failure(CommandFailure(error.message, exitCode: code, usage: true))
        }
        var invocation = Invocation(release: release)
        invocation.rawEnvironment = environment
        invocation.helpRequested = parsed.helpRequested
        if parsed.helpRequested { return .success(invocation) }
        do {
            try fill(&invocation, parsed)
        } catch let failure as CommandFailure {
            return .failure(failure)
        } catch {
            return .failure(CommandFailure("\(error)"))
        }
        return .success(invocation)
    }

    /// flag > env > default for one upstream flag (env applied as `pkg/flag.BindEnv` does:
    /// each listed variable in turn, an unparsable value ignored).
    func value(_ name: String, _ parsed: FlagParser.Result, release: Release) -> String {
        if let flag = parsed.values[name] { return flag.value }
        guard let definition = FlagCatalog.flags(for: release.version).first(where: { $0.name == name })
        else {
            return ""
        }
        var current = definition.defaultValue
        for variable in definition.env {
            guard let text = environment[variable] else { continue }
            // viper (≤1.18) treats an empty variable as unset.
            if text.isEmpty && release.cli.emptyEnvironmentIgnored { continue }
            // pflag's Set assigns before it reports a parse error, and BindEnv drops the error.
            current = GoValues.assignedByEnvironment(text, kind: definition.kind)
        }
        return current
    }

    func bool(_ name: String, _ parsed: FlagParser.Result, release: Release) -> Bool {
        GoValues.parseBool(value(name, parsed, release: release)) ?? false
    }

    private func fill(_ invocation: inout Invocation, _ parsed: FlagParser.Result) throws {
        let release = invocation.release
        let has = { (name: String) in FlagCatalog.flags(for: release.version).contains { $0.name == name } }
        func text(_ name: String) -> String { value(name, parsed, release: release) }
        func flag(_ name: String) -> Bool { has(name) && bool(name, parsed, release: release) }

        for definition in FlagCatalog.flags(for: release.version) {
            invocation.raw[definition.name] = text(definition.name)
        }
        var config = CaptureConfig()
        invocation.dryRun = flag("dry-run")
        invocation.apply.restoreFormat = has("restore-format") ? flag("restore-format") : true
        invocation.apply.cleanupOnly = flag("cleanup-only")
        invocation.apply.forceApply = flag("force-apply")
        invocation.apply.reconcile = flag("reconcile")
        invocation.nativeNftables = flag("native-nftables")
        invocation.skipRuleApply = flag("skip-rule-apply")
        invocation.runValidation = flag("run-validation")
        invocation.networkNamespace = text("network-namespace")
        invocation.forceIptablesBinary = has("force-iptables-binary") ? text("force-iptables-binary") : ""

        if let format = parsed.values[EmulatorFlag.goldenFormat.name] {
            guard let golden = GoldenFormat(rawValue: format.value) else {
                throw CommandFailure(
                    "invalid argument \(quote(format.value)) for \"--golden-format\" flag: expected one of "
                        + GoldenFormat.allCases.map(\.rawValue).joined(separator: ", "), exitCode: .usage,
                    usage: true)
            }
            invocation.goldenFormat = golden
        }

        config.proxyPort = port("envoy-port", text("envoy-port"), &invocation.warnings)
        config.inboundCapturePort = port(
            "inbound-capture-port", text("inbound-capture-port"), &invocation.warnings)
        config.inboundTunnelPort = port(
            "inbound-tunnel-port", text("inbound-tunnel-port"), &invocation.warnings)

        let mode = text("istio-inbound-interception-mode")
        config.interceptionMode = InterceptionMode(upstreamText: mode)
        if !["", "REDIRECT", "TPROXY"].contains(mode) {
            invocation.warnings.append(
                "--istio-inbound-interception-mode \(quote(mode)) is neither REDIRECT nor TPROXY; upstream treats it as REDIRECT"
            )
        }
        config.tproxyMark = MarkValue(text("istio-inbound-tproxy-mark"))
        if !config.tproxyMark.isValid {
            invocation.warnings.append(
                "--istio-inbound-tproxy-mark \(quote(config.tproxyMark.text)) is not a number; iptables will reject the TPROXY rules"
            )
        }
        config.tproxyRouteTable = text("istio-inbound-tproxy-route-table")

        let inbound = text("istio-inbound-ports")
        switch inbound {
        case "": config.inboundPorts = .none
        case "*": config.inboundPorts = .all
        default: config.inboundPorts = .only(ports("istio-inbound-ports", inbound, &invocation.warnings))
        }
        config.inboundPortsExclude = ports(
            "istio-local-exclude-ports", text("istio-local-exclude-ports"), &invocation.warnings)
        if !config.inboundPortsExclude.isEmpty && inbound != "*" {
            invocation.warnings.append(
                "--istio-local-exclude-ports only applies with --istio-inbound-ports '*'; it is ignored here")
        }
        config.outboundPortsInclude = ports(
            "istio-outbound-ports", text("istio-outbound-ports"), &invocation.warnings)
        config.outboundPortsExclude = ports(
            "istio-local-outbound-ports-exclude", text("istio-local-outbound-ports-exclude"),
            &invocation.warnings)
        config.kubeVirtInterfaces = splitList(text("kube-virt-interfaces"))
        config.excludeInterfaces = splitList(text("istio-exclude-interfaces"))
        config.redirectDNS = flag("redirect-dns")
        config.captureAllDNS = flag("capture-all-dns")
        config.dropInvalid = flag("drop-invalid")
        config.traceLogging = flag("iptables-trace-logging")
        let dualStack = flag("dual-stack")

        // FillConfigFromEnvironment: env-only settings, then the machine-derived values.
        let cli = release.cli
        // viper (≤1.18) reads an empty variable as unset.
        let envOnly = { (name: String) -> String? in
            guard let value = environment[name] else { return nil }
            return value.isEmpty && cli.emptyEnvironmentIgnored ? nil : value
        }
        let ownerInclude = cli.readsOwnerGroups ? envOnly("ISTIO_OUTBOUND_OWNER_GROUPS") ?? "*" : "*"
        let ownerExclude = cli.readsOwnerGroups ? envOnly("ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE") ?? "" : ""
        invocation.raw["ISTIO_OUTBOUND_OWNER_GROUPS"] = ownerInclude
        invocation.raw["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"] = ownerExclude
        if ownerInclude == "*" {
            config.ownerGroups = .allExcept(splitList(ownerExclude).map(OwnerID.init))
        } else {
            config.ownerGroups = .only(splitList(ownerInclude).map(OwnerID.init))
            if !splitList(ownerExclude).isEmpty {
                invocation.warnings.append(
                    "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE is ignored because ISTIO_OUTBOUND_OWNER_GROUPS is not '*'"
                )
            }
        }
        let loopbackText =
            cli.readsLoopbackCIDR
            ? environment["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"] ?? "127.0.0.1/32" : "127.0.0.1/32"
        invocation.raw["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"] = loopbackText
        if FlagCatalog.environmentOnly(for: release.version).contains(where: {
            $0.name == "ISTIO_META_DNS_CONNTRACK_ZONE"
        }) {
            // env.RegisterBoolVar: strconv.ParseBool, the default (false) when it does not parse.
            config.dnsConntrackZones =
                GoValues.parseBool(environment["ISTIO_META_DNS_CONNTRACK_ZONE"] ?? "") ?? false
        }

        var uid = text("proxy-uid")
        if uid.isEmpty {
            uid = machine.userID(named: environment["ENVOY_USER"] ?? "istio-proxy") ?? "1337"
        }
        var gid = text("proxy-gid")
        if gid.isEmpty { gid = uid }
        invocation.raw["proxy-uid"] = uid
        invocation.raw["proxy-gid"] = gid
        config.proxyUIDs = splitList(uid).map(OwnerID.init)
        config.proxyGIDs = splitList(gid).map(OwnerID.init)

        if let given = parsed.values[EmulatorFlag.enableIPv6.name] {
            config.enableIPv6 = GoValues.parseBool(given.value) ?? false
        } else if let env = environment["ENABLE_INBOUND_IPV6"], let value = GoValues.parseBool(env) {
            config.enableIPv6 = value
        } else {
            let addresses: [IPAddress]
            do {
                addresses = try machine.interfaceAddresses()
            } catch {
                throw CommandFailure("\(error)")
            }
            guard let isIPv6 = Derivation.podIsIPv6(addresses: addresses, dualStack: dualStack) else {
                throw machineFailure("no valid local IP address found", release)
            }
            config.enableIPv6 = isIPv6
        }

        let v4Given = parsed.values[EmulatorFlag.dnsServersV4.name]
        let v6Given = parsed.values[EmulatorFlag.dnsServersV6.name]
        if v4Given != nil || v6Given != nil {
            config.dnsServersV4 = try nameservers(v4Given, family: .ipv4)
            config.dnsServersV6 = try nameservers(v6Given, family: .ipv6)
        } else if config.redirectDNS && !config.captureAllDNS {
            let text: String
            do {
                text = try machine.resolvConf()
            } catch {
                throw machineFailure("failed to load /etc/resolv.conf: \(error)", release)
            }
            let found = Derivation.nameservers(resolvConf: text)
            config.dnsServersV4 = found.v4.map { DNSServer(address: $0, text: $0.description) }
            config.dnsServersV6 = found.v6.map { DNSServer(address: $0, text: $0.description) }
        }

        // Validate(): owner groups, iptables binary, loopback CIDR.
        if case .only(let groups) = config.ownerGroups, groups.count > 64 {
            throw CommandFailure(
                "number of owner groups whose outgoing traffic should be redirected to Envoy cannot exceed 64, got \(groups.count): ["
                    + groups.map(\.text).joined(separator: " ") + "]")
        }
        if has("force-iptables-binary") && !["", "legacy", "nft"].contains(invocation.forceIptablesBinary) {
            throw CommandFailure(
                "invalid FORCE_IPTABLES_BINARY value \(quote(invocation.forceIptablesBinary))")
        }
        switch CIDR.parse(loopbackText) {
        case .failure(let error):
            throw CommandFailure("failed to parse CIDR \(loopbackText): \(error)")
        case .success(let cidr):
            guard case .v4(let address) = cidr.address, address.isLoopback else {
                throw CommandFailure(
                    "expected valid IPv4 loopback address in CIDR \(loopbackText); found \(cidr.address)")
            }
            guard cidr.prefixLength >= 8 else {
                throw CommandFailure(
                    "expected CIDR \(loopbackText) to have mask in range [8, 32]; found \(cidr.prefixLength)")
            }
            config.hostIPv4LoopbackCIDR = AddressMatchSpelling(cidr, text: loopbackText)
        }

        // Run(): outbound ranges.
        let fatal = release.cli.invalidCIDRsAreFatal
        let parser = release.cli.cidrParser
        do {
            config.outboundRangesExclude = try ranges(
                text("istio-service-exclude-cidr"), fatal: fatal, parser, &invocation.notices)
            if config.outboundRangesExclude.v4.isWildcard {
                // ≤1.18 panicked here: Go prints "panic: …" and a stack, and exits with status 2.
                throw release.cli.excludeWildcardPanics
                    ? CommandFailure("panic: Invalid value for OUTBOUND_IP_RANGES_EXCLUDE", exitCode: .panic)
                    : CommandFailure("invalid value for OUTBOUND_IP_RANGES_EXCLUDE")
            }
            config.outboundRangesInclude = try ranges(
                text("istio-service-cidr"), fatal: fatal, parser, &invocation.notices)
        } catch let failure as CommandFailure {
            invocation.rangeFailure = failure
        }
        invocation.config = config
    }

    /// A failure to read the machine, ended the way the release ends it.
    func machineFailure(_ message: String, _ release: Release) -> CommandFailure {
        switch release.cli.machineFailure {
        case .panic: CommandFailure("panic: \(message)", exitCode: .panic)
        case .fatal: CommandFailure(message, exitCode: .failure, level: "fatal")
        case .error: CommandFailure(message)
        }
    }

    /// `config.Split`: comma-separated, empty entries dropped.
    func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
    }

    func port(_ flag: String, _ text: String, _ warnings: inout [String]) -> PortSpec {
        let spec = PortSpec(text)
        if !spec.isValid {
            warnings.append(
                "--\(flag) \(quote(text)) is not a valid port; upstream accepts it, but iptables will reject the rules"
            )
        }
        return spec
    }

    func ports(_ flag: String, _ text: String, _ warnings: inout [String]) -> [PortSpec] {
        splitList(text).map { port(flag, $0, &warnings) }
    }

    /// `SeparateV4V6`: `*` is a wildcard for both families; anything else must parse as prefixes.
    /// Before 1.27 a bad entry was dropped with a notice ("bug compatibility"); since, it is fatal.
    func ranges(
        _ text: String, fatal: Bool, _ parser: CLIBehaviour.CIDRParser, _ notices: inout [String]
    ) throws -> OutboundRanges {
        if text == "*" { return .wildcard }
        var v4: [CIDR] = []
        var v6: [CIDR] = []
        var loopback = (v4: false, v6: false)
        for entry in splitList(text) {
            let parsed: Result<(network: CIDR, addressIsLoopback: Bool), AddressParseError>
            switch parser {
            case .netipParsePrefix: parsed = CIDR.parse(entry).map { ($0, $0.address.isLoopback) }
            case .netParseCIDR: parsed = CIDR.parseLikeNetParseCIDR(entry)
            }
            switch parsed {
            case .failure(let error):
                if fatal { throw CommandFailure(error.description) }
                notices.append("Ignoring error for bug compatibility with istio-iptables: \(error)")
            case .success(let (cidr, isLoopback)):
                if cidr.family == .ipv4 {
                    v4.append(cidr)
                    loopback.v4 = loopback.v4 || isLoopback
                } else {
                    v6.append(cidr)
                    loopback.v6 = loopback.v6 || isLoopback
                }
            }
        }
        var ranges = OutboundRanges(v4: NetworkRanges(cidrs: v4), v6: NetworkRanges(cidrs: v6))
        ranges.v4.hasLoopback = loopback.v4
        ranges.v6.hasLoopback = loopback.v6
        return ranges
    }

    func nameservers(_ given: FlagOccurrence?, family: IPFamily) throws -> [DNSServer] {
        guard let given else { return [] }
        let flagName = family == .ipv4 ? "--dns-servers-v4" : "--dns-servers-v6"
        return try splitList(given.value).map { entry in
            switch IPAddress.parse(entry) {
            case .failure(let error):
                throw CommandFailure(
                    "invalid argument \(quote(entry)) for \"\(flagName)\" flag: \(error)", exitCode: .usage,
                    usage: true)
            case .success(let address):
                guard address.family == family else {
                    throw CommandFailure(
                        "invalid argument \(quote(entry)) for \"\(flagName)\" flag: not an \(family == .ipv4 ? "IPv4" : "IPv6") address",
                        exitCode: .usage, usage: true)
                }
                return DNSServer(address: address, text: entry)
            }
        }
    }
}
