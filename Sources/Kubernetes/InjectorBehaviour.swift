import IstioCapture

/// What distinguishes one release's sidecar injector (webhook selectors, `injectRequired`, the
/// injection template's istio-init arguments, annotation validation). Each switch names the first
/// release tag where upstream's source has the behaviour; several were backported to patch
/// releases, so they are decided by the exact version, not by the minor.
public struct InjectorBehaviour: Hashable, Sendable {
    /// How `injectRequired` reads `sidecar.istio.io/inject`.
    public enum ExplicitChoice: Hashable, Sendable {
        /// ≤1.15: the annotation only; YAML 1.1 booleans (`y`, `yes`, `true`, `on`, any case)
        /// inject, any other non-empty text opts out.
        case annotationYAMLBool
        /// 1.16–1.26: the label wins over the annotation; the same YAML 1.1 reading.
        case labelOverAnnotationYAMLBool
        /// 1.27+: the label wins; only `true` and `false` count, anything else falls back to the
        /// policy (with a warning in istiod's log).
        case labelOverAnnotationStrict
    }

    /// Where the template finds "is CNI enabled".
    public enum CNISwitch: Hashable, Sendable {
        case istioCNI  // `istio_cni.enabled` (≤1.21)
        case either  // `pilot.cni.enabled` or `istio_cni.enabled` (1.22–1.23)
        case pilotCNI  // `pilot.cni.enabled` (1.24+)
    }

    public let version: IstioVersion
    public let explicitChoice: ExplicitChoice
    /// `-p` from `meshConfig.proxyListenPort` (1.12+), else the constant 15001.
    public let proxyPortFromMeshConfig: Bool
    /// `-z` from `meshConfig.proxyInboundListenPort` (1.18+), else the constant 15006.
    public let inboundPortFromMeshConfig: Bool
    /// `-b` defaults to `global.proxy.includeInboundPorts` (1.12.2+), else the constant `*`.
    public let includeInboundPortsFromValues: Bool
    /// `-u` is the namespace's OpenShift uid range maximum when it has one (1.20+).
    public let proxyUIDFromNamespace: Bool
    /// With TPROXY `-u` stays 1337 whatever the namespace says (1.25.4, 1.26.2, 1.27+).
    public let tproxyKeepsUID1337: Bool
    /// `-c` from `traffic.sidecar.istio.io/excludeInterfaces`, and `--log_output_level` (1.15+).
    public let excludeInterfacesAndLogLevel: Bool
    /// `-k` from `istio.io/reroute-virtual-interfaces` (1.25+).
    public let rerouteVirtualInterfaces: Bool
    /// The kubevirt annotation is only a fallback for the reroute one (1.26.5, 1.27.2+); before,
    /// both annotations each add a `-k`.
    public let kubevirtIsFallback: Bool
    public let cniSwitch: CNISwitch
    /// `--force-apply` from `global.proxy_init.forceApplyIptables` (1.24+).
    public let forceApplyFromValues: Bool
    /// `--native-nftables` from `global.nativeNftables` (1.27+).
    public let nativeNftablesFromValues: Bool
    /// CIDR annotations are checked with Go's `netip.ParsePrefix` (1.16+) rather than `net.ParseCIDR`.
    public let validatesCIDRsWithNetip: Bool
    /// Interface-name annotations are validated (1.30+).
    public let validatesInterfaceNames: Bool
    /// The `enableNamespacesByDefault` webhook skips the system namespaces by selector (1.16+).
    public let autoWebhookSkipsSystemNamespaces: Bool

    /// Namespaces `injectRequired` never injects: the same four from 1.10 to 1.30.
    public let ignoredNamespaces = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"]

    public init(_ version: IstioVersion) {
        func atLeast(_ text: IstioVersion) -> Bool { version >= text }
        /// A change backported to some patch releases: `fixes` lists (first patch of a minor).
        func since(_ fixes: [IstioVersion], then general: IstioVersion) -> Bool {
            if version >= general { return true }
            return fixes.contains { $0.major == version.major && $0.minor == version.minor && version >= $0 }
        }
        self.version = version
        explicitChoice =
            atLeast("1.27.0")
            ? .labelOverAnnotationStrict
            : atLeast("1.16.0") ? .labelOverAnnotationYAMLBool : .annotationYAMLBool
        proxyPortFromMeshConfig = atLeast("1.12.0")
        inboundPortFromMeshConfig = atLeast("1.18.0")
        includeInboundPortsFromValues = atLeast("1.12.2")
        proxyUIDFromNamespace = atLeast("1.20.0")
        tproxyKeepsUID1337 = since(["1.25.4", "1.26.2"], then: "1.27.0")
        excludeInterfacesAndLogLevel = atLeast("1.15.0")
        rerouteVirtualInterfaces = atLeast("1.25.0")
        kubevirtIsFallback = since(["1.26.5", "1.27.2"], then: "1.28.0")
        cniSwitch = atLeast("1.24.0") ? .pilotCNI : atLeast("1.22.0") ? .either : .istioCNI
        forceApplyFromValues = atLeast("1.24.0")
        nativeNftablesFromValues = atLeast("1.27.0")
        validatesCIDRsWithNetip = atLeast("1.16.0")
        validatesInterfaceNames = atLeast("1.30.0")
        autoWebhookSkipsSystemNamespaces = atLeast("1.16.0")
    }
}
