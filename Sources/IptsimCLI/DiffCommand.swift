import ArgumentParser
import Foundation
import IstioCapture
import IstioIptablesCLI
import Netfilter
import PacketModel

/// `iptsim diff --from A --to B -- <istio-iptables args>`.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What changed between the rules two Istio releases write for the same command line.",
        discussion: """
            Both releases get the same istio-iptables arguments (after `--`) and the same environment. Rules are compared chain by chain in the order the kernel holds them (after every -I):
            added, removed, moved (within a chain, or to another chain). Then what the changes mean for traffic. Pass --enable-ipv6=true|false among the arguments to make the comparison independent of this machine's interfaces.

            Examples:
              iptsim diff --from 1.10.0 --to 1.30 -- -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020
              iptsim diff --from 1.24 --to 1.25 --json -- --redirect-dns --dns-servers-v4 10.96.0.10 -i '*' --enable-ipv6=false
            """)

    @Option(help: "The older release (X.Y or X.Y.Z).")
    var from: String

    @Option(help: "The newer release (X.Y or X.Y.Z).")
    var to: String

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    @Argument(parsing: .postTerminator, help: "istio-iptables arguments, after --.")
    var istioIptablesArguments: [String] = []

    func run() throws {
        let output = DiffReport.run(
            from: from, to: to, arguments: istioIptablesArguments,
            environment: ProcessInfo.processInfo.environment,
            json: json)
        FileHandle.standardOutput.write(Data(output.stdout.utf8))
        FileHandle.standardError.write(Data(output.stderr.utf8))
        if output.exitCode != 0 { throw ExitCode(output.exitCode) }
    }
}

/// The diff, computed and rendered without touching the terminal (tests call this).
public enum DiffReport {
    public struct Output: Sendable {
        public var stdout = ""
        public var stderr = ""
        public var exitCode: Int32 = 0
    }

    public static func run(
        from: String, to: String, arguments: [String], environment: [String: String], json: Bool,
        machine: any Machine = LiveMachine()
    ) -> Output {
        var output = Output()
        let command = IstioIptablesCommand(environment: environment, machine: machine)
        var sides: [RuleSetResult] = []
        for version in [from, to] {
            switch command.ruleSet(["--istio-version", version] + arguments) {
            case .failure(let error):
                output.stderr += "error: release \(version): \(error)\n"
                output.exitCode = error.exitCode.rawValue
                return output
            case .success(let result):
                sides.append(result)
            }
        }
        let diff = RuleSetDiff(from: sides[0].rules, to: sides[1].rules)
        output.stdout = json ? renderJSON(diff, sides[0], sides[1]) : renderText(diff, sides[0], sides[1])
        return output
    }

    static func location(_ change: RuleSetDiff.Change) -> String {
        "\(change.family == .ipv4 ? "iptables" : "ip6tables") \(change.table) \(change.chain)"
    }

    static func renderText(_ diff: RuleSetDiff, _ old: RuleSetResult, _ new: RuleSetResult) -> String {
        var text = "istio-iptables \(old.release.version) -> \(new.release.version): "
        let count = { (kind: RuleSetDiff.Kind) in diff.changes.filter { $0.kind == kind }.count }
        text += "\(count(.added)) added, \(count(.removed)) removed, \(count(.moved)) moved"
        text +=
            " (\(old.rules.v4.count + old.rules.v6.count) -> \(new.rules.v4.count + new.rules.v6.count) rules)\n"
        if diff.isEmpty {
            return text + "The two releases write the same rules for these arguments.\n"
        }
        if !diff.meanings.isEmpty {
            text += "\nWhat it means for traffic:\n"
            for meaning in diff.meanings { text += "  * \(meaning)\n" }
        }
        for kind in [RuleSetDiff.Kind.removed, .added, .moved] {
            let changes = diff.changes.filter { $0.kind == kind }
            guard !changes.isEmpty else { continue }
            text += "\n\(kind.rawValue.capitalized):\n"
            for change in changes {
                let sign = kind == .added ? "+" : kind == .removed ? "-" : "~"
                var where_ = "\(location(change)) #\(change.position)"
                if kind == .moved {
                    where_ = "\(location(change)) #\(change.fromPosition ?? 0) -> "
                    where_ += change.fromChain.map { "\($0) #\(change.position)" } ?? "#\(change.position)"
                    if let fromChain = change.fromChain {
                        where_ =
                            "\(change.family == .ipv4 ? "iptables" : "ip6tables") \(change.table) \(fromChain) #\(change.fromPosition ?? 0) -> \(change.chain) #\(change.position)"
                    }
                }
                text += "  \(sign) [\(where_)] \(change.rule)\n      \(change.reason)\n"
            }
        }
        return text
    }

    static func renderJSON(_ diff: RuleSetDiff, _ old: RuleSetResult, _ new: RuleSetResult) -> String {
        let changes: [[String: Any]] = diff.changes.map { change in
            var object: [String: Any] = [
                "kind": change.kind.rawValue, "family": change.family == .ipv4 ? "ipv4" : "ipv6",
                "table": change.table.rawValue, "chain": change.chain.rawValue, "rule": change.rule,
                "position": change.position, "reason": change.reason,
            ]
            if let fromChain = change.fromChain { object["from_chain"] = fromChain.rawValue }
            if let fromPosition = change.fromPosition { object["from_position"] = fromPosition }
            return object
        }
        let object: [String: Any] = [
            "schema": "iptsim.diff/v1", "from": old.release.version.description,
            "to": new.release.version.description,
            "changes": changes, "meanings": diff.meanings,
        ]
        let data =
            (try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
