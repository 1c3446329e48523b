import Foundation
import IptablesSave
import Netfilter
import PacketModel
import Testing

let fixtures = String(#filePath.dropLast("FixtureTests.swift".count)) + "Fixtures/"

func fixture(_ name: String) -> String {
    String(decoding: FileManager.default.contents(atPath: fixtures + name) ?? Data(), as: UTF8.self)
}

func saveForm(_ text: String, _ family: IPFamily) throws -> String {
    SaveRenderer().render(try RuleTables(try RestoreParser.parse(text, family: family).get()))
}

@Suite struct FixtureTests {
    @Test(arguments: [("every-extension", IPFamily.ipv4), ("every-extension-v6", .ipv6)])
    func handWrittenSuiteRoundTripsAndSavesLikeTheKernel(_ name: String, _ family: IPFamily) throws {
        let text = fixture(name + ".rules")
        #expect(!text.isEmpty)
        let document = try RestoreParser.parse(text, family: family).get()
        #expect(RestoreRenderer.render(document) == text)
        let kernel = fixture(name + ".kernel-save")
        let ours = try saveForm(text, family)
        #expect(ours == kernel, "\(ours)")
        // The save form parses back to the same tables.
        #expect(try saveForm(ours, family) == ours)
    }

    @Test func kubeProxyRulesFromTheRealIptablesSave() throws {
        let saved = fixture("kube-proxy.iptables-save")
        let document = try RestoreParser.parse(saved).get()
        let tables = try RuleTables(document)
        let nat = try #require(tables.tables.first { $0.table == .nat })
        let service = try #require(nat.chain("KUBE-SVC-WEB"))
        #expect(service.rules.count == 3)
        #expect(service.rules[1].matches.contains { if case .statistic = $0 { true } else { false } })
        #expect(service.rules[1].target == .jump("KUBE-SEP-WEB1"))
        let withoutCommentsAndCounters = saved.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("#") }
            .map { line in line.hasPrefix("[") ? String(line.drop { $0 != " " }.dropFirst()) : String(line) }
            .joined(separator: "\n")
        #expect(SaveRenderer().render(tables) == withoutCommentsAndCounters)
    }

    @Test func jsonIsValidAndDescribesEveryRule() throws {
        let tables = try RuleTables(try RestoreParser.parse(fixture("every-extension.rules")).get())
        let json = JSONRenderer().render(tables)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "iptsim.rules/v1")
        let tablesArray = try #require(object["tables"] as? [[String: Any]])
        let ruleCount = tablesArray.flatMap { ($0["chains"] as? [[String: Any]]) ?? [] }.reduce(0) {
            $0 + (($1["rules"] as? [Any])?.count ?? 0)
        }
        #expect(ruleCount == tables.tables.flatMap(\.chains).reduce(0) { $0 + $1.rules.count })
    }

    @Test func dotHasAClusterPerTableAndAnEdgePerJump() throws {
        let tables = try RuleTables(try RestoreParser.parse(fixture("kube-proxy.iptables-save")).get())
        let dot = DOTRenderer().render(tables)
        #expect(dot.contains("subgraph \"cluster_nat\""))
        #expect(dot.contains("subgraph \"cluster_filter\""))
        #expect(dot.contains("\"nat_KUBE-SVC-WEB\" -> \"nat_KUBE-SEP-WEB1\" [label=\"#2\"]"))
    }
}

