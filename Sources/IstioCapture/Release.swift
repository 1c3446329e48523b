/// Everything that distinguishes one Istio release's `istio-iptables` from another, in one place.
///
/// Each row of `Release.all` is one release; the columns are the rule-layout switches the
/// generator reads (`RuleLayout`), the way the binary reports what it did (`OutputStyle`) and
/// which flags it has (`FlagCatalog`, keyed by the same version). Add a release by adding a row.
public struct Release: Hashable, Sendable {
    public let version: IstioVersion
    /// The patch releases this row stands for (the row's own patch is the newest of them).
    public let patches: ClosedRange<Int>
    public let layout: RuleLayout
    public let output: OutputStyle
    public let cli: CLIBehaviour

    public init(
        _ version: IstioVersion, patches: ClosedRange<Int>? = nil, layout: RuleLayout, output: OutputStyle,
        cli: CLIBehaviour
    ) {
        self.version = version
        self.patches = patches ?? 0...version.patch
        self.layout = layout
        self.output = output
        self.cli = cli
    }

    /// Releases this emulator knows, oldest first.
    public static let all: [Release] = [
        Release("1.10.0", patches: 0...2, layout: .v1_10_0, output: .v1_10, cli: .v1_10),
        Release("1.10.6", patches: 3...6, layout: .v1_10_6, output: .v1_10, cli: .v1_10),
        Release("1.11.8", layout: .v1_11, output: .v1_10, cli: .v1_11),
        Release("1.12.9", layout: .v1_12, output: .v1_10, cli: .v1_11),
        Release("1.13.9", layout: .v1_13, output: .v1_10, cli: .v1_11),
        Release("1.14.6", layout: .v1_13, output: .v1_10, cli: .v1_14),
        Release("1.15.7", layout: .v1_13, output: .v1_10, cli: .v1_14),
        Release("1.16.7", layout: .v1_13, output: .v1_10, cli: .v1_16),
        Release("1.17.8", layout: .v1_17, output: .v1_10, cli: .v1_17),
        Release("1.18.7", layout: .v1_18, output: .v1_10, cli: .v1_17),
        Release("1.19.10", layout: .v1_19, output: .v1_10, cli: .v1_19),
        Release("1.20.8", layout: .v1_20, output: .v1_10, cli: .v1_19),
        Release("1.21.6", layout: .v1_21, output: .v1_10, cli: .v1_21),
        Release("1.22.8", layout: .v1_22, output: .v1_22, cli: .v1_22),
        Release("1.23.6", layout: .v1_23, output: .v1_23, cli: .v1_22),
        Release("1.24.6", layout: .v1_24, output: .v1_24, cli: .v1_24),
        Release("1.25.5", layout: .v1_25, output: .v1_25, cli: .v1_24),
        Release("1.26.8", layout: .v1_25, output: .v1_25, cli: .v1_24),
        Release("1.27.9", layout: .v1_25, output: .v1_27, cli: .v1_27),
        Release("1.28.10", layout: .v1_25, output: .v1_27, cli: .v1_28),
        Release("1.29.6", layout: .v1_25, output: .v1_27, cli: .v1_28),
        Release("1.30.3", layout: .v1_25, output: .v1_27, cli: .v1_28),
    ]

    public static var newest: Release { all.last! }

    /// `1.30` → the newest known 1.30.x; `1.30.1` → the row that covers that patch (the newest
    /// row of its minor, unless an earlier patch is listed because its behaviour differs).
    public static func resolve(_ request: String) -> Result<Release, ReleaseLookupError> {
        guard let parsed = IstioVersion.parseRequest(request) else {
            return .failure(.init(requested: request, known: all.map(\.version)))
        }
        let sameMinor = all.filter { $0.version.major == parsed.major && $0.version.minor == parsed.minor }
        guard let newestOfMinor = sameMinor.last else {
            return .failure(.init(requested: request, known: all.map(\.version)))
        }
        guard let patch = parsed.patch else { return .success(newestOfMinor) }
        guard let row = sameMinor.first(where: { $0.patches.contains(patch) }) else {
            return .failure(.init(requested: request, known: all.map(\.version)))
        }
        return .success(row)
    }
}

public struct ReleaseLookupError: Error, Equatable, Sendable, CustomStringConvertible {
    public let requested: String
    public let known: [IstioVersion]

