import Netfilter
import PacketModel

/// Parses the words of one rule (after `-A CHAIN` / `-I CHAIN [n]`) into a typed `Rule`, with
/// iptables' option grammar: `!` before an option (or, old style, after its name), `-m NAME`
/// loading a match whose options follow, the protocol's own match after `-p tcp|udp`, and the
/// target's options after `-j`.
struct RuleParser {
    let family: IPFamily
    let line: Int

    /// Targets that iptables implements as extensions. Any other `-j NAME` is a chain.
    static let targetExtensions: Set<String> = [
        "ACCEPT", "DROP", "RETURN", "REDIRECT", "TPROXY", "MARK", "CONNMARK", "CT", "NFLOG", "REJECT", "DNAT",
        "SNAT",
        "MASQUERADE", "LOG", "TRACE", "NOTRACK", "QUEUE", "NFQUEUE", "AUDIT", "CHECKSUM", "CLASSIFY", "DSCP",
        "TOS",
        "TTL", "HL", "TCPMSS", "SECMARK", "CONNSECMARK", "NETMAP", "SET", "IDLETIMER", "LED", "TEE",
        "SYNPROXY",
        "HMARK", "CLUSTERIP", "ULOG", "TCPOPTSTRIP", "RATEEST", "CONNLOG",
    ]

    struct State {
        var tokens: [Token]
        var index = 0
        var negation: Negation = .normal
        var negationColumn = 0
        var protocolName: String?
        /// The module `-m` loaded last, for options that follow it.
        var module: String?
        var moduleOptionsSeen = 0
        var matches: [Match] = []
        var target: Target?
        var counters: Counters?

        var atEnd: Bool { index >= tokens.count }
        var current: Token { tokens[index] }
    }

    func error(_ column: Int, _ message: String, _ extensionName: String? = nil) -> RulesParseError {
        RulesParseError(line: line, column: column, message: message, extensionName: extensionName)
    }

    func parse(_ tokens: [Token]) -> Result<(Rule, Counters?), RulesParseError> {
        var state = State(tokens: tokens)
        do {
            while !state.atEnd {
                try step(&state)
            }
            if state.negation == .inverted {
                throw error(state.negationColumn, "'!' is not followed by an option")
            }
        } catch let failure as RulesParseError {
            return .failure(failure)
        } catch {
            return .failure(self.error(1, "\(error)"))
        }
        return .success((Rule(state.matches, state.target ?? .countOnly), state.counters))
    }

    /// The value after an option name, and an old-style `!` between them.
    func value(_ state: inout State, for option: Token) throws -> String {
        state.index += 1
        if !state.atEnd && state.current.text == "!" && !state.current.quoted {
            state.negation = .inverted
            state.index += 1
        }
        guard !state.atEnd else { throw error(option.column, "option \(option.text) needs a value") }
        let text = state.current.text
        state.index += 1
        return text
    }

    func takeNegation(_ state: inout State) -> Negation {
        defer { state.negation = .normal }
        return state.negation
    }

