import PacketModel

/// A listening socket in the pod or at its peer.
public struct Listener: Hashable, Sendable {
    public var port: UInt16
    public var proto: IPProtocol
    public var uid: UInt32
    public var gid: UInt32
    public var transparent: Bool
    /// nil: the wildcard address.
    public var bind: IPAddress?

    public init(
        port: UInt16, proto: IPProtocol = .tcp, uid: UInt32 = 0, gid: UInt32? = nil,
        transparent: Bool = false, bind: IPAddress? = nil
    ) {
        self.port = port
        self.proto = proto
        self.uid = uid
        self.gid = gid ?? uid
        self.transparent = transparent
        self.bind = bind
    }
}

/// The two ends of the pod's veth and what listens on each (the scenario of DESIGN.md).
public struct PodEnvironment: Sendable {
    public var podAddress: IPAddress
    public var peerAddress: IPAddress
    public var prefixLength: Int
    /// Addresses the peer owns besides its own (service VIPs, external hosts).
    public var peerExtraAddresses: [IPAddress]
    public var listeners: [Listener]
    public var peerListeners: [Listener]
    /// `ip rule add fwmark M lookup T` + `ip route add local default dev lo table T`: marks that
    /// make a packet local whatever its destination.
    public var localDeliveryMarks: [(mark: UInt32, mask: UInt32)]
    /// Traces: the peer stands for every remote host.
    public var peerOwnsEverything = false

    public init(
        podAddress: IPAddress, peerAddress: IPAddress, prefixLength: Int = 24,
        peerExtraAddresses: [IPAddress] = [],
        listeners: [Listener] = [], peerListeners: [Listener] = [],
        localDeliveryMarks: [(mark: UInt32, mask: UInt32)] = []
    ) {
        self.podAddress = podAddress
        self.peerAddress = peerAddress
        self.prefixLength = prefixLength
        self.peerExtraAddresses = peerExtraAddresses
        self.listeners = listeners
        self.peerListeners = peerListeners
        self.localDeliveryMarks = localDeliveryMarks
    }

    /// Whether an address belongs to the pod (its eth0 address or loopback).
    public func isPodLocal(_ address: IPAddress) -> Bool {
        address == podAddress || address.isLoopback
    }

    public func isPeer(_ address: IPAddress) -> Bool {
        address == peerAddress || peerExtraAddresses.contains(address)
    }
}

/// A connection attempt of the scenario.
public struct Flow: Sendable {
    public enum Direction: String, Sendable {
        case inbound
        case outbound
    }

    public var id: String
    public var direction: Direction
    public var proto: IPProtocol
    public var destination: IPAddress
    public var destinationPort: UInt16
    public var source: IPAddress?
    public var sourcePort: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var mark: UInt32

    public init(
        id: String, direction: Direction, proto: IPProtocol, destination: IPAddress, destinationPort: UInt16,
        source: IPAddress? = nil,
        sourcePort: UInt16 = 40000, uid: UInt32 = 0, gid: UInt32? = nil, mark: UInt32 = 0
    ) {
        self.id = id
        self.direction = direction
        self.proto = proto
        self.destination = destination
        self.destinationPort = destinationPort
        self.source = source
        self.sourcePort = sourcePort
        self.uid = uid
        self.gid = gid ?? uid
        self.mark = mark
    }
}

/// Where a flow landed: the listener that accepted it, or the error the client saw.
public enum FlowOutcome: Hashable, Sendable {
    /// `local` is the address the accepted socket sees; `originalDestination` what
    /// SO_ORIGINAL_DST / conntrack reports (nil where the namespace tracks no connection).
    case accepted(
        namespace: String, port: UInt16, proto: IPProtocol, local: String, originalDestination: String?,
        source: String)
    case error(String)
}

public struct FlowResult: Sendable {
    public var id: String
    public var outcome: FlowOutcome
    /// The pod's nat rules the first packet matched, in iptables-save order.
    public var natTrace: [(chain: ChainName, rule: Rule)]
    /// Every rule examined, per hook and table, for explanations.
    public var walks: [(hook: ChainName, walk: Walk)]
}
