import Netfilter
import PacketModel

/// Reads iptables-save output or iptables-restore input (v4 or v6): `*table`, chain headers
/// `:CHAIN POLICY [p:b]`, `-N`, `-A`, `-I CHAIN [n]`, `-D`, `-F`, `-X`, `-P`, `COMMIT`, `#`
/// comments, `[p:b]` rule counters. Anything it cannot represent is an error with its line and
/// column, never dropped.
public enum RestoreParser {
    public static func parse(_ text: String, family: IPFamily = .ipv4) -> Result<
        RestoreDocument, RulesParseError
    > {
        var document = RestoreDocument(family: family)
        var open: TableBlock?
        var openLine = 0
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let column = line.count - trimmed.count + 1
            if trimmed.hasPrefix("*") {
                if open != nil {
                    return .failure(
                        .init(
                            line: lineNumber, column: column,
                            message: "table started before COMMIT of the table on line \(openLine)"))
                }
                let afterStar = trimmed.dropFirst()
                let name = afterStar.drop { $0 == " " || $0 == "\t" }.trimmingTrailingSpaces()
                guard let table = Table(rawValue: name) else {
                    return .failure(
                        .init(line: lineNumber, column: column + 1, message: "unknown table \(quoted(name))"))
                }
                open = TableBlock(table: table, spacedHeader: afterStar.first == " ")
                openLine = lineNumber
                continue
            }
            if trimmed.trimmingTrailingSpaces() == "COMMIT" {
                guard let block = open else {
                    return .failure(
                        .init(line: lineNumber, column: column, message: "COMMIT without a table"))
                }
                document.blocks.append(block)
                open = nil
                continue
            }
            guard open != nil else {
                return .failure(
                    .init(
                        line: lineNumber, column: column,
                        message: "\(quoted(String(trimmed.prefix(20)))) before any *table line"))
            }
            switch statement(trimmed, column: column, line: lineNumber, family: family, table: open!.table) {
            case .failure(let error): return .failure(error)
            case .success(let statement): open!.statements.append(statement)
            }
        }
        if open != nil {
            return .failure(.init(line: openLine, column: 1, message: "table \(open!.table) has no COMMIT"))
        }
        return .success(document)
    }

    static func statement(
        _ text: Substring, column: Int, line: Int, family: IPFamily, table: Table
    ) -> Result<Statement, RulesParseError> {
        let tokens: [Token]
        switch Tokenizer.split(text, lineNumber: line) {
        case .failure(let error): return .failure(error.shifted(by: column - 1))
        case .success(let found):
            tokens = found.map { Token(text: $0.text, column: $0.column + column - 1, quoted: $0.quoted) }
        }
        guard var first = tokens.first else {
            return .failure(.init(line: line, column: column, message: "empty statement"))
        }
        var rest = Array(tokens.dropFirst())
        let fail = { (column: Int, message: String) in
            Result<Statement, RulesParseError>.failure(.init(line: line, column: column, message: message))
        }

        if first.text.hasPrefix(":") {
            let name = String(first.text.dropFirst())
            guard !name.isEmpty, rest.count >= 1 else {
                return fail(first.column, "chain header needs a name and a policy")
            }
            let policyText = rest[0].text
            let policy: Policy?
            if policyText == "-" {
                policy = nil
            } else if let parsed = Policy(rawValue: policyText) {
                policy = parsed
            } else {
                return fail(rest[0].column, "unknown policy \(quoted(policyText))")
            }
            var counters: Counters?
            if rest.count >= 2 {
                guard let parsed = parseCounters(rest[1].text) else {
                    return fail(rest[1].column, "bad counters \(quoted(rest[1].text))")
                }
                counters = parsed
            }
            if rest.count > 2 { return fail(rest[2].column, "unexpected \(quoted(rest[2].text))") }
            return .success(.chain(ChainName(name), policy: policy, counters: counters))
        }
        var counters: Counters?
        if first.text.hasPrefix("[") {
            guard let parsed = parseCounters(first.text), !rest.isEmpty else {
                return fail(first.column, "bad counters \(quoted(first.text))")
            }
            counters = parsed
            first = rest.removeFirst()
        }
        func chainName() -> Result<ChainName, RulesParseError> {
            guard let name = rest.first else {
                return .failure(
                    .init(line: line, column: first.column, message: "\(first.text) needs a chain"))
            }
            rest.removeFirst()
            return .success(ChainName(name.text))
        }
        switch first.text {
        case "-A", "--append", "-I", "--insert":
            let chain: ChainName
            switch chainName() {
            case .failure(let error): return .failure(error)
            case .success(let name): chain = name
            }
            var placement = RulePlacement.append
            if first.text == "-I" || first.text == "--insert" {
                if let position = rest.first.flatMap({ Int($0.text) }) {
                    guard position >= 1 else { return fail(rest[0].column, "rule positions start at 1") }
                    placement = .insert(position: position)
                    rest.removeFirst()
                } else {
                    placement = .insert(position: 1)
                }
            }
            switch RuleParser(family: family, line: line).parse(rest) {
            case .failure(let error): return .failure(error)
            case .success(let (rule, ruleCounters)):
                let chainRule = ChainRule(table: table, chain: chain, placement: placement, rule: rule)
                if let problem = Validity.problem(chainRule) {
                    return fail(first.column, problem)
                }
                return .success(.rule(chainRule, counters: counters ?? ruleCounters))
            }
        case "-D", "--delete":
            let chain: ChainName
            switch chainName() {
            case .failure(let error): return .failure(error)
            case .success(let name): chain = name
            }
            if rest.count == 1, let position = Int(rest[0].text) {
                return .success(.delete(chain, .position(position)))
            }
            switch RuleParser(family: family, line: line).parse(rest) {
            case .failure(let error): return .failure(error)
            case .success(let (rule, _)): return .success(.delete(chain, .rule(rule)))
            }
        case "-N", "--new-chain", "--new":
            switch chainName() {
            case .failure(let error): return .failure(error)
            case .success(let name):
                if let extra = rest.first { return fail(extra.column, "unexpected \(quoted(extra.text))") }
                return .success(.newChain(name))
            }
        case "-F", "--flush", "-X", "--delete-chain":
            let name = rest.first.map { ChainName($0.text) }
            if rest.count > 1 { return fail(rest[1].column, "unexpected \(quoted(rest[1].text))") }
            return .success(first.text == "-F" || first.text == "--flush" ? .flush(name) : .deleteChain(name))
        case "-P", "--policy":
            guard rest.count == 2, let policy = Policy(rawValue: rest[1].text) else {
                return fail(first.column, "-P needs a chain and ACCEPT or DROP")
            }
            return .success(.policy(ChainName(rest[0].text), policy))
        default:
            return fail(first.column, "unknown command \(quoted(first.text))")
        }
    }

    static func parseCounters(_ text: String) -> Counters? {
        guard text.hasPrefix("["), text.hasSuffix("]") else { return nil }
        let parts = text.dropFirst().dropLast().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let packets = UInt64(parts[0]), let bytes = UInt64(parts[1]) else {
            return nil
        }
        return Counters(packets: packets, bytes: bytes)
    }
}

/// What the kernel's `checkentry` would refuse: a target or match outside its tables/hooks.
enum Validity {
    static func problem(_ rule: ChainRule) -> String? {
        if let tables = rule.rule.target.validTables, !tables.contains(rule.table) {
            return
                "target \(rule.rule.target.arguments.dropFirst().first ?? "") is only valid in the \(tables.map(\.rawValue).sorted().joined(separator: ", ")) table"
        }
        return nil
    }
}

extension RulesParseError {
    func shifted(by offset: Int) -> RulesParseError {
        RulesParseError(line: line, column: column + offset, message: message, extensionName: extensionName)
    }
}

extension Substring {
    func trimmingTrailingSpaces() -> String {
        String(reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension String {
    func trimmingTrailingSpaces() -> String { Substring(self).trimmingTrailingSpaces() }
}
