/// The istio-init container a release's injection template (`files/injection-template.yaml`)
/// renders for a pod: its name and its `istio-iptables` arguments, each traced to its origin.
public struct IstioInitPlan: Hashable, Sendable {
    /// `istio-init`, or `istio-validation` when the CNI plugin writes the rules.
    public var containerName: String
    /// The arguments after `istio-iptables`.
    public var arguments: [String]
    /// For each flag as written (`-o`, `--log_output_level`), the values that made it.
    public var origins: [String: [ValueOrigin]]
    /// The container's env (`meshConfig.defaultConfig.proxyMetadata`).
    public var environment: [String: String]
    public var cniEnabled: Bool
}

/// Renders the istio-init part of the injection template the way the release's template does.
struct InjectionTemplate {
    let behaviour: InjectorBehaviour
    let values: InjectorValues

    /// Annotations read while rendering (name → value), for `annotations_used`.
    final class Reads: @unchecked Sendable {
        var annotations: [String: String] = [:]
    }

    /// nil when the template writes no istio-init (interception mode `NONE`).
    func render(_ pod: Pod, namespace: Namespace?, reads: Reads) -> IstioInitPlan? {
        let annotations = pod.metadata.annotations
        var arguments: [String] = []
        var origins: [String: [ValueOrigin]] = [:]

        /// `annotation .ObjectMeta KEY DEFAULT`: the annotation when present (even empty), else the default.
        func annotation(_ key: String, default fallback: InjectorValues.Lookup) -> (String, ValueOrigin) {
            if let value = annotations[key] {
                reads.annotations[key] = value
                return (value, ValueOrigin(.annotation, key, value))
            }
            return (fallback.text, fallback.origin)
        }
        func constant(_ value: String) -> InjectorValues.Lookup {
            InjectorValues.Lookup(text: value, isSet: true, origin: ValueOrigin(.template, "", value))
        }
        func isset(_ key: String) -> Bool {
            if let value = annotations[key] { reads.annotations[key] = value }
            return annotations[key] != nil
        }
        func add(_ flag: String, _ value: String, _ from: [ValueOrigin]) {
            arguments += [flag, value]
            origins[flag, default: []] += from
        }

        let mode = interceptionMode(pod, reads: reads)
        guard mode.0 != "NONE" else { return nil }
        let cni: Bool
        switch behaviour.cniSwitch {
        case .istioCNI: cni = values.isTrue("istio_cni.enabled")
        case .either: cni = values.isTrue("pilot.cni.enabled") || values.isTrue("istio_cni.enabled")
        case .pilotCNI: cni = values.isTrue("pilot.cni.enabled")
        }

        // -p / -z: `.MeshConfig.ProxyListenPort | default "15001"` (1.12+ / 1.18+), else constants.
        for (flag, enabled, path, fallback) in [
            ("-p", behaviour.proxyPortFromMeshConfig, "meshConfig.proxyListenPort", "15001"),
            ("-z", behaviour.inboundPortFromMeshConfig, "meshConfig.proxyInboundListenPort", "15006"),
        ] {
            let mesh = values.lookup(path)
            if enabled, mesh.isSet, !["", "0", "<nil>"].contains(mesh.text) {
                add(flag, mesh.text, [mesh.origin])
            } else {
                add(flag, fallback, [ValueOrigin(.template, "", fallback)])
            }
        }

        // -u: 1337, or (1.20+) the namespace's OpenShift uid range maximum, except with TPROXY.
        let tproxy = mode.0 == "TPROXY"
        if behaviour.proxyUIDFromNamespace, !(tproxy && behaviour.tproxyKeepsUID1337),
            let namespace, let range = namespace.metadata.annotations[AnnotationKey.openShiftUIDRange],
            let maximum = OpenShiftRange.maximum(range)
        {
            add(
                "-u", String(maximum),
                [ValueOrigin(.namespaceAnnotation, AnnotationKey.openShiftUIDRange, range)])
        } else {
            add("-u", "1337", [ValueOrigin(.template, "", "1337")])
        }
        add("-m", mode.0, [mode.1])

        let include = annotation(
            AnnotationKey.includeOutboundIPRanges, default: values.lookup("global.proxy.includeIPRanges"))
        add("-i", include.0, [include.1])
        let exclude = annotation(
            AnnotationKey.excludeOutboundIPRanges, default: values.lookup("global.proxy.excludeIPRanges"))
        add("-x", exclude.0, [exclude.1])
        let inbound = annotation(
            AnnotationKey.includeInboundPorts,
            default: behaviour.includeInboundPortsFromValues
                ? values.lookup("global.proxy.includeInboundPorts") : constant("*"))
        add("-b", inbound.0, [inbound.1])

        // -d: 15090,15021 and `excludeInboundPort(statusPort, excludeInboundPorts)`.
        let status = annotation(AnnotationKey.statusPort, default: values.lookup("global.proxy.statusPort"))
        let excluded = annotation(
            AnnotationKey.excludeInboundPorts, default: values.lookup("global.proxy.excludeInboundPorts"))
        let extra = Self.excludeInboundPort(status.0, excluded.0)
        let fixed = ValueOrigin(.template, "", "15090,15021")
        add("-d", extra.isEmpty ? "15090,15021" : "15090,15021,\(extra)", [fixed, status.1, excluded.1])

        for (flag, key, path) in [
            ("-q", AnnotationKey.includeOutboundPorts, "global.proxy.includeOutboundPorts"),
            ("-o", AnnotationKey.excludeOutboundPorts, "global.proxy.excludeOutboundPorts"),
        ] {
            let fromValues = values.lookup(path)
            // `valueOrDefault` turns a missing value into "".
            let valueText = fromValues.text == "<nil>" ? "" : fromValues.text
            if isset(key) || !valueText.isEmpty {
                let value = annotation(key, default: fromValues)
                add(flag, value.0, [value.1])
            }
        }

        func indexed(_ key: String) -> (String, ValueOrigin)? {
            guard isset(key), let value = annotations[key] else { return nil }
            return (value, ValueOrigin(.annotation, key, value))
        }
        let kubevirt = indexed(AnnotationKey.kubevirtInterfaces)
        let reroute =
            behaviour.rerouteVirtualInterfaces ? indexed(AnnotationKey.rerouteVirtualInterfaces) : nil
        if behaviour.kubevirtIsFallback {
            if let chosen = reroute ?? kubevirt { add("-k", chosen.0, [chosen.1]) }
        } else {
            if let kubevirt { add("-k", kubevirt.0, [kubevirt.1]) }
            if let reroute { add("-k", reroute.0, [reroute.1]) }
        }
        if behaviour.excludeInterfacesAndLogLevel {
            if let excluded = indexed(AnnotationKey.excludeInterfaces) { add("-c", excluded.0, [excluded.1]) }
            let level = annotation(
                AnnotationKey.agentLogLevel, default: values.lookup("global.logging.level"))
            arguments.append("--log_output_level=\(level.0)")
            origins["--log_output_level"] = [level.1]
            if values.isTrue("global.logAsJson") { arguments.append("--log_as_json") }
        }
        if cni {
            arguments += ["--run-validation", "--skip-rule-apply"]
        } else if behaviour.forceApplyFromValues, values.isTrue("global.proxy_init.forceApplyIptables") {
            arguments.append("--force-apply")
        }
        if behaviour.nativeNftablesFromValues, values.isTrue("global.nativeNftables") {
            arguments.append("--native-nftables")
        }
        var environment: [String: String] = [:]
        for (name, value) in values.proxyMetadata { environment[name] = value }
        return IstioInitPlan(
            containerName: cni ? "istio-validation" : "istio-init", arguments: arguments, origins: origins,
            environment: environment, cniEnabled: cni)
    }

