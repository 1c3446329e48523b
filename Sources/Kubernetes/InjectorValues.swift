import IstioCapture

/// The Helm values and mesh config the injector renders its template with: the release chart's
/// defaults, overlaid by a user's values file (plain Helm values, or an IstioOperator whose
/// `spec.values` and `spec.meshConfig` hold them).
public struct InjectorValues: Sendable {
    /// A value as the template sees it: Go's `fmt.Sprint` of it (`<nil>` when unset), and where it came from.
    public struct Lookup: Hashable, Sendable {
        public let text: String
        public let isSet: Bool
        public let origin: ValueOrigin
    }

    /// The chart defaults templates read (identical in values.yaml from 1.10.0 to 1.30.3, except
    /// that `includeInboundPorts` and `includeOutboundPorts` appear in 1.12).
    static func chartDefaults(_ behaviour: InjectorBehaviour) -> [String: String] {
        var defaults = [
            "global.proxy.includeIPRanges": "*", "global.proxy.excludeIPRanges": "",
            "global.proxy.excludeInboundPorts": "", "global.proxy.excludeOutboundPorts": "",
            "global.proxy.statusPort": "15020", "global.proxy.autoInject": "enabled",
            "global.logging.level": "default:info", "global.logAsJson": "false",
            "istio_cni.enabled": "false", "sidecarInjectorWebhook.enableNamespacesByDefault": "false",
            "revision": "", "meshConfig.defaultConfig.interceptionMode": "REDIRECT",
        ]
        if behaviour.version >= "1.12.0" {
            defaults["global.proxy.includeInboundPorts"] = "*"
            defaults["global.proxy.includeOutboundPorts"] = ""
        }
        if behaviour.cniSwitch != .istioCNI { defaults["pilot.cni.enabled"] = "false" }
        if behaviour.forceApplyFromValues { defaults["global.proxy_init.forceApplyIptables"] = "false" }
        if behaviour.nativeNftablesFromValues { defaults["global.nativeNftables"] = "false" }
        return defaults
    }

    let defaults: [String: String]
    /// Helm values root (`global`, `istio_cni`, …) and mesh config root, from the user's file.
    let valuesRoot: YAMLNode?
    let meshConfigRoot: YAMLNode?

    public init(behaviour: InjectorBehaviour) {
        defaults = Self.chartDefaults(behaviour)
        valuesRoot = nil
        meshConfigRoot = nil
    }

    /// `text` is a values file: Helm values (`global.proxy.…`, `meshConfig.…`) or an IstioOperator.
    public init(behaviour: InjectorBehaviour, valuesFile text: String, source: String) throws(ManifestError) {
        defaults = Self.chartDefaults(behaviour)
        let documents = try YAMLStream.documents(text, source: source).compactMap(\.root)
        guard let root = documents.first else {
            valuesRoot = nil
            meshConfigRoot = nil
            return
        }
        guard root.pairs != nil else {
            throw ManifestError(
                source: source, location: root.location, message: "values: expected a mapping")
        }
        if root["kind"]?.text == "IstioOperator" {
            valuesRoot = root["spec"]?["values"]
            meshConfigRoot = root["spec"]?["meshConfig"]
        } else {
            valuesRoot = root
            meshConfigRoot = root["meshConfig"]
        }
    }

    func node(_ path: String) -> YAMLNode? {
        var parts = path.split(separator: ".").map(String.init)
        var node: YAMLNode?
        if parts.first == "meshConfig" {
            parts.removeFirst()
            node = meshConfigRoot
        } else {
            node = valuesRoot
        }
        for part in parts { node = node?[part] }
        return node
    }

    /// `path` as the template prints it.
    public func lookup(_ path: String) -> Lookup {
        let kind: ValueOrigin.Kind = path.hasPrefix("meshConfig.") ? .meshConfig : .values
        if let node = node(path) {
            let text = node.text ?? "<nil>"
            return Lookup(text: text, isSet: true, origin: ValueOrigin(kind, path, text))
        }
        if let value = defaults[path] {
            return Lookup(text: value, isSet: true, origin: ValueOrigin(.chartDefault, path, value))
        }
        return Lookup(text: "<nil>", isSet: false, origin: ValueOrigin(.chartDefault, path, "<nil>"))
    }

    /// A Go template truth value: non-empty, not `false`, not `0`, not nil.
    public func isTrue(_ path: String) -> Bool {
        let lookup = lookup(path)
        return lookup.isSet && !["", "false", "0", "<nil>"].contains(lookup.text)
    }

    /// `meshConfig.defaultConfig.proxyMetadata`: env for istio-init (and what DNS capture reads).
    public var proxyMetadata: [(name: String, value: String)] {
        (node("meshConfig.defaultConfig.proxyMetadata")?.pairs ?? []).compactMap { pair in
            pair.value.text.map { (pair.key, $0) }
        }
    }

    /// `sidecarInjectorWebhook.neverInjectSelector` / `alwaysInjectSelector`.
    public func selectors(_ path: String, source: String) throws(ManifestError) -> [LabelSelector] {
        var selectors: [LabelSelector] = []
        for item in node(path)?.items ?? [] {
            selectors.append(try LabelSelector(item, reader: NodeReader(source: source)))
        }
        return selectors
    }
}
