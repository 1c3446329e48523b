import Netfilter
import PacketModel

/// Graphviz DOT of the chains and the jumps between them, one cluster per table. Built-in
/// chains are boxes in bold; an edge is labelled with the rule number(s) that jump (dashed for -g).
public struct DOTRenderer {
    public init() {}

    public func render(_ tables: RuleTables) -> String {
        var text =
            "digraph \"\(tables.family.rawValue)\" {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n"
        for state in tables.tables {
            let prefix = "\(state.table)_"
            text += "  subgraph \"cluster_\(state.table)\" {\n    label=\"\(state.table)\";\n"
            for chain in state.chains {
                let style = chain.policy != nil ? ", style=bold" : ""
                let label =
                    "\(chain.name)\\n\(chain.rules.count) rule\(chain.rules.count == 1 ? "" : "s")"
                    + (chain.policy.map { ", policy \($0.rawValue)" } ?? "")
                text += "    \"\(prefix)\(chain.name)\" [label=\"\(label)\"\(style)];\n"
            }
            for chain in state.chains {
                var edges: [(ChainName, Bool, [Int])] = []
                for (index, rule) in chain.rules.enumerated() {
                    let isGoto: Bool
                    let target: ChainName
                    switch rule.target {
                    case .jump(let name):
                        (target, isGoto) = (name, false)
                    case .goto(let name):
                        (target, isGoto) = (name, true)
                    default: continue
                    }
                    if let existing = edges.firstIndex(where: { $0.0 == target && $0.1 == isGoto }) {
                        edges[existing].2.append(index + 1)
                    } else {
                        edges.append((target, isGoto, [index + 1]))
                    }
                }
                for (target, isGoto, rules) in edges {
                    let label = "#" + rules.map(String.init).joined(separator: ",#")
                    text +=
                        "    \"\(prefix)\(chain.name)\" -> \"\(prefix)\(target)\" [label=\"\(label)\"\(isGoto ? ", style=dashed" : "")];\n"
                }
            }
            text += "  }\n"
        }
        return text + "}\n"
    }
}
