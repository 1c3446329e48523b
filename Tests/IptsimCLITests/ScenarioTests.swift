import Foundation
import IptsimCLI
import Testing

/// `iptsim run` lands every flow of Tests/Scenarios where the real kernel landed it
/// (SCENARIO.kernel.json, recorded by tools/kernel-check; tools/scenario-check re-checks live).
@Suite struct ScenarioTests {
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Scenarios").path
    }()

    static var scenarios: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".kernel.json") }.sorted()
    }

    @Test(arguments: scenarios)
    func simulatorAgreesWithTheKernel(_ name: String) throws {
        let path = Self.directory + "/" + name
        let output = ScenarioRunner.run(path: path)
        #expect(output.exitCode == 0, "\(output.stderr)")
        let recorded = try #require(
            FileManager.default.contents(atPath: path.replacingOccurrences(of: ".json", with: ".kernel.json"))
        )
        func byID(_ data: Data) throws -> [String: NSDictionary] {
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let results = try #require(object["results"] as? [[String: Any]])
            return Dictionary(
                uniqueKeysWithValues: results.map {
                    ($0["id"] as? String ?? "", NSDictionary(dictionary: $0))
                })
        }
        let kernel = try byID(recorded)
        let simulated = try byID(Data(output.stdout.utf8))
        #expect(kernel.count > 0)
        for (id, expected) in kernel {
            #expect(simulated[id] == expected, "\(name) flow \(id)")
        }
    }
}
