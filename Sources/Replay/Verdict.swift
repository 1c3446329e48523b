import PacketModel

/// What the pod's rules do with a flow: the set `iptsim replay` reports.
///
/// | verdict | meaning |
/// |---|---|
/// | `envoy-outbound` | landed on Envoy's outbound listener in the pod (15001, `-p`) |
/// | `envoy-inbound` | landed on Envoy's inbound listener in the pod (15006, `-z`) |
/// | `dns-agent` | landed on istio-agent's DNS proxy (15053) |
/// | `direct` | not redirected: reached its own destination (the app, Envoy's own ports, a remote host) |
/// | `refused` | no socket at the destination: the client gets a RST / ECONNREFUSED |
/// | `dropped` | a rule dropped it, or nothing answers (the client times out, or gets EPERM) |
/// | `not-simulated` | not the pod's traffic (neither end is a pod IP), a protocol the simulator does not model (ICMP, fragments without a first fragment, …), or a family without rules |
public enum Verdict: String, CaseIterable, Hashable, Sendable, Comparable {
    case direct
    case refused
    case dropped
    case notSimulated = "not-simulated"
    case envoyOutbound = "envoy-outbound"
    case envoyInbound = "envoy-inbound"
    case dnsAgent = "dns-agent"

    /// The flow does not go through the sidecar (listed first in summaries).
    public var bypassesSidecar: Bool {
        switch self {
        case .direct, .refused, .dropped: true
        case .notSimulated, .envoyOutbound, .envoyInbound, .dnsAgent: false
        }
    }

    /// Summary order: bypassing flows first, then the unknown, then the captured ones.
    var rank: Int { Verdict.allCases.firstIndex(of: self)! }

    public static func < (lhs: Verdict, rhs: Verdict) -> Bool { lhs.rank < rhs.rank }
}

/// The role of a flow relative to the pod, from the initiator's and responder's addresses.
public enum FlowDirection: String, Hashable, Sendable, CaseIterable {
    /// From a remote host to the pod.
    case inbound
    /// From the pod to a remote host.
    case outbound
    /// Both ends are the pod (its IPs or loopback).
    case loopback
    /// Neither end is a pod IP.
    case transit
}

/// The simulator's answer for a flow, reduced to what a replay reports. Few distinct values
/// exist per rule set, so flows refer to them by index.
public struct FlowVerdict: Hashable, Sendable {
    public var verdict: Verdict
    /// The listener port the flow landed on (nil when it did not land).
    public var socketPort: UInt16?
    /// Whether the landing socket reports an original destination (SO_ORIGINAL_DST): the
    /// pod's own sockets do, the peer's do not.
    public var reportsOriginalDestination: Bool
    /// The first nat rule the first packet matched, as `-A CHAIN …` (nil when none).
    public var firstRule: String?
    /// Simulator error text (`refused`, `timeout`, `eperm`) or why it was not simulated.
    public var detail: String?
    /// The address and port the landing socket in the pod sees as its own: where NAT sent the
    /// flow (127.0.0.1:15001 after REDIRECT in OUTPUT), for `--write-pcap`.
    public var localAddress: IPAddress?
    public var localPort: UInt16?

    public init(
        verdict: Verdict, socketPort: UInt16? = nil, reportsOriginalDestination: Bool = false,
        firstRule: String? = nil, detail: String? = nil
    ) {
        self.verdict = verdict
        self.socketPort = socketPort
        self.reportsOriginalDestination = reportsOriginalDestination
        self.firstRule = firstRule
        self.detail = detail
    }
}
