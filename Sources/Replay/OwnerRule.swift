import PacketModel

/// `--owner 'sport=15000-15100,uid=1337'`: who owns the pod's sockets for flows a capture cannot
/// tell about. Selectors `src`, `dst` (an address or CIDR), `sport`, `dport` (a port or `a-b`)
/// pick the flows by their initiator (src) and responder (dst); `uid` and `gid` (default: the uid)
/// are the owner. The first rule that matches wins.
public struct OwnerRule: Hashable, Sendable, CustomStringConvertible {
    public var source: CIDR?
    public var destination: CIDR?
    public var sourcePorts: ClosedRange<UInt16>?
    public var destinationPorts: ClosedRange<UInt16>?
    public var uid: UInt32
    public var gid: UInt32
    public let description: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(Failure) {
        description = text
        var uid: UInt32?
        var gid: UInt32?
        func fail(_ why: String) -> Failure {
            Failure(
                description:
                    "--owner '\(text)': \(why) (e.g. 'sport=15000-15100,uid=1337', 'dst=10.96.0.0/12,uid=0,gid=1337')"
            )
        }
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else { throw fail("'\(item)' is not KEY=VALUE") }
            let (key, value) = (parts[0], parts[1])
            switch key {
            case "uid", "gid":
                guard let number = UInt32(value) else { throw fail("\(key) must be a number") }
                if key == "uid" { uid = number } else { gid = number }
            case "src", "dst":
                let prefix =
                    value.contains("/")
                    ? CIDR.parse(value) : IPAddress.parse(value).map { CIDR(host: $0) }.mapError { $0 }
                guard case .success(let network) = prefix else {
                    throw fail("\(key): not an address or CIDR: \(value)")
                }
                if key == "src" { source = network } else { destination = network }
            case "sport", "dport":
                let bounds = value.split(separator: "-", maxSplits: 1).map { UInt16($0) }
                guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, low <= high else {
                    throw fail("\(key): not a port or range: \(value)")
                }
                if key == "sport" { sourcePorts = low...high } else { destinationPorts = low...high }
            default:
                throw fail("unknown key \(key) (src, dst, sport, dport, uid, gid)")
            }
        }
        guard let uid else { throw fail("needs uid=") }
        self.uid = uid
        self.gid = gid ?? uid
    }

    public func matches(
        initiator: IPAddress, initiatorPort: UInt16, responder: IPAddress, responderPort: UInt16
    )
        -> Bool
    {
        (source?.contains(initiator) ?? true) && (destination?.contains(responder) ?? true)
            && (sourcePorts?.contains(initiatorPort) ?? true)
            && (destinationPorts?.contains(responderPort) ?? true)
    }
}
