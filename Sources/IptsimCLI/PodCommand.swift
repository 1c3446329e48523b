import ArgumentParser
import Foundation
import IstioCapture
import Kubernetes

/// `iptsim pod MANIFEST.yaml`: the injection decision and the istio-init arguments.
struct PodCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pod",
        abstract: "Would the sidecar be injected into this pod, why, and with which istio-init arguments?",
        discussion: """
            MANIFEST is what `kubectl apply -f` takes or `kubectl get -o yaml` prints: one or more YAML documents with Pods, workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) or Lists of them. Namespaces in it are used for the decision.

            For each pod it prints the decision as that release's injector takes it: the webhook selectors (namespace label istio-injection=enabled or istio.io/rev, pod label sidecar.istio.io/inject), then the injector's own check (host-network pods and kube-system, kube-public, kube-node-lease, local-path-storage are never injected; sidecar.istio.io/inject as label or annotation, as the release reads it; the policy). Then the istio-init arguments: read from the istio-init container when the pod is injected already, else rendered as that release's injection template does from the traffic.sidecar.istio.io/* annotations and the chart's values (override with --values: Helm values or an IstioOperator, e.g. global.proxy.includeIPRanges). Each argument says which annotation, value or template constant produced it.

            The same manifest is a rule SOURCE for the other subcommands: `iptsim rules --pod FILE`, `iptsim trace --pod FILE --flow …`.

            Examples:
              iptsim pod httpbin.yaml --namespace-labels istio-injection=enabled --istio-version 1.10.0
              iptsim pod httpbin.yaml --namespace ns.yaml --injector-policy disabled
              iptsim pod injected-pod.yaml --json
              iptsim pod app.yaml --values values.yaml --show-webhooks
            """)

    @Argument(help: "The manifest (YAML, several documents allowed).")
    var manifest: String

    @Option(help: "A Namespace manifest (`kubectl get namespace NAME -o yaml`) for the pod's namespace.")
    var namespace: [String] = []

    @Option(help: "The pod's namespace labels instead of --namespace, e.g. istio-injection=enabled.")
    var namespaceLabels: String?

    @Option(
        help:
            "The injector ConfigMap's policy: enabled or disabled (default: values global.proxy.autoInject).")
    var injectorPolicy: String?

    @Option(
        help:
            "The release whose injector and template to emulate (default: the injected pod's image tag, else the newest)."
    )
    var istioVersion: String?

    @Option(help: "The control plane's revision (default: the default revision).")
    var revision: String?

    @Option(help: "Helm values (or an IstioOperator) overriding the chart defaults.")
    var values: String?

    @Flag(help: "Show the injector webhooks' namespaceSelector and objectSelector.")
    var showWebhooks = false

    @Flag(
        help:
            "Print JSON: {\"pods\": [{name, namespace, inject, reason, istio_init_args, annotations_used}]}.")
    var json = false

    func validate() throws {
        if let injectorPolicy, !["enabled", "disabled"].contains(injectorPolicy) {
            throw ValidationError("--injector-policy must be enabled or disabled")
        }
        if namespaceLabels != nil && !namespace.isEmpty {
            throw ValidationError("give --namespace or --namespace-labels, not both")
        }
    }

    func run() throws {
        let output = PodInspection.run(
            manifestPath: manifest, namespacePaths: namespace, namespaceLabels: namespaceLabels,
            policy: injectorPolicy, version: istioVersion, revision: revision, valuesPath: values,
            showWebhooks: showWebhooks, json: json)
        FileHandle.standardOutput.write(Data(output.stdout.utf8))
        FileHandle.standardError.write(Data(output.stderr.utf8))
        if output.exitCode != 0 { throw ExitCode(output.exitCode) }
    }
}

/// `iptsim pod` without the terminal (tests call this).
public enum PodInspection {
    public struct Output: Sendable {
        public var stdout = ""
        public var stderr = ""
        public var exitCode: Int32 = 0
    }

    public static func run(
        manifestPath: String, namespacePaths: [String] = [], namespaceLabels: String? = nil,
        policy: String? = nil,
        version: String? = nil, revision: String? = nil, valuesPath: String? = nil,
        showWebhooks: Bool = false,
        json: Bool = false
    ) -> Output {
        var output = Output()
        do {
            var context = ClusterContext(version: version, policy: policy, revision: revision)
            if let namespaceLabels { context.namespaceLabels = try PodAnalysis.parseLabels(namespaceLabels) }
            for path in namespacePaths {
                context.namespaces += try ManifestReader.read(
                    try ManifestFiles.read(path), source: path, requirePods: false
                ).namespaces
            }
            if let valuesPath { context.valuesFile = (try ManifestFiles.read(valuesPath), valuesPath) }
            let manifest = try ManifestReader.read(try ManifestFiles.read(manifestPath), source: manifestPath)
            let reports = try PodAnalysis.analyze(manifest, context: context)
            let webhooks = showWebhooks ? reports.first.map { webhooksOf($0, context) } ?? [] : []
            output.stdout = json ? renderJSON(reports, webhooks) : renderText(reports, webhooks)
        } catch {
            output.stderr = "error: \(error)\n"
            output.exitCode = 1
        }
        return output
    }

