import Foundation
import IptablesSave
import IstioCapture
import IstioIptablesCLI
import PacketModel
import Testing

/// The corpus next to this checkout (`../shared/istio-iptables-corpus`), or nil when absent.
let corpusDirectory: String? = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let path = url.deletingLastPathComponent().appendingPathComponent("shared/istio-iptables-corpus").path
    return FileManager.default.fileExists(atPath: path) ? path : nil
}()

struct FixedMachine: Machine {
    func userID(named name: String) -> String? { nil }
    func interfaceAddresses() throws -> [IPAddress] { [.v4(IPv4Address(10, 0, 0, 2))] }
    func resolvConf() throws -> String { "" }
}

/// Every corpus case's arguments, as rule sets our generator writes (IPv4 and IPv6 texts).
func generatedRuleSets() -> [(label: String, family: IPFamily, text: String)] {
    guard let corpus = corpusDirectory else { return [] }
    var sets: [(String, IPFamily, String)] = []
    let versions =
        (try? FileManager.default.contentsOfDirectory(atPath: corpus))?.filter { $0.hasPrefix("1.") }.sorted()
        ?? []
    for version in versions {
        let directory = corpus + "/" + version
        for file in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        where file.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { continue }
            let emulator = (object["emulator_args"] as? [String] ?? []).filter {
                !$0.hasPrefix("--golden-format")
            }
            let arguments = emulator + (object["args"] as? [String] ?? [])
            let env = object["env"] as? [String: String] ?? [:]
            guard
                case .success(let result) = IstioIptablesCommand(environment: env, machine: FixedMachine())
                    .ruleSet(arguments)
            else { continue }
            let layout = result.release.layout
            sets.append(("\(version)/\(file)", .ipv4, RuleText.restore(result.rules.v4, layout: layout)))
            if !result.rules.v6.isEmpty {
                sets.append(
                    ("\(version)/\(file) v6", .ipv6, RuleText.restore(result.rules.v6, layout: layout)))
            }
        }
    }
    return sets
}

@Suite struct RoundTripTests {
    @Test(.enabled(if: corpusDirectory != nil, "the corpus lives in ../shared/istio-iptables-corpus"))
    func everyGeneratedRuleSetRoundTrips() throws {
        let sets = generatedRuleSets()
        #expect(sets.count > 500)
        for (label, family, text) in sets {
            switch RestoreParser.parse(text, family: family) {
            case .failure(let error):
                Issue.record("\(label): \(error)")
            case .success(let document):
                let rendered = RestoreRenderer.render(document)
                if rendered != text { Issue.record("\(label) does not round-trip:\n\(rendered)") }
                // The save form parses to the same tables: rendering them again changes nothing.
                let tables = try RuleTables(document)
                let saved = SaveRenderer().render(tables)
                let reparsed = try RuleTables(try RestoreParser.parse(saved, family: family).get())
                #expect(SaveRenderer().render(reparsed) == saved, "\(label)")
                let shape = { (t: RuleTables) in
                    Set(
                        t.tables.flatMap { state in
                            state.chains.map { "\(state.table) \($0.name) \($0.rules.count)" }
                        })
                }
                #expect(shape(reparsed) == shape(tables), "\(label)")
                #expect(HookValidation.problems(tables).isEmpty, "\(label)")
            }
        }
    }
}
