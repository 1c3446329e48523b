import Kubernetes
import Testing

/// Reading manifests: every pod-bearing kind, and errors that say file, line and column.
@Suite struct ManifestTests {
    @Test func everyWorkloadKind() throws {
        let set = try ManifestReader.read(
            try fixtureText("other-workloads.yaml"), source: "other-workloads.yaml")
        #expect(set.pods.map(\.kind) == ["StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod"])
        #expect(set.pods.map(\.name) == ["db", "agent", "migrate", "report", "web-5d8f", "debug"])
        #expect(set.pods.allSatisfy { $0.namespace == "shop" })
        #expect(
            set.pods[3].metadata.annotations["traffic.sidecar.istio.io/includeOutboundIPRanges"]
                == "10.0.0.0/8")
        #expect(set.pods[1].spec.hostNetwork)
    }

    @Test func namespacesInTheSameFile() throws {
        let set = try ManifestReader.read(try fixtureText("openshift-namespace.yaml"), source: "x")
        #expect(set.namespaces.map(\.name) == ["tenant"])
        #expect(set.namespaces[0].selectorLabels["kubernetes.io/metadata.name"] == "tenant")
    }

    @Test(arguments: [
        ("bad-yaml.yaml", "bad-yaml.yaml:6:1: malformed YAML: did not find expected ',' or '}'"),
        ("missing-kind.yaml", "missing-kind.yaml:6:1: missing kind"),
        ("no-pod-spec.yaml", "no-pod-spec.yaml:6:3: Deployment empty: no spec.template"),
        ("service-only.yaml", "service-only.yaml:1:1: no pod spec in this manifest (only Service)"),
    ])
    func errorsSayWhere(_ fixture: String, _ expected: String) throws {
        let error = #expect(throws: ManifestError.self) {
            try ManifestReader.read(try fixtureText(fixture), source: fixture)
        }
        #expect(error?.description.hasPrefix(expected) == true, "\(error?.description ?? "")")
    }

    @Test func typeErrorsAreLocatedToo() {
        let text =
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: [a, b]\nspec:\n  containers: []\n"
        let error = #expect(throws: ManifestError.self) { try ManifestReader.read(text, source: "p.yaml") }
        #expect(error?.description == "p.yaml:5:11: labels: expected a mapping")
        let noSpec = #expect(throws: ManifestError.self) {
            try ManifestReader.read("kind: Pod\nmetadata: {name: p}\n", source: "q.yaml")
        }
        #expect(noSpec?.description.hasPrefix("q.yaml:1:1: Pod p: no spec") == true)
    }
}
