import PacketModel

/// The annotation and label names injection reads (istio.io/api `annotation` and `label`).
public enum AnnotationKey {
    public static let inject = "sidecar.istio.io/inject"
    public static let status = "sidecar.istio.io/status"
    public static let interceptionMode = "sidecar.istio.io/interceptionMode"
    public static let statusPort = "status.sidecar.istio.io/port"
    public static let includeOutboundIPRanges = "traffic.sidecar.istio.io/includeOutboundIPRanges"
    public static let excludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
    public static let includeInboundPorts = "traffic.sidecar.istio.io/includeInboundPorts"
    public static let excludeInboundPorts = "traffic.sidecar.istio.io/excludeInboundPorts"
    public static let includeOutboundPorts = "traffic.sidecar.istio.io/includeOutboundPorts"
    public static let excludeOutboundPorts = "traffic.sidecar.istio.io/excludeOutboundPorts"
    public static let kubevirtInterfaces = "traffic.sidecar.istio.io/kubevirtInterfaces"
    public static let rerouteVirtualInterfaces = "istio.io/reroute-virtual-interfaces"
    public static let excludeInterfaces = "traffic.sidecar.istio.io/excludeInterfaces"
    public static let agentLogLevel = "sidecar.istio.io/agentLogLevel"
    public static let proxyConfig = "proxy.istio.io/config"
    public static let revisionLabel = "istio.io/rev"
    public static let injectionLabel = "istio-injection"
    public static let openShiftUIDRange = "openshift.io/sa.scc.uid-range"
}

/// `validateAnnotations`: the injector refuses a pod whose Istio annotations do not parse, and
/// with the webhook's `failurePolicy: Fail` the API server then rejects the pod.
enum AnnotationValidation {
    static func problems(_ annotations: [String: String], _ behaviour: InjectorBehaviour) -> [String] {
        var checks: [(String, (String) -> String?)] = [
            (AnnotationKey.interceptionMode, interceptionMode),
            (AnnotationKey.statusPort, { port($0).map { "excludeInboundPorts invalid: \($0)" } }),
            (
                AnnotationKey.includeOutboundIPRanges,
                { $0 == "*" ? nil : cidrs($0, behaviour).map { "includeIPRanges invalid: \($0)" } }
            ),
            (
                AnnotationKey.excludeOutboundIPRanges,
                { cidrs($0, behaviour).map { "excludeIPRanges invalid: \($0)" } }
            ),
            (
                AnnotationKey.includeInboundPorts,
                { $0 == "*" ? nil : ports($0).map { "includeInboundPorts invalid: \($0)" } }
            ),
            (AnnotationKey.excludeInboundPorts, { ports($0).map { "excludeInboundPorts invalid: \($0)" } }),
            (AnnotationKey.excludeOutboundPorts, { ports($0).map { "excludeOutboundPorts invalid: \($0)" } }),
        ]
        if behaviour.validatesInterfaceNames {
            for key in [
                AnnotationKey.excludeInterfaces, AnnotationKey.kubevirtInterfaces,
                AnnotationKey.rerouteVirtualInterfaces,
            ] {
                checks.append((key, interfaces))
            }
        }
        return checks.sorted { $0.0 < $1.0 }.compactMap { key, check in
            guard let value = annotations[key], let problem = check(value) else { return nil }
            return "invalid value '\(value)' for annotation '\(key)': \(problem)"
        }
    }

    static func interceptionMode(_ mode: String) -> String? {
        ["REDIRECT", "TPROXY", "NONE"].contains(mode)
            ? nil : "interceptionMode invalid, use REDIRECT,TPROXY,NONE: \(mode)"
    }

    /// Go's `strconv.ParseUint(strings.TrimSpace(s), 10, 16)`.
    static func port(_ text: String) -> String? {
        let trimmed = text.trimmingGoSpace
        let significant = trimmed.drop { $0 == "0" }
        guard !trimmed.isEmpty, trimmed.allSatisfy(\.isASCIIDigit), significant.count <= 5,
            (significant.isEmpty ? 0 : Int(significant) ?? .max) <= 65535
        else { return "failed parsing port '\(text)'" }
        return nil
    }

    static func ports(_ text: String) -> String? {
        let trimmed = text.trimmingGoSpace
        guard !trimmed.isEmpty else { return nil }
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            if let problem = port(String(part)) { return problem }
        }
        return nil
    }

    static func cidrs(_ text: String, _ behaviour: InjectorBehaviour) -> String? {
        guard !text.isEmpty else { return nil }
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            let ok: Bool
            if behaviour.validatesCIDRsWithNetip {
                if case .success = CIDR.parse(part) { ok = true } else { ok = false }
            } else {
                if case .success = CIDR.parseLikeNetParseCIDR(part) { ok = true } else { ok = false }
            }
            if !ok { return "failed parsing cidr '\(part)'" }
        }
        return nil
    }

    /// `netutil.ValidateInterfaceNames` (1.30).
    static func interfaces(_ text: String) -> String? {
        guard !text.isEmpty else { return nil }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(part).trimmingGoSpace
            if name.isEmpty { return "empty interface name" }
            if name.count > 15 { return "interface name \"\(name)\" too long (max 15 chars)" }
            let allowed = name.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                        || "_.-".unicodeScalars.contains($0))
            }
            if !(name.first?.isASCIILetter ?? false) || !allowed {
                return "interface name \"\(name)\" contains invalid characters"
            }
        }
        return nil
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
    var isASCIILetter: Bool { isASCII && isLetter }
}

extension String {
    /// Go's `strings.TrimSpace` for the ASCII spaces manifests contain.
    var trimmingGoSpace: String {
        let space: Set<Character> = [" ", "\t", "\n", "\r", "\u{0B}", "\u{0C}"]
        var slice = Substring(self)
        while let first = slice.first, space.contains(first) { slice.removeFirst() }
        while let last = slice.last, space.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
