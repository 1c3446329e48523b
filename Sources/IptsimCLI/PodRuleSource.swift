import IstioCapture
import IstioIptablesCLI
import Kubernetes
import PacketModel

/// A rule SOURCE given as a pod manifest (`--pod FILE`), shared by every subcommand that takes a
/// SOURCE: the pod's istio-init arguments, the environment and machine istio-init would see, and
/// where each flag's value came from.
public struct PodRuleSource: Sendable {
    /// istio-iptables arguments for `IstioIptablesCommand.ruleSet` (release first, logging flags
    /// dropped, the caller's extra arguments last so they win).
    public let arguments: [String]
    /// istio-init's environment (its literal `env`), not this process's.
    public let environment: [String: String]
    /// The pod as istio-init sees it: its own addresses, no resolv.conf.
    public let machine: PodMachine
    /// `status.podIP` when the manifest has one.
    public let podIP: String?
    /// Long flag name (`istio-local-outbound-ports-exclude`) → what produced its value.
    public let origins: [String: String]
    public let report: PodReport
    /// What the user should know (assumed namespace labels, unknown nameservers).
    public let notes: [String]

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Reads `path` and resolves its single pod. A namespace not described in the file is taken
    /// as labelled `istio-injection=enabled`: the rules are what the pod gets once injected.
    public static func resolve(path: String, extraArguments: [String] = []) -> Result<PodRuleSource, Failure>
    {
        do {
            let manifest = try ManifestReader.read(try ManifestFiles.read(path), source: path)
            guard manifest.pods.count == 1, let pod = manifest.pods.first else {
                let names = manifest.pods.map { "\($0.kind) \($0.name)" }.joined(separator: ", ")
                return .failure(
                    Failure(description: "\(path): \(manifest.pods.count) pods (\(names)); keep one"))
            }
            var context = ClusterContext(version: requestedVersion(extraArguments))
            var notes: [String] = []
            if !manifest.namespaces.contains(where: { $0.name == pod.namespace }) {
                context.namespaceLabels = ["istio-injection": "enabled"]
                if !isInjected(pod) {
                    notes.append(
                        "namespace \(pod.namespace) not in \(path): assumed labelled istio-injection=enabled")
                }
            }
            let report = try PodAnalysis.analyze(manifest, context: context)[0]
            guard report.decision.inject else {
                return .failure(
                    Failure(description: "\(path): \(pod.name) is not injected: \(report.decision.reason)"))
            }
            guard let plan = report.plan else {
                return .failure(
                    Failure(
                        description:
                            "\(path): \(pod.name) has no istio-init: \(report.notes.joined(separator: "; "))")
                )
            }
            if plan.cniEnabled {
                return .failure(
                    Failure(
                        description:
                            "\(path): \(pod.name) uses the istio-cni plugin, whose rules are not modelled yet"
                    ))
            }
            // Logging flags are pilot-agent's, not istio-iptables'; they change no rule.
            let ruleArguments = plan.arguments.filter {
                !$0.hasPrefix("--log_output_level") && $0 != "--log_as_json"
            }
            var arguments = ruleArguments + extraArguments
            if context.version == nil {
                arguments = ["--istio-version", report.version.description] + arguments
            }
            let addresses = pod.podIPs.compactMap { try? IPAddress.parse($0).get() }
            if plan.environment["ISTIO_META_DNS_CAPTURE"] == "true"
                || plan.environment["REDIRECT_DNS"] == "true"
            {
                notes.append(
                    "the pod's nameservers are unknown offline: pass --dns-servers-v4 after -- to capture DNS"
                )
            }
            return .success(
                PodRuleSource(
                    arguments: arguments, environment: plan.environment,
                    machine: PodMachine(addresses: addresses),
                    podIP: pod.podIPs.first, origins: longNameOrigins(plan, version: report.version),
                    report: report,
                    notes: notes))
        } catch {
            return .failure(Failure(description: "\(error)"))
        }
    }

    static func isInjected(_ pod: Pod) -> Bool {
        pod.initContainer(named: "istio-init") != nil
            || pod.metadata.annotations["sidecar.istio.io/status"] != nil
    }

    /// `--istio-version X` / `--istio-version=X` among the extra arguments.
    static func requestedVersion(_ arguments: [String]) -> String? {
        for (index, word) in arguments.enumerated() {
            if word == "--istio-version", index + 1 < arguments.count { return arguments[index + 1] }
            if word.hasPrefix("--istio-version=") { return String(word.dropFirst("--istio-version=".count)) }
        }
        return nil
    }

    /// The plan's origins keyed by the flag's long name, as `RuleSetResult.settings` is.
    static func longNameOrigins(_ plan: IstioInitPlan, version: IstioVersion) -> [String: String] {
        let flags = FlagCatalog.flags(
            for: Release.resolve(version.description).map(\.version).get(or: version))
        var origins: [String: String] = [:]
        for (flag, from) in plan.origins {
            let name: String
            if flag.hasPrefix("--") {
                name = String(flag.dropFirst(2))
            } else if let short = flag.dropFirst().first,
                let definition = flags.first(where: { $0.shorthand == short })
            {
                name = definition.name
            } else {
                continue
            }
            let useful = from.filter { !$0.value.isEmpty || from.count == 1 }
            origins[name] = useful.map(\.description).joined(separator: " + ")
        }
        return origins
    }
}

extension Result {
    fileprivate func get(or fallback: Success) -> Success {
        if case .success(let value) = self { return value }
        return fallback
    }
}

/// What istio-iptables reads from "the machine" when it runs in this pod: the pod's addresses
/// (IPv4 when unknown), no resolv.conf, no user database.
public struct PodMachine: Machine {
    public let addresses: [IPAddress]

    public init(addresses: [IPAddress]) { self.addresses = addresses }

    public func userID(named name: String) -> String? { nil }
    public func interfaceAddresses() throws -> [IPAddress] {
        [.v4(.loopback)] + (addresses.isEmpty ? [.v4(IPv4Address(10, 0, 0, 2))] : addresses)
    }
    public func resolvConf() throws -> String { "" }
}
