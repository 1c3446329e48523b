import Netfilter
import PacketModel

/// Settings that decide how the rules are applied (not which rules).
public struct ApplySettings: Hashable, Sendable {
    /// `--restore-format` (1.22–1.23 only; later releases always restore).
    public var restoreFormat = true
    public var cleanupOnly = false
    public var forceApply = false
    public var reconcile = false

    public init(
        restoreFormat: Bool = true, cleanupOnly: Bool = false, forceApply: Bool = false,
        reconcile: Bool = false
    ) {
        self.restoreFormat = restoreFormat
        self.cleanupOnly = cleanupOnly
        self.forceApply = forceApply
        self.reconcile = reconcile
    }
}

/// How a release applies its rules (`executeCommands` and its deferred saves), over any
/// executor: with `RecordingExecutor` it yields the dry-run transcript, with a real one it
/// changes the kernel.
public struct ApplyProcedure {
    public let release: Release
    public let rules: GeneratedRules
    public let enableIPv6: Bool
    public let settings: ApplySettings

    public init(release: Release, rules: GeneratedRules, enableIPv6: Bool, settings: ApplySettings) {
        self.release = release
        self.rules = rules
        self.enableIPv6 = enableIPv6
        self.settings = settings
    }

    /// Runs the procedure; returns the log messages upstream would print, or the failure.
    public func execute<E: IptablesExecutor>(_ executor: inout E) -> Result<[String], ExecutionFailure> {
        var log: [String] = []
        let outcome: Result<Void, ExecutionFailure>
        switch release.output.apply {
        case .perCommandOrRestore:
            outcome = applyWithoutVerification(&executor, &log)
        case .verifiedRestore:
            outcome = applyVerified(&executor, &log)
        }
        // The deferred final saves run whatever happened.
        for family in enableIPv6 ? [IPFamily.ipv4, .ipv6] : [.ipv4] {
            let state = executor.save(family)
            if release.output.logsFinalState, let state {
                log.append("Final iptables state (\(family == .ipv4 ? "IPv4" : "IPv6")):\n\(state)")
            }
        }
        return outcome.map { log }.mapError { failure in
            ExecutionFailure(failure.description, log: log)
        }
    }

    private func restore<E: IptablesExecutor>(
        _ executor: inout E, _ family: IPFamily, _ log: inout [String]
    ) -> Result<Void, ExecutionFailure> {
        let text = restoreText(family)
        let tool = family == .ipv4 ? "iptables-restore" : "ip6tables-restore"
        log.append(
            "Running iptables restore with: \(tool) and the following input:\n\(text.trimmingCharacters())")
        return executor.restore(family, text)
    }

    private func restoreText(_ family: IPFamily) -> String {
        RuleText.restore(rules[family], layout: release.layout)
    }

    /// 1.22–1.23: restore (or one command per rule) for IPv4, then IPv6.
    private func applyWithoutVerification<E: IptablesExecutor>(
        _ executor: inout E, _ log: inout [String]
    ) -> Result<Void, ExecutionFailure> {
        for family in IPFamily.allCases {
            if settings.restoreFormat {
                if case .failure(let failure) = restore(&executor, family, &log) { return .failure(failure) }
            } else {
                for command in RuleText.commandArguments(rules[family])
                where !executor.run(family, command, quietly: false) {
                    return .failure(
                        ExecutionFailure(
                            "\(RecordingExecutor.binary(family)) \(command.joined(separator: " ")) failed"))
                }
            }
        }
        return .success(())
    }

    /// 1.24+: compare with the machine's state, clean up when asked, restore when needed.
    private func applyVerified<E: IptablesExecutor>(_ executor: inout E, _ log: inout [String]) -> Result<
        Void, ExecutionFailure
    > {
        let (residue, delta) = verifyState(&executor, &log)
        if residue && delta && !settings.reconcile {
            log.append(
                "reconcile is recommended but no-reconcile flag is set. Unexpected behavior may occur due to preexisting iptables rules"
            )
        }
        var families: [IPFamily] = [.ipv4]
        if enableIPv6 || release.output.ipv6StepsWithoutIPv6 { families.append(.ipv6) }
        var guardrails = false
        defer {
            if guardrails {
                for family in families {
                    for command in RuleText.guardrailCleanup() {
                        _ = executor.run(family, command, quietly: false)
                    }
                }
            }
        }
        if (residue && delta && settings.reconcile) || settings.cleanupOnly {
            if !settings.cleanupOnly {
                log.append("Setting up guardrails")
                for family in families {
                    for command in RuleText.guardrailCleanup() {
                        _ = executor.run(family, command, quietly: true)
                    }
                    for command in RuleText.guardrails() where !executor.run(family, command, quietly: false)
                    {
                        return .failure(
                            ExecutionFailure("adding guardrail \(command.joined(separator: " ")) failed"))
                    }
                    guardrails = true
                }
            }
            log.append("Performing cleanup of existing iptables")
            for family in families {
                for command in RuleText.cleanupArguments(rules[family]) {
                    _ = executor.run(family, command, quietly: true)
                }
            }
        }
        if (delta || settings.forceApply) && !settings.cleanupOnly {
            log.append("Applying iptables chains and rules")
            for family in families {
                if case .failure(let failure) = restore(&executor, family, &log) { return .failure(failure) }
            }
        }
        if !delta && settings.forceApply {
            log.append(
                "The forced apply of iptables changes succeeded despite the presence of conflicting rules or chains."
            )
        }
        return .success(())
    }