    /// `sidecar.istio.io/interceptionMode`, else the proxy config's mode (mesh default, or the
    /// pod's `proxy.istio.io/config`).
    func interceptionMode(_ pod: Pod, reads: Reads) -> (String, ValueOrigin) {
        if let value = pod.metadata.annotations[AnnotationKey.interceptionMode] {
            reads.annotations[AnnotationKey.interceptionMode] = value
            return (value, ValueOrigin(.annotation, AnnotationKey.interceptionMode, value))
        }
        if let text = pod.metadata.annotations[AnnotationKey.proxyConfig],
            let root = try? YAMLStream.documents(text, source: AnnotationKey.proxyConfig).first?.root,
            let mode = root["interceptionMode"]?.text
        {
            reads.annotations[AnnotationKey.proxyConfig] = text
            return (mode, ValueOrigin(.annotation, AnnotationKey.proxyConfig, text))
        }
        let mesh = values.lookup("meshConfig.defaultConfig.interceptionMode")
        return (mesh.text, mesh.origin)
    }

    /// Upstream's `excludeInboundPort`: append the status port to the excluded ports unless it is
    /// already there (or is empty or 0).
    static func excludeInboundPort(_ port: String, _ excluded: String) -> String {
        let portText = port.trimmingGoSpace
        if portText.isEmpty || portText == "0" { return excluded }
        var kept: [String] = []
        for part in excluded.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            if part == portText { return excluded }
            let trimmed = part.trimmingGoSpace
            if !trimmed.isEmpty { kept.append(trimmed) }
        }
        kept.append(portText)
        return kept.joined(separator: ",")
    }
}

/// OpenShift's `openshift.io/sa.scc.uid-range` (`START/SIZE` or `START-END`): the injector uses the
/// range's last uid as the proxy's.
enum OpenShiftRange {
    static func maximum(_ text: String) -> UInt32? {
        if let slash = text.firstIndex(of: "/") {
            guard let start = leadingNumber(text[..<slash]),
                let size = leadingNumber(text[text.index(after: slash)...])
            else { return nil }
            return start &+ size &- 1
        }
        guard let dash = text.firstIndex(of: "-"), leadingNumber(text[..<dash]) != nil,
            let end = leadingNumber(text[text.index(after: dash)...])
        else { return nil }
        return end
    }

    /// Go's `fmt.Sscanf("%d")` for a uint32: leading digits.
    static func leadingNumber(_ text: Substring) -> UInt32? {
        let digits = text.prefix { ("0"..."9").contains($0) }
        return digits.isEmpty ? nil : UInt32(digits)
    }
}
