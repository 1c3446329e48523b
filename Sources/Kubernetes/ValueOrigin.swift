/// Where one piece of an istio-init argument came from, so a rule can be explained back to the
/// annotation, Helm value or template constant behind it.
public struct ValueOrigin: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// A pod annotation (`traffic.sidecar.istio.io/excludeOutboundPorts: "3306"`).
        case annotation
        /// A pod label (`sidecar.istio.io/inject`).
        case label
        /// A namespace annotation (OpenShift's uid range).
        case namespaceAnnotation
        /// A Helm value given in `--values`.
        case values
        /// A Helm value at the chart's default for that release.
        case chartDefault
        /// A mesh config value (`meshConfig.…`, `proxy.istio.io/config`).
        case meshConfig
        /// A constant written in the release's injection template.
        case template
        /// Read from the injected pod's init container.
        case initContainer
    }

    public let kind: Kind
    /// The annotation, label or value path (`global.proxy.excludeIPRanges`), or the container name.
    public let key: String
    public let value: String

    public init(_ kind: Kind, _ key: String, _ value: String) {
        self.kind = kind
        self.key = key
        self.value = value
    }

    public var description: String {
        let quoted = "\"\(value)\""
        switch kind {
        case .annotation: return "\(key): \(quoted)"
        case .label: return "label \(key): \(quoted)"
        case .namespaceAnnotation: return "namespace annotation \(key): \(quoted)"
        case .values: return "values \(key): \(quoted)"
        case .chartDefault: return "default \(key): \(quoted)"
        case .meshConfig: return "mesh config \(key): \(quoted)"
        case .template: return "injection template constant \(quoted)"
        case .initContainer: return "\(key) container args"
        }
    }
}
