import Netfilter
import PacketModel

/// What `--golden-format` selects: the records of upstream's own tests.
public enum GoldenFormat: String, Hashable, Sendable, CaseIterable {
    case commandsV4 = "commands-v4"
    case commandsV6 = "commands-v6"
    case commands
    case transcript
}

/// The settings that decide what a release's dry run records, beyond the rules themselves.
public struct ApplySettings: Hashable, Sendable {
    /// `--restore-format` (1.22–1.23 only; later releases always restore).
    public var restoreFormat = true
    public var cleanupOnly = false
    public var forceApply = false

    public init(restoreFormat: Bool = true, cleanupOnly: Bool = false, forceApply: Bool = false) {
        self.restoreFormat = restoreFormat
        self.cleanupOnly = cleanupOnly
        self.forceApply = forceApply
    }
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

    /// The lines upstream's test stub records (`DependenciesStub.ExecutedAll`), one per command,
    /// restore input line by line.
    public var transcript: [String] {
        var lines: [String] = []
        switch release.output {
        case .perCommandOrRestore:
            if apply.restoreFormat {
                lines += restoreLines(restoreV4)
                lines += restoreLines(restoreV6)
            } else {
                lines += RuleText.commands(rules.v4, family: .ipv4)
                lines += RuleText.commands(rules.v6, family: .ipv6)
            }
        case .verifiedRestore:
            // State check against an empty machine: always "clean, apply".
            lines += ["iptables-save", "ip6tables-save"]
            if !apply.cleanupOnly {
                lines += restoreLines(restoreV4)
                if enableIPv6 { lines += restoreLines(restoreV6) }
            }
        }
        lines.append("iptables-save")
        if enableIPv6 { lines.append("ip6tables-save") }
        return lines
    }

    public func golden(_ format: GoldenFormat) -> [String] {
        switch format {
        case .commandsV4: RuleText.commands(rules.v4, family: .ipv4)
        case .commandsV6: RuleText.commands(rules.v6, family: .ipv6)
        case .commands: RuleText.commands(rules.v4, family: .ipv4) + RuleText.commands(rules.v6, family: .ipv6)
        case .transcript: transcript
        }
    }

    private func restoreLines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }
}
