import Foundation
import Kubernetes
import Testing

/// Random and mutated YAML: the reader and the injector always end in a result or a located
/// `ManifestError`, never a crash.
@Suite struct FuzzTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    static let pieces: [String] = [
        ":", " ", "\n", "  ", "-", "- ", "{", "}", "[", "]", ",", "\"", "'", "#", "&a", "*a", "!!str ", "|",
        ">",
        "---\n", "...\n", "kind: Pod\n", "kind: List\n", "kind: Deployment\n", "items:\n", "spec:\n",
        "template:\n",
        "metadata:\n", "annotations:\n", "labels:\n", "containers:\n", "initContainers:\n",
        "hostNetwork: true\n",
        "sidecar.istio.io/inject: \"false\"\n", "traffic.sidecar.istio.io/excludeOutboundPorts: \"3306\"\n",
        "status.sidecar.istio.io/port: 0\n", "name: x\n", "args: [istio-iptables, -p]\n", "~", "null", "\t",
        "\u{FEFF}",
        "é", "\\", "%YAML 1.1\n", "? ", "<<: *a\n",
    ]

    func survive(_ text: String) {
        do {
            let set = try ManifestReader.read(text, source: "fuzz.yaml")
            for version in ["1.10.0", "1.30.3"] {
                let reports = try PodAnalysis.analyze(
                    set, context: ClusterContext(version: version, namespaceLabels: [:]))
                #expect(reports.count == set.pods.count)
            }
        } catch let error as ManifestError {
            #expect(error.source == "fuzz.yaml")
            #expect(error.location.line >= 1 && error.location.column >= 1, "\(error)")
        } catch {
            Issue.record("unexpected error \(error) for \(text.debugDescription)")
        }
    }

    @Test func randomDocuments() {
        var random = Generator(state: 7)
        for _ in 0..<1500 {
            let count = Int.random(in: 0...30, using: &random)
            survive((0..<count).map { _ in Self.pieces.randomElement(using: &random)! }.joined())
        }
    }

    @Test func mutatedFixtures() throws {
        var random = Generator(state: 11)
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures).filter {
            $0.hasSuffix(".yaml")
        }.sorted()
        #expect(names.count >= 20)
        for name in names {
            let original = Array(try fixtureText(name))
            for _ in 0..<40 {
                var text = original
                for _ in 0..<Int.random(in: 1...4, using: &random) where !text.isEmpty {
                    let index = Int.random(in: 0..<text.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: text.remove(at: index)
                    case 1: text.insert(contentsOf: Self.pieces.randomElement(using: &random)!, at: index)
                    default: text[index] = Self.pieces.randomElement(using: &random)!.first ?? " "
                    }
                }
                survive(String(text))
            }
        }
    }
}
