import Netfilter
import PacketModel

/// The tables a document leaves in an empty kernel: chains (built-in with policy, user chains)
/// and each chain's rules in final order, after every `-A`, `-I`, `-D`, `-F`, `-X`.
public struct RuleTables: Hashable, Sendable {
    public struct Chain: Hashable, Sendable {
        public let name: ChainName
        /// nil for user chains.
        public var policy: Policy?
        public var rules: [Rule]
    }

    public struct TableState: Hashable, Sendable {
        public let table: Table
        /// Built-in chains in hook order, then user chains in creation order.
        public var chains: [Chain]

        public func chain(_ name: ChainName) -> Chain? { chains.first { $0.name == name } }
    }

    public var family: IPFamily
    public var tables: [TableState]

    public init(_ document: RestoreDocument) throws {
        family = document.family
        tables = []
        for block in document.blocks {
            var state =
                tables.first { $0.table == block.table }
                ?? TableState(
                    table: block.table,
                    chains: block.table.builtinChains.map { Chain(name: $0, policy: .accept, rules: []) })
            func index(_ name: ChainName) throws -> Int {
                guard let found = state.chains.firstIndex(where: { $0.name == name }) else {
                    throw TablesError(message: "chain \(name) does not exist in table \(block.table)")
                }
                return found
            }
            for statement in block.statements {
                switch statement {
                case .chain(let name, let policy, _):
                    if let existing = state.chains.firstIndex(where: { $0.name == name }) {
                        if let policy { state.chains[existing].policy = policy }
                    } else {
                        state.chains.append(Chain(name: name, policy: nil, rules: []))
                    }
                case .newChain(let name):
                    guard !state.chains.contains(where: { $0.name == name }) else {
                        throw TablesError(message: "chain \(name) already exists in table \(block.table)")
                    }
                    state.chains.append(Chain(name: name, policy: nil, rules: []))
                case .rule(let chainRule, _):
                    let at = try index(chainRule.chain)
                    if let target = chainRule.rule.target.jumpedChain,
                        !state.chains.contains(where: { $0.name == target })
                    {
                        throw TablesError(
                            message: "chain \(target) (jumped to) does not exist in table \(block.table)")
                    }
                    switch chainRule.placement {
                    case .append: state.chains[at].rules.append(chainRule.rule)
                    case .insert(let position):
                        guard position <= state.chains[at].rules.count + 1 else {
                            throw TablesError(
                                message:
                                    "cannot insert at \(position) in \(chainRule.chain): it has \(state.chains[at].rules.count) rules"
                            )
                        }
                        state.chains[at].rules.insert(chainRule.rule, at: position - 1)
                    }
                case .delete(let chain, .position(let position)):
                    let at = try index(chain)
                    guard position >= 1 && position <= state.chains[at].rules.count else {
                        throw TablesError(message: "no rule \(position) in \(chain)")
                    }
                    state.chains[at].rules.remove(at: position - 1)
                case .delete(let chain, .rule(let rule)):
                    let at = try index(chain)
                    guard let found = state.chains[at].rules.firstIndex(of: rule) else {
                        throw TablesError(message: "no such rule in \(chain)")
                    }
                    state.chains[at].rules.remove(at: found)
                case .flush(let chain):
                    if let chain {
                        state.chains[try index(chain)].rules.removeAll()
                    } else {
                        for at in state.chains.indices { state.chains[at].rules.removeAll() }
                    }
                case .deleteChain(let chain):
                    if let chain {
                        let at = try index(chain)
                        guard state.chains[at].policy == nil else {
                            throw TablesError(message: "cannot delete built-in chain \(chain)")
                        }
                        state.chains.remove(at: at)
                    } else {
                        state.chains.removeAll { $0.policy == nil }
                    }
                case .policy(let chain, let policy):
                    let at = try index(chain)
                    state.chains[at].policy = policy
                }
            }
            if let existing = tables.firstIndex(where: { $0.table == block.table }) {
                tables[existing] = state
            } else {
                tables.append(state)
            }
        }
    }
}

public struct TablesError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
