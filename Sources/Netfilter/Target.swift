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
    case nat(NATTarget)
    case reject(RejectTarget)
    case log(LogTarget)
    /// `-j NOTRACK` (raw): the older spelling of `-j CT --notrack`.
    case notrack
    /// `-j TRACE` (raw): log every rule the packet meets.
    case trace

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
        case .nat(let target): ["-j", target.kind.rawValue] + target.arguments
        case .reject(let target): ["-j", "REJECT"] + target.arguments
        case .log(let target): ["-j", "LOG"] + target.arguments
        case .notrack: ["-j", "NOTRACK"]
        case .trace: ["-j", "TRACE"]
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
        case .accept, .drop, .return, .jump, .goto, .countOnly, .nflog, .mark, .connmark, .log: nil
        case .nat: [.nat]
        case .reject: [.filter, .mangle, .raw, .security]
        case .notrack, .trace: [.raw]
        case .redirect: [.nat]
        case .tproxy: [.mangle]
        case .ct: [.raw]
        }
    }
}