    public var description: String {
        let minors = known.map { "\($0.major).\($0.minor)" }
        var seen = Set<String>()
        let unique = minors.filter { seen.insert($0).inserted }
        return "unknown Istio release \(goQuote(requested)); known releases: "
            + unique.joined(separator: ", ") + " (a minor means its newest patch: "
            + known.map(\.description).joined(separator: ", ") + ")"
    }

    private func goQuote(_ text: String) -> String { "\"\(text)\"" }
}

/// Rule-layout switches: each is a behaviour change between releases, named for what it does.
public struct RuleLayout: Hashable, Sendable {
    /// Where UDP DNS capture lives.
    public enum DNSLayout: Hashable, Sendable {
        /// ≤1.22: UDP rules in the built-in nat/raw OUTPUT chains; TCP in ISTIO_OUTPUT.
        case builtinOutputChains
        /// 1.23–1.24: `-A OUTPUT -p udp -j ISTIO_OUTPUT` (nat and raw); UDP rules in ISTIO_OUTPUT.
        case istioOutputChain
        /// 1.25+: ISTIO_OUTPUT_DNS (nat and raw) and raw ISTIO_INBOUND.
        case dedicatedChains
    }

    /// How `--iptables-trace-logging` shows up in the rules.
    public enum TraceLogging: Hashable, Sendable {
        /// NFLOG rules with a Go-quoted prefix (≤1.23).
        case nflogQuotedPrefix
        /// NFLOG rules with a bare prefix (1.24).
        case nflogPlainPrefix
        /// Accepted but without effect (1.25).
        case none
    }

    public var dns: DNSLayout
    /// `-A OUTPUT -p tcp -j ISTIO_OUTPUT` (≤1.24) rather than `-A OUTPUT -j ISTIO_OUTPUT`.
    public var outboundJumpIsTCPOnly: Bool
    /// ≤1.22: `-A ISTIO_OUTPUT -j RETURN` after the included CIDRs.
    public var includedRangesEndWithReturn: Bool
    /// 1.24+: INVALID packets go to an ISTIO_DROP chain rather than straight to DROP.
    public var dropInvalidViaChain: Bool
    public var traceLogging: TraceLogging
    /// 1.25+: excluded outbound ports also return UDP.
    public var outboundPortExclusionCoversUDP: Bool
    /// 1.25+: redirect-dns without capture-all and without nameservers captures nothing.
    public var dnsCaptureNeedsServers: Bool
    /// 1.24+: restore text declares (`-N`) chains that are only jumped to.
    public var restoreDeclaresJumpTargets: Bool
    /// ≤1.12: with `-b '*'`, `--dport 22` (SSH) returns before the excluded ports.
    public var sshPortExcluded = false
    /// 1.18+: the proxy's loopback re-redirect to inbound skips the tunnel port (15008).
    public var loopbackRedirectSkipsTunnelPort = true
    /// 1.20+: the nameserver-answer conntrack rule matches `-s SERVER` (before: `-d`, a bug).
    public var dnsAnswerZoneMatchesSource = true
    /// 1.10–1.11: a different generator (IPv6 in its own pass, DNS for IPv4 only).
    public var legacy: LegacyLayout?

    func with(_ change: (inout RuleLayout) -> Void) -> RuleLayout {
        var copy = self
        change(&copy)
        return copy
    }

    static let v1_21 = v1_22
    static let v1_20 = v1_21
    static let v1_19 = v1_20.with { $0.dnsAnswerZoneMatchesSource = false }
    static let v1_18 = v1_19
    static let v1_17 = v1_18.with { $0.loopbackRedirectSkipsTunnelPort = false }
    static let v1_13 = v1_17
    static let v1_12 = v1_13.with { $0.sshPortExcluded = true }
    static let v1_11 = v1_12.with {
        $0.legacy = LegacyLayout(
            tproxyOutputMarks: true, ipv6OutboundPortsIncluded: true, dnsConntrackZones: .always)
    }
    static let v1_10_6 = v1_12.with {
        $0.legacy = LegacyLayout(
            tproxyOutputMarks: false, ipv6OutboundPortsIncluded: true, dnsConntrackZones: .whenEnabled)
    }
    static let v1_10_0 = v1_12.with {
        $0.legacy = LegacyLayout(
            tproxyOutputMarks: false, ipv6OutboundPortsIncluded: false, dnsConntrackZones: .never)
    }

