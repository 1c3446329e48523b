import Netfilter
import PacketModel

/// The tables as JSON, schema `iptsim.rules/v1`:
///
///     {"schema": "iptsim.rules/v1", "family": "ipv4"|"ipv6",
///      "tables": [{"table": "nat",
///                  "chains": [{"name": "OUTPUT", "builtin": true, "policy": "ACCEPT"|null,
///                              "rules": [{"index": 1, "save": "-p tcp -j ISTIO_OUTPUT",
///                                         "matches": [{"kind": "protocol", "negated": false, "text": "-p tcp"}],
///                                         "target": {"kind": "jump", "chain": "ISTIO_OUTPUT", "text": "-j ISTIO_OUTPUT"}}]}]}]}
///
/// `save` is the rule in iptables-save's normal form; `text` fields are as written.
public struct JSONRenderer {
    public var save: SaveRenderer

    public init(save: SaveRenderer = SaveRenderer()) { self.save = save }

    public func render(_ tables: RuleTables) -> String {
        var tableObjects: [String] = []
        for state in tables.tables {
            var chainObjects: [String] = []
            for chain in state.chains {
                var ruleObjects: [String] = []
                for (index, rule) in chain.rules.enumerated() {
                    let matches = rule.matches.map { match in
                        object([
                            ("kind", jsonQuote(kind(match))), ("negated", negated(match) ? "true" : "false"),
                            ("text", jsonQuote(match.arguments.joined(separator: " "))),
                        ])
                    }
                    var target: [(String, String)] = [("kind", jsonQuote(kind(rule.target)))]
                    if let chain = rule.target.jumpedChain {
                        target.append(("chain", jsonQuote(chain.rawValue)))
                    }
                    target.append(("text", jsonQuote(rule.target.arguments.joined(separator: " "))))
                    ruleObjects.append(
                        object([
                            ("index", String(index + 1)),
                            (
                                "save",
                                jsonQuote(save.arguments(rule, family: tables.family).joined(separator: " "))
                            ),
                            ("matches", "[" + matches.joined(separator: ", ") + "]"),
                            ("target", object(target)),
                        ]))
                }
                chainObjects.append(
                    object([
                        ("name", jsonQuote(chain.name.rawValue)),
                        ("builtin", chain.policy != nil ? "true" : "false"),
                        ("policy", chain.policy.map { jsonQuote($0.rawValue) } ?? "null"),
                        ("rules", "[" + ruleObjects.joined(separator: ", ") + "]"),
                    ]))
            }
            tableObjects.append(
                object([
                    ("table", jsonQuote(state.table.rawValue)),
                    ("chains", "[" + chainObjects.joined(separator: ", ") + "]"),
                ]))
        }
        return object([
            ("schema", jsonQuote("iptsim.rules/v1")), ("family", jsonQuote(tables.family.rawValue)),
            ("tables", "[" + tableObjects.joined(separator: ", ") + "]"),
        ]) + "\n"
    }

    func kind(_ match: Match) -> String {
        switch match {
        case .protocol: "protocol"
        case .address(let address): address.side == .source ? "source" : "destination"
        case .interface(let interface): interface.direction == .incoming ? "in-interface" : "out-interface"
        case .port: "port"
        case .multiport: "multiport"
        case .owner: "owner"
        case .conntrack: "conntrack"
        case .mark: "mark"
        case .connmark: "connmark"
        case .comment: "comment"
        case .statistic: "statistic"
        case .addrType: "addrtype"
        case .state: "state"
        case .icmp(let icmp): icmp.v6 ? "icmp6" : "icmp"
        case .tcpFlags: "tcp-flags"
        case .ipRange: "iprange"
        case .pktType: "pkttype"
        case .socket: "socket"
        case .moduleOnly(let name): name
        }
    }

    func negated(_ match: Match) -> Bool { match.arguments.contains("!") }

    func kind(_ target: Target) -> String {
        switch target {
        case .accept: "ACCEPT"
        case .drop: "DROP"
        case .return: "RETURN"
        case .jump: "jump"
        case .goto: "goto"
        case .countOnly: "none"
        default: target.arguments.dropFirst().first ?? "none"
        }
    }

    func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(jsonQuote($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
}
