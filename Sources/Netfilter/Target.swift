/// What a rule does when it matches. Extension targets' payloads live under `Targets/`.
public enum Target: Hashable, Sendable {
    case accept
    case drop
    case `return`
    /// `-j CHAIN`: walk a user chain, come back on RETURN or at its end.
    case jump(ChainName)
    /// `-g CHAIN`: walk a user chain; its end returns to the caller's caller.
    case goto(ChainName)
    /// No `-j`: the rule only counts packets, which go on to the next rule.
    case countOnly
    case redirect(RedirectTarget)
    case tproxy(TProxyTarget)
    case mark(MarkTarget)
    case connmark(ConnmarkTarget)
    case ct(CTTarget)
    case nflog(NFLogTarget)

    public var arguments: [String] {
        switch self {
        case .accept: ["-j", "ACCEPT"]
        case .drop: ["-j", "DROP"]
        case .return: ["-j", "RETURN"]
        case .jump(let chain): ["-j", chain.rawValue]
        case .goto(let chain): ["-g", chain.rawValue]
        case .countOnly: []
        case .redirect(let target): ["-j", "REDIRECT"] + target.arguments
        case .tproxy(let target): ["-j", "TPROXY"] + target.arguments
        case .mark(let target): ["-j", "MARK"] + target.arguments
        case .connmark(let target): ["-j", "CONNMARK"] + target.arguments
        case .ct(let target): ["-j", "CT"] + target.arguments
        case .nflog(let target): ["-j", "NFLOG"] + target.arguments
        }
    }

    /// The user chain this target walks into, if any.
    public var jumpedChain: ChainName? {
        switch self {
        case .jump(let chain), .goto(let chain): chain
        default: nil
        }
    }

    /// Tables whose `checkentry` accepts the target (`nil`: any table).
    public var validTables: Set<Table>? {
        switch self {
        case .accept, .drop, .return, .jump, .goto, .countOnly, .nflog, .mark, .connmark: nil
        case .redirect: [.nat]
        case .tproxy: [.mangle]
        case .ct: [.raw]
        }
    }
}