    static func webhooksOf(_ report: PodReport, _ context: ClusterContext) -> [InjectorWebhook] {
        Injector(version: report.version, revision: context.revision).webhooks
    }

    /// Each flag's origins, without the ones that added nothing (an empty default).
    static func originLines(_ plan: IstioInitPlan) -> [(flag: String, value: String, origins: [String])] {
        var lines: [(String, String, [String])] = []
        var index = 0
        let arguments = plan.arguments
        while index < arguments.count {
            let word = arguments[index]
            let flag = word.split(separator: "=", maxSplits: 1).first.map(String.init) ?? word
            let inline = word.contains("=")
            let value =
                inline
                ? String(word.dropFirst(flag.count + 1))
                : index + 1 < arguments.count ? arguments[index + 1] : ""
            if let origins = plan.origins[flag] {
                let useful = origins.filter { !$0.value.isEmpty || origins.count == 1 }
                lines.append((flag, value, useful.map(\.description)))
                index += inline ? 1 : 2
            } else {
                index += 1
            }
        }
        return lines
    }

    static func renderText(_ reports: [PodReport], _ webhooks: [InjectorWebhook]) -> String {
        var text = ""
        for (number, report) in reports.enumerated() {
            if number > 0 { text += "\n" }
            let pod = report.pod
            text += "\(pod.name) (\(pod.kind)) in namespace \(pod.namespace), Istio \(report.version)\n"
            text += "  inject: \(report.decision.inject ? "yes" : "no") — \(report.decision.reason)\n"
            if let plan = report.plan {
                let from: String
                switch report.source {
                case .initContainer(let name): from = "read from init container \(name)"
                default: from = "rendered by the \(report.version) injection template"
                }
                text += "  \(plan.containerName) (\(from)):\n"
                text += "    istio-iptables \(ShellWords.render(plan.arguments))\n"
                let lines = originLines(plan)
                if !lines.isEmpty {
                    text += "  where each value comes from:\n"
                    let width = lines.map { "\($0.flag) \(ShellWords.render([$0.value]))".count }.max() ?? 0
                    for line in lines {
                        let head = "\(line.flag) \(ShellWords.render([line.value]))"
                        text +=
                            "    \(head)\(String(repeating: " ", count: width - head.count))  \(line.origins.joined(separator: " + "))\n"
                    }
                }
                if !plan.environment.isEmpty {
                    text +=
                        "  env: \(plan.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))\n"
                }
            }
            for note in report.notes { text += "  note: \(note)\n" }
        }
        if !webhooks.isEmpty {
            text += "\ninjector webhooks (the API server calls the injector when both selectors match):\n"
            for hook in webhooks {
                text +=
                    "  \(hook.name)\n    namespaceSelector: \(hook.namespaceSelector)\n    objectSelector: \(hook.objectSelector)\n"
            }
        }
        return text
    }

    static func renderJSON(_ reports: [PodReport], _ webhooks: [InjectorWebhook]) -> String {
        let pods: [[String: Any]] = reports.map { report in
            var object: [String: Any] = [
                "name": report.pod.name, "namespace": report.pod.namespace, "kind": report.pod.kind,
                "istio_version": report.version.description, "inject": report.decision.inject,
                "reason": report.decision.reason, "annotations_used": report.annotationsUsed,
                "istio_init_args": report.plan.map { $0.arguments as Any } ?? NSNull(),
                "webhook": report.decision.webhook ?? NSNull(), "notes": report.notes,
            ]
            if let plan = report.plan {
                object["init_container"] = plan.containerName
                object["origins"] = Dictionary(
                    originLines(plan).map { ($0.flag, $0.origins) },
                    uniquingKeysWith: { first, second in first + second })
                if !plan.environment.isEmpty { object["env"] = plan.environment }
            }
            if !report.pod.podIPs.isEmpty { object["pod_ips"] = report.pod.podIPs }
            return object
        }
        var root: [String: Any] = ["pods": pods]
        if !webhooks.isEmpty {
            root["webhooks"] = webhooks.map { hook -> [String: Any] in
                [
                    "name": hook.name, "namespaceSelector": selectorJSON(hook.namespaceSelector),
                    "objectSelector": selectorJSON(hook.objectSelector),
                ]
            }
        }
        let data =
            (try? JSONSerialization.data(
                withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func selectorJSON(_ selector: LabelSelector) -> [String: Any] {
        [
            "matchExpressions": selector.requirements.map { requirement -> [String: Any] in
                var object: [String: Any] = ["key": requirement.key, "operator": requirement.op.rawValue]
                if !requirement.values.isEmpty { object["values"] = requirement.values }
                return object
            }
        ]
    }
}

/// The only place `iptsim pod` and `--pod` read files.
enum ManifestFiles {
    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unreadable(description: "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