    /// `VerifyIptablesState`: residues of earlier runs, and whether they differ from what we
    /// would write (chains, rule counts in ISTIO_ chains, `iptables -C` of every rule).
    func verifyState<E: IptablesExecutor>(_ executor: inout E, _ log: inout [String]) -> (
        residue: Bool, delta: Bool
    ) {
        var anyResidue = false
        var anyDelta = false
        for family in IPFamily.allCases {
            let expected = SavedState(restoreText(family))
            let planned = !expected.isEmpty
            var residue = false
            var delta = false
            if let saved = executor.save(family) {
                let current = SavedState(saved)
                residue = !current.isEmpty
                if !residue {
                    delta = planned
                } else {
                    delta = expected.differs(from: current)
                    if !delta {
                        for command in RuleText.checkArguments(rules[family])
                        where !executor.run(family, command, quietly: true) {
                            delta = true
                            break
                        }
                    }
                }
            } else {
                log.append(
                    "[\(family == .ipv4 ? "IPv4" : "IPv6")] iptables-save failed. Assuming clean state.")
                delta = planned
            }
            anyDelta = anyDelta || delta
            if residue && planned { anyResidue = true }
        }
        if !anyResidue {
            log.append("Clean-state detected, new iptables are needed")
            return (false, true)
        }
        log.append(
            anyDelta
                ? "Found residues of old iptables rules/chains, reconciliation is recommended"
                : "Found compatible residues of old iptables rules/chains, reconciliation not needed")
        return (true, anyDelta)
    }
}

/// Upstream's coarse reading of iptables-save text (`GetStateFromSave`): per table, the ISTIO
/// chains and every chain's `-A`/`-I` lines. Deliberately as simple as upstream's, because it
/// decides upstream's behaviour.
struct SavedState {
    private(set) var tables: [String: [String: [String]]] = [:]

    init(_ text: String) {
        for table in ["filter", "nat", "mangle", "raw"] { tables[table] = [:] }
        var table = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            if line.allSatisfy(\.isWhitespace) || line.hasPrefix("#") || line == "COMMIT" { continue }
            if line.hasPrefix("*") {
                table = line.dropFirst().trimmingSpaces()
                continue
            }
            guard tables[table] != nil else { continue }
            if line.hasPrefix(":") {
                guard line.hasPrefix(":ISTIO") else { continue }
                let chain = String(
                    line.split(separator: " ", omittingEmptySubsequences: false)[0].dropFirst())
                if tables[table]![chain] == nil { tables[table]![chain] = [] }
                continue
            }
            let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            var chain = ""
            var add = false
            for (index, word) in words.enumerated() where index + 1 < words.count {
                let next = words[index + 1].trimmingQuotes()
                if ["--append", "-A", "--insert", "-I"].contains(word) {
                    add = true
                    chain = next
                } else if ["--new", "-N"].contains(word) && next.hasPrefix("ISTIO") {
                    chain = next
                }
            }
            guard !chain.isEmpty else { continue }
            if tables[table]![chain] == nil { tables[table]![chain] = [] }
            if add { tables[table]![chain]!.append(line) }
        }
    }

    var isEmpty: Bool { tables.values.allSatisfy(\.isEmpty) }

    /// A chain we expect is missing, an ISTIO chain has another number of rules, or the
    /// machine has an ISTIO chain we would not create.
    func differs(from current: SavedState) -> Bool {
        for (table, chains) in tables {
            guard let currentChains = current.tables[table] else { return true }
            for (chain, rules) in chains {
                guard let currentRules = currentChains[chain] else { return true }
                if chain.hasPrefix("ISTIO_") && rules.count != currentRules.count { return true }
            }
        }
        for (table, chains) in current.tables {
            for chain in chains.keys where chain.hasPrefix("ISTIO_") && tables[table]?[chain] == nil {
                return true
            }
        }
        return false
    }
}

extension StringProtocol {
    /// Go's `strings.TrimSpace` for ASCII white space.
    func trimmingCharacters() -> String {
        let space: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        return String(drop(while: space).reversed().drop(while: space).reversed())
    }

    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    func trimmingQuotes() -> String {
        String(drop { $0 == "'" || $0 == "\"" }.reversed().drop { $0 == "'" || $0 == "\"" }.reversed())
    }
}
