/// The settings a rule was generated from, for traces ("bypassed because of …").
public enum Setting: String, Hashable, Sendable, CaseIterable {
    case proxyPort = "envoy-port"
    case inboundCapturePort = "inbound-capture-port"
    case inboundTunnelPort = "inbound-tunnel-port"
    case proxyUID = "proxy-uid"
    case proxyGID = "proxy-gid"
    case interceptionMode = "istio-inbound-interception-mode"
    case tproxyMark = "istio-inbound-tproxy-mark"
    case inboundPorts = "istio-inbound-ports"
    case inboundPortsExclude = "istio-local-exclude-ports"
    case outboundPortsInclude = "istio-outbound-ports"
    case outboundPortsExclude = "istio-local-outbound-ports-exclude"
    case outboundRangesInclude = "istio-service-cidr"
    case outboundRangesExclude = "istio-service-exclude-cidr"
    case kubeVirtInterfaces = "kube-virt-interfaces"
    case excludeInterfaces = "istio-exclude-interfaces"
    case redirectDNS = "redirect-dns"
    case captureAllDNS = "capture-all-dns"
    case dropInvalid = "drop-invalid"
    case traceLogging = "iptables-trace-logging"
    case dnsServers = "dns-servers"
    case ownerGroups = "ISTIO_OUTBOUND_OWNER_GROUPS"
    case hostIPv4LoopbackCIDR = "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"
}

/// Why a rule exists: a one-line reason and the settings whose values shaped it. Rules that
/// every configuration gets have no settings.
public struct Provenance: Hashable, Sendable {
    public var reason: String
    public var settings: [Setting]

    public init(_ reason: String, _ settings: [Setting] = []) {
        self.reason = reason
        self.settings = settings
    }
}
