import Foundation
import IptsimCLI
import Testing

/// The lab next to this checkout (`../shared/lab`), or nil when absent.
let labDirectory: String? = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    let path = url.appendingPathComponent("shared/lab").path
    return FileManager.default.fileExists(atPath: path + "/httpbin.yaml") ? path + "/" : nil
}()

/// `iptsim pod` and the `--pod` SOURCE on the sidecar-injection lab (Istio 1.10).
@Suite(
    .enabled(
        if: labDirectory != nil, "the lab lives in ../shared/lab; absent here, so these tests are skipped"))
struct PodTests {
    static let labArguments = #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,15020"#
    var lab: String { labDirectory ?? "" }

    func pod(
        _ file: String, labels: String? = "istio-injection=enabled", policy: String? = nil,
        json: Bool = false,
        webhooks: Bool = false
    ) -> PodInspection.Output {
        PodInspection.run(
            manifestPath: lab + file, namespaceLabels: labels, policy: policy, version: "1.10.0",
            showWebhooks: webhooks, json: json)
    }

    @Test func labelledNamespaceInjectsWithTheLabArguments() {
        let output = pod("httpbin.yaml")
        #expect(output.exitCode == 0, "\(output.stderr)")
        #expect(
            output.stdout.contains(
                "inject: yes — namespace istio-sidecar is labelled istio-injection=enabled"))
        #expect(output.stdout.contains("    istio-iptables " + Self.labArguments + "\n"))
    }

    @Test func annotationOptsOut() {
        let output = pod("httpbin-no-inject.yaml")
        #expect(
            output.stdout.contains(
                #"inject: no — annotation sidecar.istio.io/inject: "false" opts the pod out"#))
        #expect(!output.stdout.contains("istio-iptables"))
    }

    @Test func policyDisabled() {
        #expect(
            pod("httpbin.yaml", policy: "disabled").stdout.contains("inject: no — injector policy disabled"))
    }

    @Test func kubeSystemNever() throws {
        let text = try String(contentsOfFile: lab + "httpbin.yaml", encoding: .utf8)
            .replacingOccurrences(of: "namespace: istio-sidecar", with: "namespace: kube-system")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kube-system-httpbin.yaml")
            .path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let output = PodInspection.run(manifestPath: path, namespaceLabels: "istio-injection=enabled")
        #expect(output.stdout.contains("inject: no — namespace kube-system is never injected"))
    }

    @Test func injectedPodIsReadFromIstioInit() throws {
        let output = PodInspection.run(manifestPath: lab + "httpbin-pod-injected.yaml", json: true)
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let pods = try #require(object?["pods"] as? [[String: Any]])
        #expect(pods.count == 1)
        #expect(pods[0]["inject"] as? Bool == true)
        #expect(pods[0]["istio_version"] as? String == "1.10.0")
        #expect(pods[0]["init_container"] as? String == "istio-init")
        let arguments = try #require(pods[0]["istio_init_args"] as? [String])
        #expect(arguments.map { $0.isEmpty ? #""""# : $0 }.joined(separator: " ") == Self.labArguments)
    }

    @Test func jsonForANotInjectedPod() throws {
        let output = pod("httpbin-no-inject.yaml", json: true)
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        let first = try #require((object?["pods"] as? [[String: Any]])?.first)
        #expect(first["inject"] as? Bool == false)
        #expect(first["istio_init_args"] is NSNull)
        #expect((first["annotations_used"] as? [String: String])?["sidecar.istio.io/inject"] == "false")
        #expect(first["name"] as? String == "httpbin")
        #expect(first["namespace"] as? String == "istio-sidecar")
    }

    @Test func webhooksOnRequestMatchTheLab() {
        let output = pod("httpbin.yaml", webhooks: true)
        #expect(
            output.stdout.contains(
                "  namespace.sidecar-injector.istio.io\n    namespaceSelector: istio-injection In (enabled)\n    objectSelector: sidecar.istio.io/inject NotIn (false)\n"
            ))
    }

    @Test func rulesFromThePodSource() {
        let fromPod = RulesReport.run(
            rulesFile: nil, rules6File: nil, arguments: [], format: "restore", family: nil, banner: false,
            environment: [:], podFile: lab + "httpbin-pod-injected.yaml")
        #expect(fromPod.exitCode == 0, "\(fromPod.stderr)")
        let fromArguments = RulesReport.run(
            rulesFile: nil, rules6File: nil, arguments: TraceTests.lab + ["--istio-version", "1.10.0"],
            format: "restore", family: nil, banner: false, environment: [:], machine: LabMachine())
        #expect(!fromPod.stdout.isEmpty)
        #expect(fromPod.stdout == fromArguments.stdout)
        let refused = RulesReport.run(
            rulesFile: nil, rules6File: nil, arguments: [], format: "restore", family: nil, banner: false,
            environment: [:], podFile: lab + "httpbin-no-inject.yaml")
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("is not injected: annotation sidecar.istio.io/inject"))
    }

    @Test func traceFromTheInjectedPod() {
        let output = TraceReport.run(
            podIP: nil, flow: "inbound tcp :15020", rulesFile: nil, arguments: [], environment: [:],
            json: false,
            podFile: lab + "httpbin-pod-injected.yaml")
        #expect(output.exitCode == 0, "\(output.stderr)")
        #expect(
            output.stdout.hasPrefix(
                "inbound tcp 10.1.10.1 -> 10.1.10.201:15020: reaches Envoy/istio-agent's own port"))
        #expect(
            output.stdout.contains(
                #"--istio-local-exclude-ports=15090,15021,15020 from injection template constant "15090,15021" + default global.proxy.statusPort: "15020""#
            ))
    }
}