    static let v1_22 = RuleLayout(
        dns: .builtinOutputChains, outboundJumpIsTCPOnly: true, includedRangesEndWithReturn: true,
        dropInvalidViaChain: false, traceLogging: .nflogQuotedPrefix, outboundPortExclusionCoversUDP: false,
        dnsCaptureNeedsServers: false, restoreDeclaresJumpTargets: false)
    static let v1_23 = RuleLayout(
        dns: .istioOutputChain, outboundJumpIsTCPOnly: true, includedRangesEndWithReturn: false,
        dropInvalidViaChain: false, traceLogging: .nflogQuotedPrefix, outboundPortExclusionCoversUDP: false,
        dnsCaptureNeedsServers: false, restoreDeclaresJumpTargets: false)
    static let v1_24 = RuleLayout(
        dns: .istioOutputChain, outboundJumpIsTCPOnly: true, includedRangesEndWithReturn: false,
        dropInvalidViaChain: true, traceLogging: .nflogPlainPrefix, outboundPortExclusionCoversUDP: false,
        dnsCaptureNeedsServers: false, restoreDeclaresJumpTargets: true)
    static let v1_25 = RuleLayout(
        dns: .dedicatedChains, outboundJumpIsTCPOnly: false, includedRangesEndWithReturn: false,
        dropInvalidViaChain: true, traceLogging: .none, outboundPortExclusionCoversUDP: true,
        dnsCaptureNeedsServers: true, restoreDeclaresJumpTargets: true)
}

/// The 1.10–1.11 configurator (`pkg/cmd/run.go`): IPv4 rules in one pass, IPv6 rules in a
/// simpler pass of their own (no TPROXY, no DNS), DNS capture for IPv4 only.
public struct LegacyLayout: Hashable, Sendable {
    public enum ConntrackZones: Hashable, Sendable {
        case never
        /// 1.10.3–1.10.6: only with `ISTIO_META_DNS_CONNTRACK_ZONE=true`.
        case whenEnabled
        case always
    }

    /// 1.11: mangle OUTPUT marks Envoy->app traffic (1338) and ISTIO_INBOUND skips it.
    public var tproxyOutputMarks: Bool
    /// 1.10.6+: `-q` ports also in the IPv6 pass.
    public var ipv6OutboundPortsIncluded: Bool
    public var dnsConntrackZones: ConntrackZones
}

/// How a release applies its rules, which is what its dry run records.
public struct OutputStyle: Hashable, Sendable {
    public enum Apply: Hashable, Sendable {
        /// 1.22–1.23: `--restore-format` (default true) picks iptables-restore text or one
        /// `iptables …` command per rule; then `iptables-save` (and `ip6tables-save`).
        case perCommandOrRestore
        /// 1.24+: `iptables-save`/`ip6tables-save` to verify state, `iptables-restore --noflush`,
        /// then the saves.
        case verifiedRestore
    }

    public enum TableOrder: Hashable, Sendable {
        /// Go map order: random per run upstream; we print them sorted.
        case unordered
        case sorted
    }

    public var apply: Apply
    public var tableOrder: TableOrder
    /// ≤1.26: the ip6tables restore (and cleanup) steps run even when IPv6 is off, with no rules.
    public var ipv6StepsWithoutIPv6: Bool
    /// 1.25+: logs "Final iptables state (IPv4):" with the iptables-save output.
    public var logsFinalState: Bool

    public var hasRestoreFormatFlag: Bool { apply == .perCommandOrRestore }

    static let v1_10 = OutputStyle(
        apply: .perCommandOrRestore, tableOrder: .unordered, ipv6StepsWithoutIPv6: true, logsFinalState: false
    )
    static let v1_22 = OutputStyle(
        apply: .perCommandOrRestore, tableOrder: .unordered, ipv6StepsWithoutIPv6: true, logsFinalState: false
    )
    static let v1_23 = OutputStyle(
        apply: .perCommandOrRestore, tableOrder: .sorted, ipv6StepsWithoutIPv6: true, logsFinalState: false)
    static let v1_24 = OutputStyle(
        apply: .verifiedRestore, tableOrder: .sorted, ipv6StepsWithoutIPv6: true, logsFinalState: false)
    static let v1_25 = OutputStyle(
        apply: .verifiedRestore, tableOrder: .sorted, ipv6StepsWithoutIPv6: true, logsFinalState: true)
    static let v1_27 = OutputStyle(
        apply: .verifiedRestore, tableOrder: .sorted, ipv6StepsWithoutIPv6: false, logsFinalState: true)
}