    func step(_ state: inout State) throws {
        let token = state.current
        if token.text == "!" && !token.quoted {
            if state.negation == .inverted { throw error(token.column, "'!' twice") }
            state.negation = .inverted
            state.negationColumn = token.column
            state.index += 1
            return
        }
        if state.target != nil {
            throw error(token.column, "unexpected \(token.text) after the target's options")
        }
        switch token.text {
        case "-p", "--protocol":
            let name = try value(&state, for: token)
            guard let proto = IPProtocol(name: name) else {
                throw error(token.column, "unknown protocol \(quoted(name))")
            }
            state.protocolName = name.lowercased()
            state.matches.append(.protocol(ProtocolMatch(proto, takeNegation(&state))))
        case "-s", "--source", "--src", "-d", "--destination", "--dst":
            let text = try value(&state, for: token)
            let side: AddressMatch.Side =
                token.text.hasPrefix("-s") || token.text.hasPrefix("--s") ? .source : .destination
            let network = try address(text, column: token.column)
            state.matches.append(.address(AddressMatch(side, network, spelling: text, takeNegation(&state))))
        case "-i", "--in-interface", "-o", "--out-interface":
            let name = try value(&state, for: token)
            let direction: InterfaceMatch.Direction =
                token.text == "-i" || token.text == "--in-interface" ? .incoming : .outgoing
            state.matches.append(.interface(InterfaceMatch(direction, name, takeNegation(&state))))
        case "-m", "--match":
            state.index += 1
            guard !state.atEnd else { throw error(token.column, "-m needs a match name") }
            let name = state.current.text == "icmpv6" ? "icmp6" : state.current.text
            state.module = name
            state.moduleOptionsSeen = 0
            let known = [
                "tcp", "udp", "multiport", "owner", "conntrack", "mark", "connmark", "comment", "statistic",
                "addrtype",
                "state", "icmp", "icmp6", "iprange", "pkttype", "socket",
            ]
            guard known.contains(name) else {
                throw error(
                    state.current.column,
                    "match extension \(quoted(state.current.text)) is not supported by the model",
                    state.current.text)
            }
            state.index += 1
            // Modules whose options make up one instance start as a placeholder the options fill in.
            switch name {
            case "tcp", "udp", "icmp", "icmp6": state.matches.append(.moduleOnly(name))
            case "statistic": state.matches.append(.statistic(StatisticMatch(.nth(every: 0, packet: nil))))
            case "addrtype": state.matches.append(.addrType(AddrTypeMatch()))
            case "iprange": state.matches.append(.ipRange(IPRangeMatch(source: nil, destination: nil)))
            case "socket": state.matches.append(.socket(SocketMatch()))
            case "conntrack": state.matches.append(.conntrack(ConntrackMatch([], module: .explicit)))
            default: break
            }
        case "-j", "--jump", "-g", "--goto":
            state.index += 1
            guard !state.atEnd else { throw error(token.column, "\(token.text) needs a target") }
            let name = state.current.text
            let nameColumn = state.current.column
            state.index += 1
            if token.text == "-g" || token.text == "--goto" {
                state.target = .goto(ChainName(name))
                return
            }
            state.target = try target(name, column: nameColumn, &state)
        case "-c", "--set-counters":
            state.index += 1
            guard state.index + 1 < state.tokens.count, let packets = UInt64(state.tokens[state.index].text),
                let bytes = UInt64(state.tokens[state.index + 1].text)
            else { throw error(token.column, "-c needs packet and byte counts") }
            state.counters = Counters(packets: packets, bytes: bytes)
            state.index += 2
        default:
            if token.text.hasPrefix("--") {
                try moduleOption(token, &state)
            } else {
                throw error(token.column, "unknown option \(quoted(token.text))")
            }
        }
    }

