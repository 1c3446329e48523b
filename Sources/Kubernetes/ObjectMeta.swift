/// `metadata` of any Kubernetes object: what injection reads (labels, annotations, namespace).
public struct ObjectMeta: Hashable, Sendable {
    public var name: String
    public var generateName: String
    public var namespace: String?
    public var labels: [String: String]
    public var annotations: [String: String]
    /// Where each annotation's value is written, to point at it in explanations.
    public var annotationLocations: [String: SourceLocation]

    public init(
        name: String = "", generateName: String = "", namespace: String? = nil,
        labels: [String: String] = [:],
        annotations: [String: String] = [:]
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.annotationLocations = [:]
    }

    init(_ node: YAMLNode?, reader: NodeReader) throws(ManifestError) {
        self.init()
        guard let node else { return }
        name = try reader.string(node["name"]) ?? ""
        generateName = try reader.string(node["generateName"]) ?? ""
        namespace = try reader.string(node["namespace"])
        labels = try reader.stringMap(node["labels"], what: "labels")
        annotations = try reader.stringMap(node["annotations"], what: "annotations")
        for (key, value) in node["annotations"]?.pairs ?? [] { annotationLocations[key] = value.location }
    }
}

/// A Namespace: its name, labels (selectors) and annotations (OpenShift uid ranges).
public struct Namespace: Hashable, Sendable {
    public var metadata: ObjectMeta
    public var location: SourceLocation

    public init(name: String, labels: [String: String] = [:], annotations: [String: String] = [:]) {
        metadata = ObjectMeta(name: name, labels: labels, annotations: annotations)
        location = .start
    }

    public var name: String { metadata.name }

    /// The labels selectors see: Kubernetes (1.21+) adds `kubernetes.io/metadata.name` itself.
    public var selectorLabels: [String: String] {
        var labels = metadata.labels
        if labels["kubernetes.io/metadata.name"] == nil { labels["kubernetes.io/metadata.name"] = name }
        return labels
    }
}

/// Typed reads of YAML nodes with errors that say where.
struct NodeReader {
    let source: String

    func error(_ node: YAMLNode?, _ message: String, fallback: SourceLocation = .start) -> ManifestError {
        ManifestError(source: source, location: node?.location ?? fallback, message: message)
    }

    /// A scalar as text (Kubernetes strings; numbers and booleans are kept as written).
    func string(_ node: YAMLNode?) throws(ManifestError) -> String? {
        guard let node else { return nil }
        guard let text = node.text else { throw error(node, "expected a string") }
        return text
    }

    func stringMap(_ node: YAMLNode?, what: String) throws(ManifestError) -> [String: String] {
        guard let node else { return [:] }
        guard let pairs = node.pairs else { throw error(node, "\(what): expected a mapping") }
        var map: [String: String] = [:]
        for (key, value) in pairs {
            guard let text = value.isNull ? "" : value.text else {
                throw error(value, "\(what).\(key): expected a string")
            }
            map[key] = text
        }
        return map
    }

    func sequence(_ node: YAMLNode?, what: String) throws(ManifestError) -> [YAMLNode] {
        guard let node else { return [] }
        guard let items = node.items else { throw error(node, "\(what): expected a list") }
        return items
    }

    func bool(_ node: YAMLNode?, what: String) throws(ManifestError) -> Bool {
        guard let node else { return false }
        switch node.text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw error(node, "\(what): expected true or false")
        }
    }
}
