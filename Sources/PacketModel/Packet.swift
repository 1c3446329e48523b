/// The header fields netfilter rules look at, for one packet.
public struct PacketHeader: Hashable, Sendable {
    public var proto: IPProtocol
    public var source: IPAddress
    public var destination: IPAddress
    /// TCP/UDP ports; 0 for protocols without ports.
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// TCP flags as names (`SYN`, `ACK`, …); empty for other protocols.
    public var tcpFlags: Set<String>
    /// ICMP / ICMPv6 type and code.
    public var icmpType: UInt8?
    public var icmpCode: UInt8?

    public init(
        proto: IPProtocol, source: IPAddress, sourcePort: UInt16 = 0, destination: IPAddress,
        destinationPort: UInt16 = 0,
        tcpFlags: Set<String> = [], icmpType: UInt8? = nil, icmpCode: UInt8? = nil
    ) {
        self.proto = proto
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.tcpFlags = tcpFlags
        self.icmpType = icmpType
        self.icmpCode = icmpCode
    }

    public var family: IPFamily { source.family }
}
