/// `[-m icmp] [!] --icmp-type T[/C]` (IPv4) or `[-m icmp6] [!] --icmpv6-type T[/C]`.
public struct ICMPMatch: Hashable, Sendable {
    /// As written: a name (`echo-request`) or `type[/code]`.
    public var typeText: String
    public var type: UInt8
    public var code: UInt8?
    public var negation: Negation
    public var v6: Bool
    public var module: ModuleSpelling

    public init(
        typeText: String, type: UInt8, code: UInt8?, negation: Negation, v6: Bool, module: ModuleSpelling
    ) {
        self.typeText = typeText
        self.type = type
        self.code = code
        self.negation = negation
        self.v6 = v6
        self.module = module
    }

    public var arguments: [String] {
        module.prefix(v6 ? "icmp6" : "icmp") + negation.prefix + [
            v6 ? "--icmpv6-type" : "--icmp-type", typeText,
        ]
    }

    /// The names iptables knows, with (type, code); code nil = any code.
    public static let v4Names: [String: (UInt8, UInt8?)] = [
        "any": (255, nil), "echo-reply": (0, nil), "pong": (0, nil), "destination-unreachable": (3, nil),
        "network-unreachable": (3, 0), "host-unreachable": (3, 1), "protocol-unreachable": (3, 2),
        "port-unreachable": (3, 3), "fragmentation-needed": (3, 4), "source-quench": (4, nil),
        "redirect": (5, nil),
        "echo-request": (8, nil), "ping": (8, nil), "router-advertisement": (9, nil),
        "router-solicitation": (10, nil),
        "time-exceeded": (11, nil), "ttl-exceeded": (11, nil), "parameter-problem": (12, nil),
        "timestamp-request": (13, nil), "timestamp-reply": (14, nil), "address-mask-request": (17, nil),
        "address-mask-reply": (18, nil),
    ]
    public static let v6Names: [String: (UInt8, UInt8?)] = [
        "destination-unreachable": (1, nil), "no-route": (1, 0), "port-unreachable": (1, 4),
        "packet-too-big": (2, nil),
        "time-exceeded": (3, nil), "parameter-problem": (4, nil), "echo-request": (128, nil),
        "ping": (128, nil),
        "echo-reply": (129, nil), "pong": (129, nil), "router-solicitation": (133, nil),
        "router-advertisement": (134, nil),
        "neighbour-solicitation": (135, nil), "neighbor-solicitation": (135, nil),
        "neighbour-advertisement": (136, nil),
        "neighbor-advertisement": (136, nil), "redirect": (137, nil),
    ]
}