    /// Options of the module loaded by `-m`, or of the protocol's own match.
    func moduleOption(_ token: Token, _ state: inout State) throws {
        let spelling: ModuleSpelling
        let module: String
        let protocolOptions: [String: Set<String>] = [
            "tcp": ["--dport", "--sport", "--destination-port", "--source-port", "--syn", "--tcp-flags"],
            "udp": ["--dport", "--sport", "--destination-port", "--source-port"],
            "icmp": ["--icmp-type"], "icmp6": ["--icmpv6-type"], "icmpv6": ["--icmpv6-type"],
            "ipv6-icmp": ["--icmpv6-type"],
        ]
        // iptables offers an option to every loaded match: the protocol's own match takes its
        // options even after another `-m` (`-p tcp -m owner --uid-owner 1 --dport 80`).
        let protocolTakesIt =
            state.protocolName.flatMap { protocolOptions[$0] }?.contains(token.text) ?? false
            && !(state.module.flatMap { protocolOptions[$0] }?.contains(token.text) ?? false)
        if let loaded = state.module, !protocolTakesIt {
            module = loaded
            spelling = state.moduleOptionsSeen == 0 ? .explicit : .continuation
        } else if let proto = state.protocolName,
            ["tcp", "udp", "icmp", "icmpv6", "ipv6-icmp"].contains(proto)
        {
            module = ["tcp", "udp", "icmp"].contains(proto) ? proto : "icmp6"
            spelling = .implicit
        } else {
            throw error(token.column, "unknown option \(quoted(token.text)) (no match extension loaded)")
        }
        let unsupported = {
            self.error(
                token.column, "option \(token.text) of match \(module) is not supported by the model", module)
        }
        // The first option after `-m tcp|udp|icmp` replaces the module placeholder.
        if spelling == .explicit, case .moduleOnly(let name)? = state.matches.last, name == module {
            state.matches.removeLast()
        }
        func lastIndex(_ test: (Match) -> Bool) -> Int? { state.matches.lastIndex(where: test) }
        switch (module, token.text) {
        case ("tcp", "--dport"), ("tcp", "--destination-port"), ("udp", "--dport"),
            ("udp", "--destination-port"),
            ("tcp", "--sport"), ("tcp", "--source-port"), ("udp", "--sport"), ("udp", "--source-port"):
            let text = try value(&state, for: token)
            let side: PortMatch.Side =
                token.text.contains("d") && !token.text.contains("source") ? .destination : .source
            let port = PortSpec(text)
            guard port.isValid else { throw error(token.column, "invalid port \(quoted(text))", module) }
            state.matches.append(
                .port(PortMatch(side, port, takeNegation(&state), module: spelling, moduleName: module)))
        case ("multiport", "--dports"), ("multiport", "--destination-ports"), ("multiport", "--sports"),
            ("multiport", "--source-ports"), ("multiport", "--ports"):
            let text = try value(&state, for: token)
            let side: MultiportMatch.Side =
                token.text == "--ports" ? .either : token.text.contains("d") ? .destination : .source
            let ports = text.split(separator: ",", omittingEmptySubsequences: false).map {
                PortSpec(String($0))
            }
            guard ports.allSatisfy(\.isValid), !ports.isEmpty else {
                throw error(token.column, "invalid port list \(quoted(text))", module)
            }
            state.matches.append(
                .multiport(MultiportMatch(side, ports, takeNegation(&state), module: spelling)))
        case ("owner", "--uid-owner"), ("owner", "--gid-owner"):
            let text = try value(&state, for: token)
            let kind: OwnerMatch.Kind = token.text == "--uid-owner" ? .uid : .gid
            state.matches.append(
                .owner(OwnerMatch(kind, OwnerID(text), takeNegation(&state), module: spelling)))
        case ("conntrack", "--ctstate"), ("state", "--state"):
            let text = try value(&state, for: token)
            var states: [ConntrackMatch.State] = []
            for name in text.split(separator: ",") {
                guard let parsed = ConntrackMatch.State(rawValue: String(name)) else {
                    throw error(token.column, "unknown conntrack state \(quoted(String(name)))", module)
                }
                states.append(parsed)
            }
            let negation = takeNegation(&state)
            if module == "state" {
                state.matches.append(.state(StateMatch(states, negation)))
            } else if let at = lastIndex({ if case .conntrack = $0 { true } else { false } }),
                case .conntrack(var match) = state.matches[at]
            {
                match.states = states
                match.negation = negation
                state.matches[at] = .conntrack(match)
            }
        case ("conntrack", "--ctorigdst"), ("conntrack", "--ctorigdstport"), ("conntrack", "--ctdir"):
            let text = try value(&state, for: token)
            let negation = takeNegation(&state)
            guard let at = lastIndex({ if case .conntrack = $0 { true } else { false } }),
                case .conntrack(var match) = state.matches[at]
            else { throw unsupported() }
            switch token.text {
            case "--ctorigdst":
                _ = try address(text, column: token.column)
                match.originalDestination = (text, negation)
            case "--ctorigdstport":
                guard PortSpec(text).isValid else {
                    throw error(token.column, "invalid port \(quoted(text))", module)
                }
                match.originalDestinationPort = (PortSpec(text), negation)
            default:
                guard let direction = ConntrackMatch.Direction(rawValue: text) else {
                    throw error(token.column, "--ctdir is ORIGINAL or REPLY", module)
                }
                match.direction = direction
            }
            state.matches[at] = .conntrack(match)
        case ("owner", "--socket-exists"):
            state.index += 1
            state.matches.append(
                .owner(OwnerMatch(.socketExists, OwnerID(""), takeNegation(&state), module: spelling)))
        case ("tcp", "--syn"):
            state.index += 1
            state.matches.append(
                .tcpFlags(
                    TCPFlagsMatch(
                        mask: ["FIN", "SYN", "RST", "ACK"], compare: ["SYN"], negation: takeNegation(&state),
                        writtenAsSyn: true, module: spelling)))
        case ("tcp", "--tcp-flags"):
            guard state.index + 2 < state.tokens.count else {
                throw error(token.column, "--tcp-flags needs a mask and a comparison", module)
            }
            let maskText = state.tokens[state.index + 1].text
            let compareText = state.tokens[state.index + 2].text
            state.index += 3
            func flags(_ text: String) throws -> Set<String> {
                if text == "ALL" { return Set(TCPFlagsMatch.order) }
                if text == "NONE" { return [] }
                let names = Set(text.split(separator: ",").map(String.init))
                guard names.isSubset(of: Set(TCPFlagsMatch.order)) else {
                    throw error(token.column, "unknown TCP flag in \(quoted(text))", module)
                }
                return names
            }
            state.matches.append(
                .tcpFlags(
                    TCPFlagsMatch(
                        mask: try flags(maskText), compare: try flags(compareText),
                        negation: takeNegation(&state),
                        writtenAsSyn: false, module: spelling)))
        case ("icmp", "--icmp-type"), ("icmp6", "--icmpv6-type"):
            let text = try value(&state, for: token)
            let v6 = module == "icmp6"
            var type: UInt8
            var code: UInt8?
            if let named = (v6 ? ICMPMatch.v6Names : ICMPMatch.v4Names)[text] {
                (type, code) = named
            } else {
                let parts = text.split(separator: "/", omittingEmptySubsequences: false)
                guard let parsed = UInt8(parts[0]), parts.count <= 2 else {
                    throw error(token.column, "unknown ICMP type \(quoted(text))", module)
                }
                type = parsed
                if parts.count == 2 {
                    guard let parsedCode = UInt8(parts[1]) else {
                        throw error(token.column, "bad ICMP code in \(quoted(text))", module)
                    }
                    code = parsedCode
                }
            }
            state.matches.append(
                .icmp(
                    ICMPMatch(
                        typeText: text, type: type, code: code, negation: takeNegation(&state), v6: v6,
                        module: spelling)))
        case ("comment", "--comment"):
            let text = try value(&state, for: token)
            state.matches.append(.comment(CommentMatch(text, quoted: state.tokens[state.index - 1].quoted)))
        case ("statistic", "--mode"), ("statistic", "--probability"), ("statistic", "--every"),
            ("statistic", "--packet"):
            let text = try value(&state, for: token)
            let negation = takeNegation(&state)
            guard let at = lastIndex({ if case .statistic = $0 { true } else { false } }),
                case .statistic(var match) = state.matches[at]
            else { throw unsupported() }
            switch token.text {
            case "--mode":
                switch text {
                case "random": match.mode = .random(probability: "")
                case "nth": match.mode = .nth(every: 0, packet: nil)
                default: throw error(token.column, "--mode is random or nth", module)
                }
            case "--probability":
                guard let probability = Double(text), probability >= 0, probability <= 1 else {
                    throw error(token.column, "--probability must be between 0 and 1", module)
                }
                match.mode = .random(probability: text)
                match.negation = negation
            case "--every":
                guard let every = UInt32(text), every > 0 else {
                    throw error(token.column, "bad --every \(quoted(text))", module)
                }
                if case .nth(_, let packet) = match.mode { match.mode = .nth(every: every, packet: packet) }
                match.negation = negation
            default:
                guard let packet = UInt32(text) else {
                    throw error(token.column, "bad --packet \(quoted(text))", module)
                }
                if case .nth(let every, _) = match.mode { match.mode = .nth(every: every, packet: packet) }
            }
            state.matches[at] = .statistic(match)
        case ("addrtype", "--src-type"), ("addrtype", "--dst-type"), ("addrtype", "--limit-iface-in"),
            ("addrtype", "--limit-iface-out"):
            guard let at = lastIndex({ if case .addrType = $0 { true } else { false } }),
                case .addrType(var match) = state.matches[at]
            else { throw unsupported() }
            switch token.text {
            case "--limit-iface-in":
                state.index += 1
                match.limitInterfaceIn = true
            case "--limit-iface-out":
                state.index += 1
                match.limitInterfaceOut = true
            default:
                let text = try value(&state, for: token)
                let types = [
                    "UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
                    "UNREACHABLE", "PROHIBIT",
                    "THROW", "NAT", "XRESOLVE",
                ]
                guard text.split(separator: ",").allSatisfy({ types.contains(String($0)) }) else {
                    throw error(token.column, "unknown address type \(quoted(text))", module)
                }
                if token.text == "--src-type" {
                    match.sourceType = (text, takeNegation(&state))
                } else {
                    match.destinationType = (text, takeNegation(&state))
                }
            }
            state.matches[at] = .addrType(match)
        case ("iprange", "--src-range"), ("iprange", "--dst-range"):
            let text = try value(&state, for: token)
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, case .success(let first) = IPAddress.parse(String(bounds[0])),
                case .success(let last) = IPAddress.parse(String(bounds[1])), first.family == family,
                last.family == family
            else { throw error(token.column, "bad address range \(quoted(text))", module) }
            guard let at = lastIndex({ if case .ipRange = $0 { true } else { false } }),
                case .ipRange(var match) = state.matches[at]
            else { throw unsupported() }
            let range = IPRangeMatch.Range(first: first, last: last, negation: takeNegation(&state))
            if token.text == "--src-range" { match.source = range } else { match.destination = range }
            state.matches[at] = .ipRange(match)
        case ("pkttype", "--pkt-type"):
            let text = try value(&state, for: token)
            guard ["unicast", "broadcast", "multicast", "host", "otherhost"].contains(text) else {
                throw error(token.column, "unknown packet type \(quoted(text))", module)
            }
            state.matches.append(.pktType(PktTypeMatch(text, takeNegation(&state))))
        case ("socket", "--transparent"), ("socket", "--nowildcard"):
            state.index += 1
            guard let at = lastIndex({ if case .socket = $0 { true } else { false } }),
                case .socket(var match) = state.matches[at]
            else { throw unsupported() }
            if token.text == "--transparent" { match.transparent = true } else { match.noWildcard = true }
            state.matches[at] = .socket(match)
        case ("mark", "--mark"), ("connmark", "--mark"):
            let text = try value(&state, for: token)
            let mark = MarkValue(text)
            guard mark.isValid else { throw error(token.column, "invalid mark \(quoted(text))", module) }
            let negation = takeNegation(&state)
            state.matches.append(
                module == "mark"
                    ? .mark(MarkMatch(mark, negation, module: spelling))
                    : .connmark(ConnmarkMatch(mark, negation, module: spelling)))
        default:
            throw unsupported()
        }
        state.moduleOptionsSeen += 1
    }

