import IstioCapture

/// What the user tells `iptsim pod` about the cluster besides the manifest.
public struct ClusterContext: Sendable {
    /// `--istio-version` as typed (`1.30`, `1.25.2`); nil: the injected pod's image tag, else the newest.
    public var version: String?
    public var policy: String?
    public var revision: String?
    /// A values file's text and name.
    public var valuesFile: (text: String, source: String)?
    /// Namespaces read from `--namespace` files.
    public var namespaces: [Namespace]
    /// `--namespace-labels`: the pod's namespace carries exactly these labels.
    public var namespaceLabels: [String: String]?

    public init(
        version: String? = nil, policy: String? = nil, revision: String? = nil,
        valuesFile: (text: String, source: String)? = nil, namespaces: [Namespace] = [],
        namespaceLabels: [String: String]? = nil
    ) {
        self.version = version
        self.policy = policy
        self.revision = revision
        self.valuesFile = valuesFile
        self.namespaces = namespaces
        self.namespaceLabels = namespaceLabels
    }
}

/// A problem with the context itself (unknown release, bad label list), not with a manifest.
public struct ContextError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// From manifest text to one report per pod: the I/O-free core of `iptsim pod` and `--pod`.
public enum PodAnalysis {
    public static func analyze(_ manifest: ManifestSet, context: ClusterContext) throws -> [PodReport] {
        var reports: [PodReport] = []
        for var pod in manifest.pods {
            let version = try version(for: pod, context: context)
            let behaviour = InjectorBehaviour(version)
            let values =
                try context.valuesFile.map { file throws(ManifestError) in
                    try InjectorValues(behaviour: behaviour, valuesFile: file.text, source: file.source)
                } ?? InjectorValues(behaviour: behaviour)
            let source = context.valuesFile?.source ?? "values"
            let injector = Injector(
                version: version, values: values, policy: context.policy, revision: context.revision,
                neverInjectSelector: try values.selectors(
                    "sidecarInjectorWebhook.neverInjectSelector", source: source),
                alwaysInjectSelector: try values.selectors(
                    "sidecarInjectorWebhook.alwaysInjectSelector", source: source))
            let namespace = Self.namespace(for: &pod, manifest: manifest, context: context)
            reports.append(injector.analyze(pod, namespace: namespace))
        }
        return reports
    }

    /// The explicit `--istio-version`, else the tag of an injected pod's proxy image, else the newest.
    static func version(for pod: Pod, context: ClusterContext) throws -> IstioVersion {
        if let requested = context.version {
            switch Release.resolve(requested) {
            case .failure(let error): throw ContextError("--istio-version: \(error)")
            case .success(let release):
                // An exact patch keeps its own template behaviour (several changes were backported).
                if let parsed = IstioVersion.parseRequest(requested), let patch = parsed.patch {
                    return IstioVersion(parsed.major, parsed.minor, patch)
                }
                return release.version
            }
        }
        let images = (pod.spec.initContainers + pod.spec.containers).filter {
            ["istio-init", "istio-validation", "istio-proxy"].contains($0.name)
        }.map(\.image)
        for image in images {
            guard let colon = image.lastIndex(of: ":") else { continue }
            let tag = image[image.index(after: colon)...].prefix { $0 != "-" && $0 != "@" }
            if let parsed = IstioVersion.parseRequest(String(tag)), let patch = parsed.patch,
                case .success = Release.resolve(String(tag))
            {
                return IstioVersion(parsed.major, parsed.minor, patch)
            }
        }
        return Release.newest.version
    }

    static func namespace(for pod: inout Pod, manifest: ManifestSet, context: ClusterContext) -> Namespace? {
        if let labels = context.namespaceLabels {
            var namespace =
                context.namespaces.first { $0.name == pod.namespace } ?? Namespace(name: pod.namespace)
            namespace.metadata.labels = labels
            return namespace
        }
        if !pod.namespaceIsExplicit, context.namespaces.count == 1 {
            // `kubectl apply -n NS`: a pod without a namespace lands in the one given.
            pod.namespace = context.namespaces[0].name
            return context.namespaces[0]
        }
        return (context.namespaces + manifest.namespaces).first { $0.name == pod.namespace }
    }

    /// `k=v,k2=v2` (`--namespace-labels`).
    public static func parseLabels(_ text: String) throws -> [String: String] {
        var labels: [String: String] = [:]
        for item in text.split(separator: ",") {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ContextError("--namespace-labels: \(item) is not KEY=VALUE")
            }
            labels[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return labels
    }
}

/// Shell-style rendering of an argument list: empty words as `""`, words with spaces or quotes
/// single-quoted, everything else (including `*`) as is, the way istio-init's args are quoted in docs.
public enum ShellWords {
    public static func render(_ words: [String]) -> String {
        words.map { word in
            if word.isEmpty { return "\"\"" }
            if word.contains(where: { " \t\n'\"\\$`".contains($0) }) {
                return "'"
                    + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")
                    + "'"
            }
            return word
        }.joined(separator: " ")
    }
}
