import IstioCapture
import Kubernetes
import Testing

/// The injection decision: webhook selectors, then `injectRequired` as each release has it
/// (pkg/kube/inject/inject.go at 1.10.0, 1.16.0 and 1.30.3).
@Suite struct DecisionTests {
    static let unlabelled: [String: String] = [:]

    @Test(arguments: ["1.10.0", "1.30.3"])
    func annotationFalseOptsOut(_ version: String) throws {
        let result = try report("inject-false-annotation.yaml", version: version)
        #expect(!result.decision.inject)
        #expect(
            result.decision.reason.hasPrefix(#"annotation sidecar.istio.io/inject: "false" opts the pod out"#)
        )
        #expect(result.plan == nil)
        #expect(result.annotationsUsed["sidecar.istio.io/inject"] == "false")
    }

    @Test(arguments: ["1.10.0", "1.30.3"])
    func labelFalseKeepsTheWebhookAway(_ version: String) throws {
        let result = try report("inject-false-label.yaml", version: version)
        #expect(!result.decision.inject)
        #expect(result.decision.webhook == nil)
        #expect(result.decision.reason.contains("pod label sidecar.istio.io/inject=false"))
    }

    @Test(arguments: ["1.10.0", "1.30.3"])
    func policyDisabledInjectsOnlyPodsThatOptIn(_ version: String) throws {
        let plain = try report("plain.yaml", version: version, policy: "disabled")
        #expect(!plain.decision.inject)
        #expect(plain.decision.reason.hasPrefix("injector policy disabled"))
        let optedIn = try report("inject-true-annotation.yaml", version: version, policy: "disabled")
        #expect(optedIn.decision.inject)
        #expect(
            optedIn.decision.reason.contains(#"annotation sidecar.istio.io/inject: "true" opts the pod in"#))
        // The annotation alone does not select a webhook in an unlabelled namespace.
        let unlabelled = try report("inject-true-annotation.yaml", version: version, labels: Self.unlabelled)
        #expect(!unlabelled.decision.inject)
        #expect(unlabelled.decision.webhook == nil)
    }

    /// The label selects the object webhook in both; 1.10's injectRequired reads only the annotation.
    @Test func labelTrueInAnUnlabelledNamespace() throws {
        let enabled = try report("inject-true-label.yaml", version: "1.10.0", labels: Self.unlabelled)
        #expect(enabled.decision.inject)
        #expect(enabled.decision.webhook == "object.sidecar-injector.istio.io")
        let old = try report(
            "inject-true-label.yaml", version: "1.10.0", labels: Self.unlabelled, policy: "disabled")
        #expect(!old.decision.inject)
        #expect(old.decision.reason.contains("reads the annotation only"))
        let new = try report(
            "inject-true-label.yaml", version: "1.30.3", labels: Self.unlabelled, policy: "disabled")
        #expect(new.decision.inject)
        #expect(new.decision.reason.hasPrefix(#"label sidecar.istio.io/inject: "true" opts the pod in"#))
        // 1.16 is the first release that reads the label.
        #expect(
            try report("inject-true-label.yaml", version: "1.15", labels: Self.unlabelled, policy: "disabled")
                .decision.inject == false)
        #expect(
            try report("inject-true-label.yaml", version: "1.16", labels: Self.unlabelled, policy: "disabled")
                .decision.inject)
    }

    /// YAML 1.1 booleans count up to 1.26; from 1.27 only "true"/"false" do.
    @Test func yesIsTrueOnlyBefore1_27() throws {
        #expect(
            try report("inject-yes-annotation.yaml", version: "1.10.0", policy: "disabled").decision.inject)
        #expect(try report("inject-yes-annotation.yaml", version: "1.26", policy: "disabled").decision.inject)
        let new = try report("inject-yes-annotation.yaml", version: "1.30.3", policy: "disabled")
        #expect(!new.decision.inject)
        #expect(new.decision.reason.contains("falls back to the policy"))
    }

    @Test(arguments: ["1.10.0", "1.30.3"])
    func systemNamespacesAndHostNetworkAreNeverInjected(_ version: String) throws {
        let list = try reports("list.yaml", version: version)
        #expect(list.map(\.pod.name) == ["web-1", "coredns-5d78c9869d-abcde"])
        #expect(list[0].decision.inject)
        #expect(list[0].pod.podIPs == ["10.244.1.7"])
        #expect(!list[1].decision.inject)
        #expect(list[1].decision.reason.hasPrefix("namespace kube-system is never injected"))
        let workloads = try reports("other-workloads.yaml", version: version)
        let daemon = try #require(workloads.first { $0.pod.kind == "DaemonSet" })
        #expect(!daemon.decision.inject)
        #expect(daemon.decision.reason.hasPrefix("hostNetwork: true"))
    }

    @Test func namespaceLabelledDisabled() throws {
        let result = try report("namespace-disabled.yaml", version: "1.10.0", labels: nil)
        #expect(!result.decision.inject)
        #expect(result.decision.reason.contains("labelled istio-injection=disabled"))
    }

    @Test func revisions() throws {
        let canary = try report(
            "revision-label.yaml", version: "1.30", labels: Self.unlabelled, revision: "canary")
        #expect(canary.decision.inject)
        #expect(canary.decision.webhook == "rev.object.sidecar-injector.istio.io")
        let defaultRevision = try report("revision-label.yaml", version: "1.30", labels: Self.unlabelled)
        #expect(!defaultRevision.decision.inject)
        #expect(
            defaultRevision.decision.reason.contains(
                "istio.io/rev=canary, but this injector is revision default"))
        // A revisioned injector has no istio-injection webhook.
        let labelled = try report("plain.yaml", version: "1.10.0", revision: "canary")
        #expect(!labelled.decision.inject)
        #expect(labelled.decision.reason.contains("whose webhooks select only istio.io/rev=canary"))
        let byNamespace = try report(
            "plain.yaml", version: "1.10.0", labels: ["istio.io/rev": "canary"], revision: "canary")
        #expect(byNamespace.decision.webhook == "rev.namespace.sidecar-injector.istio.io")
    }

    @Test(arguments: ["1.10.0", "1.30.3"])
    func invalidAnnotationsAreRejected(_ version: String) throws {
        let result = try report("invalid-port-annotation.yaml", version: version)
        #expect(!result.decision.inject)
        #expect(result.decision.rejected)
        #expect(
            result.decision.reason.contains(
                "invalid value 'mysql' for annotation 'traffic.sidecar.istio.io/excludeOutboundPorts'"))
    }

    @Test func interfaceNamesAreValidatedFrom1_30() throws {
        #expect(try report("invalid-interface-annotation.yaml", version: "1.30.3").decision.rejected)
        let old = try report("invalid-interface-annotation.yaml", version: "1.29")
        #expect(old.decision.inject)
        #expect(argumentLine(old)?.contains("-c eth0;rm") == true)
    }

    /// An injected pod is read back: arguments from istio-init, the release from its image tag,
    /// origins through the template when it gives the same value.
    @Test func injectedPodIsReadBack() throws {
        let manifest = try ManifestReader.read(
            try fixtureText("injected-custom.yaml"), source: "injected-custom.yaml")
        let result = try #require(try PodAnalysis.analyze(manifest, context: ClusterContext()).first)
        #expect(result.version.description == "1.30.3")
        #expect(result.source == .initContainer("istio-init"))
        #expect(result.decision.reason.hasPrefix("already injected"))
        #expect(
            argumentLine(result)
                == #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b 8080 -d 15090,15021,15020 -o 3306 --log_output_level=default:info"#
        )
        #expect(
            result.plan?.origins["-o"] == [
                ValueOrigin(.annotation, "traffic.sidecar.istio.io/excludeOutboundPorts", "3306")
            ])
        #expect(
            result.plan?.origins["-b"] == [
                ValueOrigin(.annotation, "traffic.sidecar.istio.io/includeInboundPorts", "8080")
            ])
        #expect(result.plan?.environment == ["ISTIO_META_DNS_CAPTURE": "true"])
        #expect(result.pod.podIPs == ["10.244.2.9"])
    }

    @Test func webhookSelectorsOfTheChart() {
        let hooks = Injector(version: "1.10.0").webhooks
        #expect(
            hooks.map(\.name) == [
                "rev.namespace.sidecar-injector.istio.io", "rev.object.sidecar-injector.istio.io",
                "namespace.sidecar-injector.istio.io", "object.sidecar-injector.istio.io",
            ])
        // The lab's webhook-selectors.yaml.
        #expect(hooks[2].namespaceSelector.description == "istio-injection In (enabled)")
        #expect(hooks[2].objectSelector.description == "sidecar.istio.io/inject NotIn (false)")
        #expect(Injector(version: "1.30.3", revision: "canary").webhooks.count == 2)
    }
}