    func target(_ name: String, column: Int, _ state: inout State) throws -> Target {
        var options: [(name: Token, value: Token?)] = []
        while !state.atEnd {
            let option = state.current
            guard option.text.hasPrefix("--") else {
                throw error(option.column, "unexpected \(quoted(option.text)) after -j \(name)")
            }
            state.index += 1
            let flagOnly = [
                "--save-mark", "--restore-mark", "--notrack", "--random", "--random-fully", "--persistent",
            ].contains(option.text)
            if flagOnly {
                options.append((option, nil))
            } else {
                guard !state.atEnd else {
                    throw error(option.column, "option \(option.text) needs a value", name)
                }
                options.append((option, state.current))
                state.index += 1
            }
        }
        func only(_ allowed: Set<String>) throws {
            for option in options where !allowed.contains(option.name.text) {
                throw error(
                    option.name.column,
                    "option \(option.name.text) of target \(name) is not supported by the model", name)
            }
        }
        func option(_ names: String...) -> (Token, String?)? {
            options.first { names.contains($0.name.text) }.map { ($0.name, $0.value?.text) }
        }
        switch name {
        case "ACCEPT", "DROP", "RETURN":
            try only([])
            return name == "ACCEPT" ? .accept : name == "DROP" ? .drop : .return
        case "REDIRECT":
            try only(["--to-ports", "--to-port"])
            guard let (spelled, value) = option("--to-ports", "--to-port"), let value else {
                throw error(column, "this model needs REDIRECT --to-ports", name)
            }
            return .redirect(
                RedirectTarget(
                    ports: PortSpec(value), spelling: spelled.text == "--to-port" ? .toPort : .toPorts))
        case "TPROXY":
            try only(["--on-port", "--on-ip", "--tproxy-mark"])
            guard let (_, port) = option("--on-port"), let port else {
                throw error(column, "TPROXY needs --on-port", name)
            }
            var onIP: IPAddress?
            if let (token, ip) = option("--on-ip"), let ip {
                guard case .success(let address) = IPAddress.parse(ip) else {
                    throw error(token.column, "invalid address \(quoted(ip))", name)
                }
                onIP = address
            }
            let mark = option("--tproxy-mark").flatMap { $0.1 }.map(MarkValue.init) ?? MarkValue("0/0")
            return .tproxy(TProxyTarget(mark: mark, onPort: PortSpec(port), onIP: onIP))
        case "MARK":
            try only(["--set-mark", "--set-xmark", "--and-mark", "--or-mark", "--xor-mark"])
            guard options.count == 1, let operation = MarkTarget.Operation(rawValue: options[0].name.text),
                let value = options[0].value
            else {
                throw error(
                    column, "MARK needs one of --set-mark, --set-xmark, --and-mark, --or-mark, --xor-mark",
                    name)
            }
            guard MarkValue(value.text).isValid else {
                throw error(value.column, "invalid mark \(quoted(value.text))", name)
            }
            return .mark(MarkTarget(setMark: MarkValue(value.text), operation: operation))
        case "CONNMARK":
            try only([
                "--save-mark", "--restore-mark", "--mask", "--nfmask", "--ctmask", "--set-mark",
                "--set-xmark",
            ])
            if let set = options.first(where: { $0.name.text.hasPrefix("--set") }), let value = set.value {
                return .connmark(.set(option: set.name.text, value: MarkValue(value.text)))
            }
            let masks = options.filter { $0.value != nil }.flatMap { [$0.name.text, $0.value!.text] }
            if option("--save-mark") != nil {
                return .connmark(masks.isEmpty ? .saveMark : .transfer(save: true, masks: masks))
            }
            if option("--restore-mark") != nil {
                return .connmark(masks.isEmpty ? .restoreMark : .transfer(save: false, masks: masks))
            }
            throw error(column, "CONNMARK needs --save-mark, --restore-mark or --set-mark", name)
        case "CT":
            try only(["--zone", "--notrack"])
            if option("--notrack") != nil { return .ct(CTTarget(notrack: true)) }
            guard let (token, value) = option("--zone"), let value else {
                throw error(column, "CT needs --zone or --notrack", name)
            }
            guard let zone = UInt16(value) else {
                throw error(token.column, "invalid zone \(quoted(value))", name)
            }
            return .ct(CTTarget(zone: zone))
        case "NOTRACK", "TRACE":
            try only([])
            return name == "NOTRACK" ? .notrack : .trace
        case "REJECT":
            try only(["--reject-with"])
            return .reject(RejectTarget(with: option("--reject-with").flatMap { $0.1 }))
        case "DNAT", "SNAT", "MASQUERADE":
            let kind = NATTarget.Kind(rawValue: name)!
            let valueOption =
                kind == .dnat ? "--to-destination" : kind == .snat ? "--to-source" : "--to-ports"
            try only([valueOption, "--random", "--random-fully", "--persistent"])
            let flags = options.filter { $0.value == nil }.map(\.name.text)
            return .nat(NATTarget(kind, to: option(valueOption).flatMap { $0.1 }, flags: flags))
        case "LOG":
            try only(["--log-prefix", "--log-level"])
            return .log(
                LogTarget(
                    prefix: option("--log-prefix").flatMap { $0.1 },
                    level: option("--log-level").flatMap { $0.1 }))
        case "NFLOG":
            try only(["--nflog-prefix", "--nflog-group", "--nflog-size"])
            let prefixToken = options.first { $0.name.text == "--nflog-prefix" }?.value
            let prefix = prefixToken?.text ?? ""
            let quotedPrefix = prefixToken?.quoted ?? false
            let group = UInt16(option("--nflog-group").flatMap { $0.1 } ?? "0") ?? 0
            let size = UInt32(option("--nflog-size").flatMap { $0.1 } ?? "0") ?? 0
            return .nflog(NFLogTarget(prefix: prefix, quotePrefix: quotedPrefix, group: group, size: size))
        default:
            if Self.targetExtensions.contains(name) {
                throw error(column, "target extension \(quoted(name)) is not supported by the model", name)
            }
            try only([])
            return .jump(ChainName(name))
        }
    }

