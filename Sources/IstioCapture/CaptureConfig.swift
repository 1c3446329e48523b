import Netfilter
import PacketModel

/// The inbound interception mode (`-m`). Upstream compares the text with `"TPROXY"` and treats
/// anything else as REDIRECT; `spelling` keeps what the user wrote for the configuration dump.
public enum InterceptionMode: Hashable, Sendable {
    case redirect
    case tproxy

    /// `TPROXY` exactly means TPROXY; every other text (including `tproxy`) means REDIRECT.
    public init(upstreamText: String) { self = upstreamText == "TPROXY" ? .tproxy : .redirect }
}

/// Which inbound ports are captured (`-b`).
public enum InboundPorts: Hashable, Sendable {
    /// Empty: inbound capture is off.
    case none
    /// `*`: every port but the excluded ones.
    case all
    case only([PortSpec])
}

/// One family's half of an outbound CIDR list (`-i`/`-x`), split as `SeparateV4V6` does.
public struct NetworkRanges: Hashable, Sendable {
    public var isWildcard: Bool
    public var cidrs: [CIDR]
    /// A loopback CIDR was listed: the pod then sends its own loopback traffic through Envoy.
    public var hasLoopback: Bool

    public init(isWildcard: Bool = false, cidrs: [CIDR] = []) {
        self.isWildcard = isWildcard
        self.cidrs = cidrs
        self.hasLoopback = cidrs.contains { $0.address.isLoopback }
    }

    public static let empty = NetworkRanges()
}

/// `-i`/`-x` after splitting into IPv4 and IPv6.
public struct OutboundRanges: Hashable, Sendable {
    public var v4: NetworkRanges
    public var v6: NetworkRanges

    public init(v4: NetworkRanges = .empty, v6: NetworkRanges = .empty) {
        self.v4 = v4
        self.v6 = v6
    }

    public static let wildcard = OutboundRanges(v4: .init(isWildcard: true), v6: .init(isWildcard: true))
}

/// `ISTIO_OUTBOUND_OWNER_GROUPS` / `_EXCLUDE`: whose outbound traffic is captured by group.
public enum OwnerGroupFilter: Hashable, Sendable {
    /// Include `*`: capture every group except these (none by default).
    case allExcept([OwnerID])
    /// Capture only these groups.
    case only([OwnerID])
}

/// A nameserver: its address, and the text the rules print (`::127.0.0.53` stays as written).
public struct DNSServer: Hashable, Sendable {
    public let address: IPAddress
    public let text: String

    public init(address: IPAddress, text: String) {
        self.address = address
        self.text = text
    }
}

/// The typed configuration the rule generator reads. Built once at the CLI boundary from flags,
/// environment and defaults; nothing downstream parses strings.
public struct CaptureConfig: Hashable, Sendable {
    public var proxyPort = PortSpec("15001")
    public var inboundCapturePort = PortSpec("15006")
    public var inboundTunnelPort = PortSpec("15008")
    public var proxyUIDs: [OwnerID] = [OwnerID("1337")]
    public var proxyGIDs: [OwnerID] = [OwnerID("1337")]
    public var interceptionMode = InterceptionMode.redirect
    public var tproxyMark = MarkValue("1337")
    public var tproxyRouteTable = "133"
    public var inboundPorts = InboundPorts.none
    public var inboundPortsExclude: [PortSpec] = []
    public var outboundPortsInclude: [PortSpec] = []
    public var outboundPortsExclude: [PortSpec] = []
    public var outboundRangesInclude = OutboundRanges()
    public var outboundRangesExclude = OutboundRanges()
    public var kubeVirtInterfaces: [String] = []
    public var excludeInterfaces: [String] = []
    public var redirectDNS = false
    public var captureAllDNS = false
    public var dropInvalid = false
    public var traceLogging = false
    public var enableIPv6 = false
    public var dnsServersV4: [DNSServer] = []
    public var dnsServersV6: [DNSServer] = []
    public var ownerGroups = OwnerGroupFilter.allExcept([])
    /// `ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR`, kept as written (`127.0.0.1/8`).
    public var hostIPv4LoopbackCIDR = AddressMatchSpelling(CIDR(host: .v4(.loopback)))
    /// `ISTIO_META_DNS_CONNTRACK_ZONE` (1.10.3–1.10.6 only).
    public var dnsConntrackZones = false

    public init() {}
}

/// A CIDR and the exact text Istio interpolates into its rules.
public struct AddressMatchSpelling: Hashable, Sendable, CustomStringConvertible {
    public let cidr: CIDR
    public let text: String

    public init(_ cidr: CIDR, text: String? = nil) {
        self.cidr = cidr
        self.text = text ?? cidr.description
    }

    public var description: String { text }
}
