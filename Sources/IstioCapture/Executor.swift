import PacketModel

/// The external commands the configurator runs (upstream's `dependencies.Dependencies`).
/// A recording implementation is the dry run; the CLI has one that runs the real binaries.
public protocol IptablesExecutor {
    /// `iptables ARGS` / `ip6tables ARGS`; false when the command failed.
    mutating func run(_ family: IPFamily, _ arguments: [String], quietly: Bool) -> Bool
    /// `iptables-save` / `ip6tables-save`; nil when it failed.
    mutating func save(_ family: IPFamily) -> String?
    /// `iptables-restore --noflush` / `ip6tables-restore --noflush` fed `input`.
    mutating func restore(_ family: IPFamily, _ input: String) -> Result<Void, ExecutionFailure>
}

public struct ExecutionFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public let description: String
    /// What was logged before the failure.
    public var log: [String]
    public init(_ description: String, log: [String] = []) {
        self.description = description
        self.log = log
    }
}

/// Upstream's `DependenciesStub`: runs nothing, records every command line and, for a restore,
/// each line of its input (`ExecutedAll`). Saves return an empty machine.
public struct RecordingExecutor: IptablesExecutor {
    public private(set) var lines: [String] = []

    public init() {}

    static func binary(_ family: IPFamily) -> String { family == .ipv4 ? "iptables" : "ip6tables" }

    public mutating func run(_ family: IPFamily, _ arguments: [String], quietly: Bool) -> Bool {
        lines.append(([Self.binary(family)] + arguments).joined(separator: " "))
        return true
    }

    public mutating func save(_ family: IPFamily) -> String? {
        lines.append(Self.binary(family) + "-save")
        return ""
    }

    public mutating func restore(_ family: IPFamily, _ input: String) -> Result<Void, ExecutionFailure> {
        // Go's bufio.Scanner: one entry per line, the final newline ends the last line.
        var text = Substring(input)
        if text.hasSuffix("\n") { text = text.dropLast() }
        if !text.isEmpty {
            lines += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        return .success(())
    }
}
