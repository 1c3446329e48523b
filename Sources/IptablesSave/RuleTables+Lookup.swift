import Netfilter

extension RuleTables: RuleLookup {
    public func rules(_ table: Table, _ chain: ChainName) -> [Rule]? {
        tables.first { $0.table == table }?.chain(chain)?.rules
    }

    public func policy(_ table: Table, _ chain: ChainName) -> Target? {
        guard let policy = tables.first(where: { $0.table == table })?.chain(chain)?.policy else {
            return nil
        }
        return policy == .accept ? .accept : .drop
    }
}
