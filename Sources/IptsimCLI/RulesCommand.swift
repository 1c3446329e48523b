import ArgumentParser
import Foundation
import IptablesSave
import IstioCapture
import IstioIptablesCLI
import Netfilter
import PacketModel

#if canImport(Glibc)
    import Glibc
#endif

/// `iptsim rules SOURCE [--format restore|save]`.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Show a pod's rule table, as iptables-restore input or exactly as iptables-save prints it.",
        discussion: """
            SOURCE is --rules FILE (iptables-save output or iptables-restore input; --rules6 FILE for IPv6), --pod MANIFEST.yaml (a pod or workload manifest: its istio-init arguments, see `iptsim pod`; arguments after `--` are added), or istio-iptables arguments after `--`.

            --format restore prints the statements as written (Istio's style for generated rules); --format save prints what `iptables-save` shows once they are loaded into an empty namespace: normalised options, hex marks, sorted user chains, [0:0] counters. User and group names are resolved with this machine's /etc/passwd and /etc/group, as iptables does.

            Examples:
              iptsim rules --format save -- -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*' --enable-ipv6=false
              iptsim rules --rules pod.iptables-save --format save
              iptsim rules --pod httpbin-pod-injected.yaml --format save
            """)

    enum Format: String, ExpressibleByArgument {
        case restore
        case save
        case json
        case dot
    }

    @Option(help: "iptables-save / iptables-restore text for IPv4.")
    var rules: String?

    @Option(help: "iptables-save / iptables-restore text for IPv6.")
    var rules6: String?

    @Option(help: "A pod manifest: the rules its istio-init writes (see iptsim pod).")
    var pod: String?

    @Option(help: "restore, save, json (schema iptsim.rules/v1) or dot (Graphviz).")
    var format: Format = .restore

    @Option(help: "Only this family: ipv4 or ipv6.")
    var family: String?

    @Flag(help: "Add iptables-save's # Generated/# Completed lines.")
    var banner = false

    @Argument(parsing: .postTerminator, help: "istio-iptables arguments, after --.")
    var istioIptablesArguments: [String] = []

    func run() throws {
        let output = RulesReport.run(
            rulesFile: rules, rules6File: rules6, arguments: istioIptablesArguments, format: format.rawValue,
            family: family, banner: banner, environment: ProcessInfo.processInfo.environment, podFile: pod)
        FileHandle.standardOutput.write(Data(output.stdout.utf8))
        FileHandle.standardError.write(Data(output.stderr.utf8))
        if output.exitCode != 0 { throw ExitCode(output.exitCode) }
    }
}

/// `iptsim rules` without the terminator (tests call this).
public enum RulesReport {
    public struct Output: Sendable {
        public var stdout = ""
        public var stderr = ""
        public var exitCode: Int32 = 0
    }

    public static func run(
        rulesFile: String?, rules6File: String?, arguments: [String], format: String, family: String?,
        banner: Bool,
        environment: [String: String], machine: any Machine = LiveMachine(), podFile: String? = nil
    ) -> Output {
        var output = Output()
        var documents: [RestoreDocument] = []
        var environment = environment
        var machine = machine
        var arguments = arguments
        if let podFile {
            switch PodRuleSource.resolve(path: podFile, extraArguments: arguments) {
            case .failure(let failure):
                output.stderr += "error: \(failure)\n"
                output.exitCode = 1
                return output
            case .success(let source):
                for note in source.notes { output.stderr += "note: \(note)\n" }
                (environment, machine, arguments) = (source.environment, source.machine, source.arguments)
            }
        }
        if rulesFile != nil || rules6File != nil {
            for (path, documentFamily) in [(rulesFile, IPFamily.ipv4), (rules6File, .ipv6)] {
                guard let path else { continue }
                guard let data = FileManager.default.contents(atPath: path) else {
                    output.stderr += "error: cannot read \(path)\n"
                    output.exitCode = 1
                    return output
                }
                switch RestoreParser.parse(String(decoding: data, as: UTF8.self), family: documentFamily) {
                case .failure(let error):
                    output.stderr += "error: \(path): \(error)\n"
                    output.exitCode = 1
                    return output
                case .success(let document): documents.append(document)
                }
            }
        } else {
            switch IstioIptablesCommand(environment: environment, machine: machine).ruleSet(arguments) {
            case .failure(let error):
                output.stderr += "error: \(error)\n"
                output.exitCode = error.exitCode.rawValue
                return output
            case .success(let result):
                for documentFamily in IPFamily.allCases {
                    let rules = result.rules[documentFamily]
                    if documentFamily == .ipv6 && rules.isEmpty { continue }
                    let text = RuleText.restore(rules, layout: result.release.layout)
                    guard case .success(let document) = RestoreParser.parse(text, family: documentFamily)
                    else {
                        output.stderr += "internal error: generated rules do not parse\n"
                        output.exitCode = 70
                        return output
                    }
                    documents.append(document)
                }
            }
        }
        if let family { documents = documents.filter { $0.family.rawValue == family } }
        let renderer = SaveRenderer(resolveOwner: SystemNames.resolve, banner: banner ? "iptsim" : nil)
        for (index, document) in documents.enumerated() {
            if index > 0 && format != "json" && format != "dot" {
                output.stdout += "# \(document.family == .ipv4 ? "iptables" : "ip6tables")\n"
            }
            if format == "restore" {
                output.stdout += RestoreRenderer.render(document)
                continue
            }
            let tables: RuleTables
            do {
                tables = try RuleTables(document)
            } catch {
                output.stderr += "error: \(error)\n"
                output.exitCode = 1
                return output
            }
            // What the kernel would refuse to load (iptables-restore: "Invalid argument").
            let problems = HookValidation.problems(tables)
            if !problems.isEmpty {
                for problem in problems { output.stderr += "error: \(problem)\n" }
                output.exitCode = 1
                return output
            }
            switch format {
            case "json": output.stdout += JSONRenderer(save: renderer).render(tables)
            case "dot": output.stdout += DOTRenderer().render(tables)
            default: output.stdout += renderer.render(tables)
            }
        }
        return output
    }
}

/// User and group names as this machine's /etc/passwd and /etc/group give them.
enum SystemNames {
    @Sendable static func resolve(_ kind: OwnerMatch.Kind, _ name: String) -> UInt32? {
        switch kind {
        case .uid: getpwnam(name).map { $0.pointee.pw_uid }
        case .gid: getgrnam(name).map { $0.pointee.gr_gid }
        case .socketExists: nil
        }
    }
}
