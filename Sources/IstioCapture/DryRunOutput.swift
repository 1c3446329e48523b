import Netfilter
import PacketModel

/// What `--golden-format` selects: the records of upstream's own tests.
public enum GoldenFormat: String, Hashable, Sendable, CaseIterable {
    case commandsV4 = "commands-v4"
    case commandsV6 = "commands-v6"
    case commands
    case transcript
    /// What the real binary prints on stdout in a dry run: its log records (1.11+ logs to stdout).
    case realStdout = "real-stdout"
}

/// The texts a dry run can print, for one release, configuration and set of rules.
public struct DryRunOutput {
    public let release: Release
    public let rules: GeneratedRules
    public let enableIPv6: Bool
    public let apply: ApplySettings

    public init(release: Release, rules: GeneratedRules, enableIPv6: Bool, apply: ApplySettings) {
        self.release = release
        self.rules = rules
        self.enableIPv6 = enableIPv6
        self.apply = apply
    }

    public var restoreV4: String { RuleText.restore(rules.v4, layout: release.layout) }
    public var restoreV6: String { RuleText.restore(rules.v6, layout: release.layout) }

    /// The default `--dry-run` output: the iptables-restore input, IPv4 then (when IPv6 is on)
    /// IPv6 after a `# ip6tables` line.
    public var restoreInput: String {
        var text = restoreV4
        if enableIPv6 {
            text += "# ip6tables\n" + restoreV6
        }
        return text
    }

    /// What `--golden-format` prints; `transcript` is what the apply procedure recorded against
    /// a `RecordingExecutor` (upstream's DependenciesStub.ExecutedAll).
    public func golden(_ format: GoldenFormat, recorded transcript: [String]) -> [String] {
        switch format {
        case .commandsV4: RuleText.commands(rules.v4, family: .ipv4)
        case .commandsV6: RuleText.commands(rules.v6, family: .ipv6)
        case .commands:
            RuleText.commands(rules.v4, family: .ipv4) + RuleText.commands(rules.v6, family: .ipv6)
        case .transcript: transcript
        case .realStdout: []
        }
    }
}