/// `--pod` with the repository's own fixtures (no lab needed).
@Suite struct PodSourceTests {
    static let fixtures: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("KubernetesTests/Fixtures").path + "/"
    }()

    @Test func traceSaysWhichAnnotationBypassedTheFlow() {
        let output = TraceReport.run(
            podIP: nil, flow: "outbound tcp 10.0.0.5:3306 uid=1000", rulesFile: nil, arguments: [],
            environment: [:],
            json: false, podFile: Self.fixtures + "injected-custom.yaml")
        #expect(output.exitCode == 0, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("outbound tcp 10.244.2.9 -> 10.0.0.5:3306 as uid 1000: not captured"))
        #expect(
            output.stdout.contains(
                #"[--istio-local-outbound-ports-exclude=3306 from traffic.sidecar.istio.io/excludeOutboundPorts: "3306"]"#
            ))
        #expect(output.stderr.contains("nameservers are unknown"))
    }

    @Test func namespaceFromAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("iptsim-shop-ns.yaml").path
        try
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let labelled = PodInspection.run(manifestPath: Self.fixtures + "plain.yaml", namespacePaths: [path])
        #expect(labelled.stdout.contains("inject: yes — namespace shop is labelled istio-injection=enabled"))
        let unknown = PodInspection.run(manifestPath: Self.fixtures + "plain.yaml")
        #expect(unknown.stdout.contains("its labels are unknown: give --namespace or --namespace-labels"))
    }

    @Test func podWithoutAnAddressNeedsPodIP() {
        let output = TraceReport.run(
            podIP: nil, flow: "outbound tcp 1.2.3.4:80", rulesFile: nil, arguments: [], environment: [:],
            json: false,
            podFile: Self.fixtures + "exclude-outbound-ports.yaml")
        #expect(output.exitCode == 1)
        #expect(output.stderr.contains("--pod-ip: required"))
    }

    @Test func manifestErrorsReachTheUser() {
        let output = PodInspection.run(manifestPath: Self.fixtures + "missing-kind.yaml")
        #expect(output.exitCode == 1)
        #expect(output.stderr.contains("missing-kind.yaml:6:1: missing kind"))
        let several = RulesReport.run(
            rulesFile: nil, rules6File: nil, arguments: [], format: "restore", family: nil, banner: false,
            environment: [:], podFile: Self.fixtures + "list.yaml")
        #expect(several.stderr.contains("2 pods (Pod web-1, Pod coredns-5d78c9869d-abcde); keep one"))
    }
}