/// Command-line behaviour that changed between releases (beyond which flags exist).
public struct CLIBehaviour: Hashable, Sendable {
    /// How `-i`/`-x` entries are parsed.
    public enum CIDRParser: Hashable, Sendable {
        /// ≤1.15 `net.ParseCIDR`: the network is printed masked, v4-mapped addresses count as IPv4.
        case netParseCIDR
        /// 1.16+ `netip.ParsePrefix`: printed as written.
        case netipParsePrefix
    }

    /// 1.27+: a bad CIDR in `-i`/`-x` stops the run; before, it was skipped with a notice on stderr.
    public var invalidCIDRsAreFatal: Bool
    /// Header of the configuration dump.
    public var configDumpHeader: String
    /// Configuration dump lines that only some releases print.
    public var dumpsApplyModes: Bool
    public var dumpsNativeNftables: Bool
    public var dumpsForceIptablesBinary: Bool

    public var cidrParser = CIDRParser.netipParsePrefix
    /// How a failure to read the machine (no pod address, no resolv.conf) ends the run.
    public enum MachineFailure: Hashable, Sendable {
        /// ≤1.18: a Go panic, exit status 2.
        case panic
        /// 1.19–1.21: `log.Fatal`, a `fatal` record and exit status 1.
        case fatal
        /// 1.22+: an `error` record and exit status 1.
        case error
    }
    public var machineFailure = MachineFailure.error
    /// ≤1.16 istio-init ran the standalone `istio-iptables` (cobra: exit 1 and the usage on a bad
    /// command line); later releases run `pilot-agent istio-iptables` (exit 255, no usage).
    public var standaloneBinary = false
    /// ≤1.18: `-x '*'` panics (exit status 2) instead of returning an error.
    public var excludeWildcardPanics = false
    /// ≤1.18 (viper): an empty environment variable counts as unset.
    public var emptyEnvironmentIgnored = false
    /// ISTIO_OUTBOUND_OWNER_GROUPS[_EXCLUDE] are read (1.14+).
    public var readsOwnerGroups = true
    /// ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR is read and validated (1.21+).
    public var readsLoopbackCIDR = true

    func with(_ change: (inout CLIBehaviour) -> Void) -> CLIBehaviour {
        var copy = self
        change(&copy)
        return copy
    }

    static let v1_21 = v1_22.with { $0.machineFailure = .fatal }
    static let v1_19 = v1_21.with { $0.readsLoopbackCIDR = false }
    static let v1_17 = v1_19.with {
        $0.excludeWildcardPanics = true
        $0.emptyEnvironmentIgnored = true
        $0.machineFailure = .panic
    }
    static let v1_16 = v1_17.with { $0.standaloneBinary = true }
    static let v1_14 = v1_16.with { $0.cidrParser = .netParseCIDR }
    static let v1_11 = v1_14.with { $0.readsOwnerGroups = false }
    static let v1_10 = v1_11

    static let v1_22 = CLIBehaviour(
        invalidCIDRsAreFatal: false, configDumpHeader: "Istio iptables variables:", dumpsApplyModes: false,
        dumpsNativeNftables: false, dumpsForceIptablesBinary: false)
    static let v1_24 = CLIBehaviour(
        invalidCIDRsAreFatal: false, configDumpHeader: "Istio iptables variables:", dumpsApplyModes: true,
        dumpsNativeNftables: false, dumpsForceIptablesBinary: false)
    static let v1_27 = CLIBehaviour(
        invalidCIDRsAreFatal: true, configDumpHeader: "Istio config:", dumpsApplyModes: true,
        dumpsNativeNftables: true,
        dumpsForceIptablesBinary: false)
    static let v1_28 = CLIBehaviour(
        invalidCIDRsAreFatal: true, configDumpHeader: "Istio config:", dumpsApplyModes: true,
        dumpsNativeNftables: true,
        dumpsForceIptablesBinary: true)
}
