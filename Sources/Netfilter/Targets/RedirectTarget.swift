import PacketModel

/// `-j REDIRECT --to-ports P`: NAT the destination to the primary address of the incoming
/// interface (PREROUTING) or to 127.0.0.1 / ::1 (OUTPUT), port P. nat table only.
public struct RedirectTarget: Hashable, Sendable {
    /// iptables accepts both spellings; Istio writes `--to-port` for its DNS rules.
    public enum Spelling: String, Hashable, Sendable {
        case toPorts = "--to-ports"
        case toPort = "--to-port"
    }

    public var ports: PortSpec
    public var spelling: Spelling

    public init(ports: PortSpec, spelling: Spelling = .toPorts) {
        self.ports = ports
        self.spelling = spelling
    }

    public var arguments: [String] { [spelling.rawValue, ports.text] }

    public static let validHooks: Set<ChainName> = [.prerouting, .output]
}