/// Bad input: an error naming the line, the column and (when there is one) the extension.
@Suite struct BadRulesTests {
    static let cases: [(String, String, Int, Int, String?)] = [
        (
            "unterminated quote", "*filter\n-A INPUT -m comment --comment \"open -j ACCEPT\nCOMMIT\n", 2, 31,
            nil
        ),
        ("unknown table", "*nap\nCOMMIT\n", 1, 2, nil),
        ("rule before *table", "-A INPUT -j ACCEPT\n", 1, 1, nil),
        ("missing COMMIT", "*nat\n-A OUTPUT -j RETURN\n", 1, 1, nil),
        ("unknown option", "*filter\n-A INPUT --frobnicate 1 -j ACCEPT\n", 2, 10, nil),
        (
            "unsupported match", "*filter\n-A INPUT -m hashlimit --hashlimit-upto 5/s -j ACCEPT\n", 2, 13,
            "hashlimit"
        ),
        ("unsupported target", "*mangle\n-A PREROUTING -j TOS --set-tos 0x10\n", 2, 18, "TOS"),
        ("option of no loaded module", "*filter\n-A INPUT -p udp -m owner --syn -j ACCEPT\n", 2, 26, "owner"),
        (
            "target outside its table",
            "*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p tcp -j REDIRECT --to-ports 15001\nCOMMIT\n", 3, 1,
            nil
        ),
        ("bad counters", "*nat\n:OUTPUT ACCEPT [x:0]\nCOMMIT\n", 2, 16, nil),
        ("bad port", "*filter\n-A INPUT -p tcp --dport 70000 -j ACCEPT\nCOMMIT\n", 2, 17, "tcp"),
        ("value missing", "*filter\n-A INPUT -s\nCOMMIT\n", 2, 10, nil),
    ]

    @Test(arguments: cases)
    func locatedError(_ c: (String, String, Int, Int, String?)) {
        guard case .failure(let error) = RestoreParser.parse(c.1) else {
            Issue.record("\(c.0) parsed")
            return
        }
        #expect(error.line == c.2, "\(c.0): \(error)")
        #expect(error.column == c.3, "\(c.0): \(error)")
        #expect(error.extensionName == c.4, "\(c.0): \(error)")
    }

    @Test func protocolOptionsAfterAnotherMatch() throws {
        let text = "*filter\n-A OUTPUT -p tcp -m owner --uid-owner 1 --dport 80 -j ACCEPT\nCOMMIT\n"
        let tables = try RuleTables(try RestoreParser.parse(text).get())
        #expect(
            SaveRenderer().render(tables).contains(
                "-A OUTPUT -p tcp -m owner --uid-owner 1 -m tcp --dport 80 -j ACCEPT"))
    }

    @Test func hooksAreCheckedThroughJumpsAsTheKernelDoes() throws {
        // The kernel refused this rule set (RULE_APPEND failed): owner reached from PREROUTING.
        let text = "*mangle\n:X - [0:0]\n-A X -m owner --uid-owner 1 -j RETURN\n-A PREROUTING -g X\nCOMMIT\n"
        let problems = HookValidation.problems(try RuleTables(try RestoreParser.parse(text).get()))
        #expect(
            problems == [
                "mangle X rule 1: the owner match only works in OUTPUT and POSTROUTING (reached from PREROUTING)"
            ])
        let fine = "*mangle\n:X - [0:0]\n-A X -m owner --uid-owner 1 -j RETURN\n-A OUTPUT -g X\nCOMMIT\n"
        #expect(HookValidation.problems(try RuleTables(try RestoreParser.parse(fine).get())).isEmpty)
        for name in ["every-extension.rules", "kube-proxy.iptables-save"] {
            #expect(
                HookValidation.problems(try RuleTables(try RestoreParser.parse(fixture(name)).get())).isEmpty)
        }
    }

    @Test func missingChainIsReportedWhenTablesAreBuilt() throws {
        let document = try RestoreParser.parse("*nat\n-A NOPE -j RETURN\nCOMMIT\n").get()
        #expect(throws: TablesError.self) { try RuleTables(document) }
    }

    /// Random bytes and mutations of real rules: an error or a document, never a crash.
    @Test func fuzzedInputNeverCrashes() {
        var seed: UInt64 = 99
        func next() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1
            return seed >> 33
        }
        let base = Array(fixture("every-extension.rules").utf8)
        let alphabet = Array("-!\" '\\:/[]*#\nACDEFIMNPX0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        for _ in 0..<3000 {
            var bytes = base
            for _ in 0..<Int(next() % 8 + 1) {
                let position = Int(next() % UInt64(bytes.count))
                switch next() % 3 {
                case 0: bytes[position] = alphabet[Int(next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: position)
                }
            }
            if case .success(let document) = RestoreParser.parse(String(decoding: bytes, as: UTF8.self)) {
                _ = RestoreRenderer.render(document)
                if let tables = try? RuleTables(document) { _ = SaveRenderer().render(tables) }
            }
        }
    }
}
