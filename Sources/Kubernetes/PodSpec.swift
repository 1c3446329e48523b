/// A container as injection and istio-init see it.
public struct Container: Hashable, Sendable {
    public var name: String
    public var image: String
    public var command: [String]
    public var args: [String]
    /// Literal `env` values in order (`valueFrom` entries are not known offline and are left out).
    public var env: [(name: String, value: String)]
    public var location: SourceLocation

    public init(name: String, image: String = "", command: [String] = [], args: [String] = []) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.env = []
        self.location = .start
    }

    public static func == (lhs: Container, rhs: Container) -> Bool {
        lhs.name == rhs.name && lhs.image == rhs.image && lhs.command == rhs.command && lhs.args == rhs.args
            && lhs.env.map(\.name) == rhs.env.map(\.name) && lhs.env.map(\.value) == rhs.env.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(args)
    }

    init(_ node: YAMLNode, reader: NodeReader) throws(ManifestError) {
        guard node.pairs != nil else { throw reader.error(node, "container: expected a mapping") }
        self.init(name: try reader.string(node["name"]) ?? "")
        location = node.location
        image = try reader.string(node["image"]) ?? ""
        for item in try reader.sequence(node["command"], what: "command") {
            command.append(try reader.string(item) ?? "")
        }
        for item in try reader.sequence(node["args"], what: "args") {
            args.append(try reader.string(item) ?? "")
        }
        for item in try reader.sequence(node["env"], what: "env") {
            guard let name = try reader.string(item["name"]) else { continue }
            if item["valueFrom"] != nil { continue }
            env.append((name, try reader.string(item["value"]) ?? ""))
        }
    }
}

/// The parts of a pod spec injection reads.
public struct PodSpec: Hashable, Sendable {
    public var hostNetwork: Bool
    public var containers: [Container]
    public var initContainers: [Container]

    public init(hostNetwork: Bool = false, containers: [Container] = [], initContainers: [Container] = []) {
        self.hostNetwork = hostNetwork
        self.containers = containers
        self.initContainers = initContainers
    }

    init(_ node: YAMLNode, reader: NodeReader) throws(ManifestError) {
        guard node.pairs != nil else { throw reader.error(node, "spec: expected a mapping") }
        hostNetwork = try reader.bool(node["hostNetwork"], what: "hostNetwork")
        containers = []
        initContainers = []
        for item in try reader.sequence(node["containers"], what: "containers") {
            containers.append(try Container(item, reader: reader))
        }
        for item in try reader.sequence(node["initContainers"], what: "initContainers") {
            initContainers.append(try Container(item, reader: reader))
        }
    }
}

/// One pod, bare or as a workload's template: what injection decides on.
public struct Pod: Hashable, Sendable {
    /// `Pod`, or the workload kind whose template this is (`Deployment`, `CronJob`, …).
    public var kind: String
    /// The object's name (a workload's name for templates: its pods get generated names).
    public var name: String
    /// The namespace the object is created in (`default` when the manifest does not say).
    public var namespace: String
    public var namespaceIsExplicit: Bool
    public var metadata: ObjectMeta
    public var spec: PodSpec
    /// `status.podIPs` (or `status.podIP`), for pods read back from a cluster.
    public var podIPs: [String]
    public var location: SourceLocation

    public init(
        kind: String = "Pod", name: String, namespace: String = "default",
        metadata: ObjectMeta = ObjectMeta(),
        spec: PodSpec = PodSpec(), podIPs: [String] = []
    ) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.namespaceIsExplicit = metadata.namespace != nil
        self.metadata = metadata
        self.spec = spec
        self.podIPs = podIPs
        self.location = .start
    }

    public func initContainer(named name: String) -> Container? {
        spec.initContainers.first { $0.name == name }
    }
}