    /// `ADDR`, `ADDR/LEN` or `ADDR/MASK` (dotted); a bare address is a host route.
    func address(_ text: String, column: Int) throws -> CIDR {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard case .success(let address) = IPAddress.parse(String(parts[0])) else {
            throw error(column, "invalid address \(quoted(text)) (host names are not resolved)")
        }
        guard address.family == family else {
            throw error(column, "\(quoted(text)) is not an \(family == .ipv4 ? "IPv4" : "IPv6") address")
        }
        guard parts.count == 2 else { return CIDR(host: address) }
        if let bits = Int(parts[1]), bits >= 0, bits <= address.family.addressBits,
            parts[1].allSatisfy(\.isNumber)
        {
            return CIDR(address: address, prefixLength: bits)
        }
        if case .success(.v4(let mask)) = IPAddress.parse(String(parts[1])), address.family == .ipv4 {
            let ones = mask.value.nonzeroBitCount
            if ones == 0 || mask.value == UInt32.max << UInt32(32 - ones) {
                return CIDR(address: address, prefixLength: ones)
            }
        }
        throw error(column, "invalid mask in \(quoted(text))")
    }
}

func quoted(_ text: String) -> String { "\"\(text)\"" }

extension String {
    /// REDIRECT writes port ranges as `a-b`; PortSpec reads `a:b`.
    func replacingDash() -> String { String(map { $0 == "-" ? ":" : $0 }) }
}
