import PacketModel

/// Everything about a packet at one hook that a match may consult besides its headers: where it
/// came in or goes out, its marks, its conntrack entry, the socket that sent it.
public struct PacketContext: Sendable {
    public var hook: ChainName
    public var inInterface: String?
    public var outInterface: String?
    public var mark: UInt32
    public var connectionMark: UInt32
    public var conntrackState: ConntrackMatch.State
    public var conntrackDirection: ConntrackMatch.Direction
    /// The original destination of the connection (before DNAT/REDIRECT).
    public var originalDestination: IPAddress?
    public var originalDestinationPort: UInt16?
    /// The sending socket's owner (OUTPUT, POSTROUTING); nil when no local socket.
    public var socketUID: UInt32?
    public var socketGID: UInt32?
    /// Addresses of this network namespace, for `addrtype LOCAL`.
    public var localAddresses: Set<IPAddress>
    /// A socket (transparent or not) exists for the packet (`-m socket`).
    public var socket: (exists: Bool, transparent: Bool)?
    /// The link-layer type (`-m pkttype`).
    public var linkType: String

    public init(
        hook: ChainName, inInterface: String? = nil, outInterface: String? = nil, mark: UInt32 = 0,
        connectionMark: UInt32 = 0,
        conntrackState: ConntrackMatch.State = .new, conntrackDirection: ConntrackMatch.Direction = .original,
        originalDestination: IPAddress? = nil, originalDestinationPort: UInt16? = nil,
        socketUID: UInt32? = nil,
        socketGID: UInt32? = nil, localAddresses: Set<IPAddress> = [],
        socket: (exists: Bool, transparent: Bool)? = nil,
        linkType: String = "unicast"
    ) {
        self.hook = hook
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.mark = mark
        self.connectionMark = connectionMark
        self.conntrackState = conntrackState
        self.conntrackDirection = conntrackDirection
        self.originalDestination = originalDestination
        self.originalDestinationPort = originalDestinationPort
        self.socketUID = socketUID
        self.socketGID = socketGID
        self.localAddresses = localAddresses
        self.socket = socket
        self.linkType = linkType
    }

}
