/// Everything injection needs from one manifest file: its pods (bare or templates) and namespaces.
public struct ManifestSet: Hashable, Sendable {
    public var pods: [Pod] = []
    public var namespaces: [Namespace] = []
    /// Kinds seen that hold no pod (Service, ConfigMap, …), for the "no pod" error.
    public var otherKinds: [String] = []

    public init() {}
}

/// Reads multi-document YAML (what `kubectl apply -f` takes and `kubectl get -o yaml` prints).
public enum ManifestReader {
    /// Workload kinds and the path from the object to its pod template.
    static let templatePaths: [String: [String]] = [
        "Deployment": ["spec", "template"], "StatefulSet": ["spec", "template"],
        "DaemonSet": ["spec", "template"], "ReplicaSet": ["spec", "template"],
        "ReplicationController": ["spec", "template"], "Job": ["spec", "template"],
        "CronJob": ["spec", "jobTemplate", "spec", "template"],
        "DeploymentConfig": ["spec", "template"],
    ]

    /// Parses `text`; `source` names it in errors (a file path). A file with no pod at all is an
    /// error unless `requirePods` is false (namespace files).
    public static func read(_ text: String, source: String, requirePods: Bool = true) throws(ManifestError)
        -> ManifestSet
    {
        let reader = NodeReader(source: source)
        var set = ManifestSet()
        for document in try YAMLStream.documents(text, source: source) {
            guard let root = document.root else { continue }
            try collect(root, into: &set, reader: reader)
        }
        if requirePods && set.pods.isEmpty {
            let kinds = set.otherKinds + set.namespaces.map { _ in "Namespace" }
            let seen = kinds.isEmpty ? "no objects" : "only " + kinds.joined(separator: ", ")
            throw ManifestError(
                source: source, location: .start,
                message:
                    "no pod spec in this manifest (\(seen)); expected a Pod, a workload with spec.template, or a List of them"
            )
        }
        return set
    }

    static func collect(_ node: YAMLNode, into set: inout ManifestSet, reader: NodeReader)
        throws(ManifestError)
    {
        guard node.pairs != nil else {
            throw reader.error(node, "expected a Kubernetes object (a mapping with apiVersion and kind)")
        }
        guard let kindNode = node["kind"] else {
            throw reader.error(node, "missing kind: every Kubernetes object needs apiVersion and kind")
        }
        guard let kind = kindNode.text, !kind.isEmpty else {
            throw reader.error(kindNode, "kind: expected a name")
        }
        let metadata = try ObjectMeta(node["metadata"], reader: reader)
        switch kind {
        case "List",
            _ where kind.hasSuffix("List"):
            for item in try reader.sequence(node["items"], what: "items") {
                try collect(item, into: &set, reader: reader)
            }
        case "Namespace":
            var namespace = Namespace(name: metadata.name)
            namespace.metadata = metadata
            namespace.location = node.location
            set.namespaces.append(namespace)
        case "Pod":
            guard let specNode = node["spec"] else {
                throw reader.error(node, "Pod \(metadata.name): no spec (no pod spec to inject into)")
            }
            var pod = Pod(
                kind: kind, name: metadata.name.isEmpty ? metadata.generateName : metadata.name,
                namespace: metadata.namespace ?? "default", metadata: metadata,
                spec: try PodSpec(specNode, reader: reader))
            pod.location = node.location
            let status = node["status"]
            var addresses: [String] = []
            for item in try reader.sequence(status?["podIPs"], what: "status.podIPs") {
                if let ip = try reader.string(item["ip"]) { addresses.append(ip) }
            }
            if addresses.isEmpty, let ip = try reader.string(status?["podIP"]) { addresses = [ip] }
            pod.podIPs = addresses
            set.pods.append(pod)
        default:
            guard let path = templatePaths[kind] else {
                set.otherKinds.append(kind)
                return
            }
            var template: YAMLNode? = node
            var walked: [String] = []
            for key in path {
                walked.append(key)
                guard let next = template?[key] else {
                    throw reader.error(
                        template ?? node,
                        "\(kind) \(metadata.name): no \(walked.joined(separator: ".")) (no pod spec to inject into)"
                    )
                }
                template = next
            }
            guard let template, let specNode = template["spec"] else {
                throw reader.error(
                    template ?? node,
                    "\(kind) \(metadata.name): no \(path.joined(separator: ".")).spec (no pod spec)")
            }
            // The pods inherit the workload's namespace; their own metadata comes from the template.
            var podMeta = try ObjectMeta(template["metadata"], reader: reader)
            podMeta.namespace = metadata.namespace
            var pod = Pod(
                kind: kind, name: metadata.name, namespace: metadata.namespace ?? "default",
                metadata: podMeta,
                spec: try PodSpec(specNode, reader: reader))
            pod.location = node.location
            set.pods.append(pod)
        }
    }
}
