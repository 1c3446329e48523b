import Foundation
import IstioCapture
import Kubernetes

let fixtures = String(#filePath.dropLast("Support.swift".count)) + "Fixtures/"

func fixtureText(_ name: String) throws -> String {
    try String(contentsOfFile: fixtures + name, encoding: .utf8)
}

/// Every pod of a fixture, as `iptsim pod` would analyse it.
func reports(
    _ fixture: String, version: String, labels: [String: String]? = ["istio-injection": "enabled"],
    policy: String? = nil, revision: String? = nil, values: String? = nil
) throws -> [PodReport] {
    let manifest = try ManifestReader.read(try fixtureText(fixture), source: fixture)
    var context = ClusterContext(
        version: version, policy: policy, revision: revision, namespaceLabels: labels)
    if let values { context.valuesFile = (try fixtureText(values), values) }
    return try PodAnalysis.analyze(manifest, context: context)
}

func report(
    _ fixture: String, version: String, labels: [String: String]? = ["istio-injection": "enabled"],
    policy: String? = nil, revision: String? = nil, values: String? = nil
) throws -> PodReport {
    try reports(
        fixture, version: version, labels: labels, policy: policy, revision: revision, values: values)[0]
}

/// The istio-init arguments as one line (nil: no istio-init).
func argumentLine(_ report: PodReport) -> String? {
    report.plan.map { ShellWords.render($0.arguments) }
}
