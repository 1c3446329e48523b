import Kubernetes
import Testing

/// The istio-init arguments each annotation produces, as the 1.10.0 and 1.30.3 injection templates
/// (`manifests/charts/istio-control/istio-discovery/files/injection-template.yaml` at those tags)
/// render them for a pod in a namespace labelled istio-injection=enabled with the chart's values.
@Suite struct TemplateTests {
    /// 1.10.0: `-p 15001 -z 15006 -u 1337 -m {mode} -i {includeIPRanges} -x {excludeIPRanges} -b {* or
    /// annotation} -d 15090,15021,{excludeInboundPort(statusPort, excludeInboundPorts)}`, then -q/-o/-k.
    static let defaults = #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,15020"#
    /// 1.30.3 adds -c and `--log_output_level={agentLogLevel or global.logging.level}` at the end.
    static let log = " --log_output_level=default:info"

    static let cases: [(fixture: String, v1_10: String?, v1_30: String?)] = [
        ("plain.yaml", defaults, defaults + log),
        (
            "include-outbound-ip-ranges.yaml",
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i 10.96.0.0/12,10.244.0.0/16 -x "" -b * -d 15090,15021,15020"#,
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i 10.96.0.0/12,10.244.0.0/16 -x "" -b * -d 15090,15021,15020"#
                + log
        ),
        (
            "exclude-outbound-ip-ranges.yaml",
            "-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x 169.254.169.254/32 -b * -d 15090,15021,15020",
            "-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x 169.254.169.254/32 -b * -d 15090,15021,15020" + log
        ),
        (
            "include-inbound-ports.yaml",
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b 8080,9090 -d 15090,15021,15020"#,
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b 8080,9090 -d 15090,15021,15020"# + log
        ),
        (
            "exclude-inbound-ports.yaml",
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,8081,15020"#,
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,8081,15020"# + log
        ),
        ("include-outbound-ports.yaml", defaults + " -q 443", defaults + " -q 443" + log),
        ("exclude-outbound-ports.yaml", defaults + " -o 3306,5432", defaults + " -o 3306,5432" + log),
        ("kubevirt-interfaces.yaml", defaults + " -k net1", defaults + " -k net1" + log),
        // 1.25+ reads istio.io/reroute-virtual-interfaces; 1.10 ignores it.
        ("reroute-virtual-interfaces.yaml", defaults, defaults + " -k net2" + log),
        // From 1.26.5/1.27.2 the kubevirt annotation is only the fallback.
        ("kubevirt-and-reroute.yaml", defaults + " -k net1", defaults + " -k net2" + log),
        // -c exists in the template from 1.15.
        ("exclude-interfaces.yaml", defaults, defaults + " -c eth1" + log),
        (
            "interception-tproxy.yaml",
            #"-p 15001 -z 15006 -u 1337 -m TPROXY -i * -x "" -b * -d 15090,15021,15020"#,
            #"-p 15001 -z 15006 -u 1337 -m TPROXY -i * -x "" -b * -d 15090,15021,15020"# + log
        ),
        ("interception-none.yaml", nil, nil),
        (
            "status-port.yaml",
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,15999"#,
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,15999"# + log
        ),
        (
            "status-port-zero.yaml",
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021"#,
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021"# + log
        ),
        (
            "status-port-already-excluded.yaml",
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,8081"#,
            #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i * -x "" -b * -d 15090,15021,8081"# + log
        ),
        ("agent-log-level.yaml", defaults, defaults + " --log_output_level=default:debug"),
        (
            "proxy-config-tproxy.yaml",
            #"-p 15001 -z 15006 -u 1337 -m TPROXY -i * -x "" -b * -d 15090,15021,15020"#,
            #"-p 15001 -z 15006 -u 1337 -m TPROXY -i * -x "" -b * -d 15090,15021,15020"# + log
        ),
    ]

    @Test(arguments: cases)
    func release1_10(_ testCase: (fixture: String, v1_10: String?, v1_30: String?)) throws {
        let result = try report(testCase.fixture, version: "1.10.0")
        #expect(result.decision.inject, "\(result.decision.reason)")
        #expect(argumentLine(result) == testCase.v1_10)
        #expect(result.source == .injectionTemplate)
    }

    @Test(arguments: cases)
    func release1_30(_ testCase: (fixture: String, v1_10: String?, v1_30: String?)) throws {
        let result = try report(testCase.fixture, version: "1.30.3")
        #expect(result.decision.inject, "\(result.decision.reason)")
        #expect(argumentLine(result) == testCase.v1_30)
    }

    @Test func interceptionNoneHasNoInitContainer() throws {
        let result = try report("interception-none.yaml", version: "1.30")
        #expect(result.plan == nil)
        #expect(result.notes.contains { $0.contains("interception mode NONE") })
    }

    /// Middle releases where the template changed.
    @Test func middleReleases() throws {
        // 1.25.0: both annotations each add a -k (kubevirt first).
        #expect(
            argumentLine(try report("kubevirt-and-reroute.yaml", version: "1.25.0"))
                == Self.defaults + " -k net1 -k net2" + Self.log)
        // 1.27.2 got the fallback backported; 1.27.0 did not.
        #expect(
            argumentLine(try report("kubevirt-and-reroute.yaml", version: "1.27.2"))
                == Self.defaults + " -k net2" + Self.log)
        #expect(
            argumentLine(try report("kubevirt-and-reroute.yaml", version: "1.27.0"))
                == Self.defaults + " -k net1 -k net2" + Self.log)
        // 1.14 has no -c and no --log_output_level yet; 1.15 has both.
        #expect(argumentLine(try report("exclude-interfaces.yaml", version: "1.14")) == Self.defaults)
        #expect(
            argumentLine(try report("exclude-interfaces.yaml", version: "1.15")) == Self.defaults + " -c eth1"
                + Self.log)
    }

    /// `GetProxyIDs` (1.20+): the last uid of the namespace's OpenShift range.
    @Test func openShiftUIDRange() throws {
        let old = try report("openshift-namespace.yaml", version: "1.19", labels: nil)
        #expect(argumentLine(old)?.contains("-u 1337") == true)
        let new = try report("openshift-namespace.yaml", version: "1.30", labels: nil)
        #expect(argumentLine(new)?.contains("-u 1000629999") == true, "\(new)")
        #expect(
            new.plan?.origins["-u"]?.first?.description
                == "namespace annotation openshift.io/sa.scc.uid-range: \"1000620000/10000\"")
    }

    @Test func valuesFileOverridesTheChart() throws {
        let result = try report("inject-true-annotation.yaml", version: "1.30", values: "values-ranges.yaml")
        // statusPort 15021 is appended as is: the template does not deduplicate against its own 15021.
        #expect(
            argumentLine(result)
                == #"-p 15001 -z 15006 -u 1337 -m REDIRECT -i 10.0.0.0/8 -x "" -b * -d 15090,15021,15021 -o 6379"#
                + Self.log)
        #expect(
            result.plan?.origins["-o"] == [ValueOrigin(.values, "global.proxy.excludeOutboundPorts", "6379")])
        #expect(result.decision.reason.contains("opts the pod in"))
        // The values file's autoInject: disabled is the policy: a plain pod stays out.
        #expect(
            try report("plain.yaml", version: "1.30", values: "values-ranges.yaml").decision.inject == false)
    }

    @Test func istioOperatorValuesAndMeshConfig() throws {
        let result = try report("plain.yaml", version: "1.10.0", values: "operator-values.yaml")
        #expect(
            argumentLine(result)
                == "-p 15001 -z 15006 -u 1337 -m TPROXY -i * -x 192.168.0.0/16 -b * -d 15090,15021,15020 -q 8443"
        )
        #expect(
            result.plan?.origins["-m"] == [
                ValueOrigin(.meshConfig, "meshConfig.defaultConfig.interceptionMode", "TPROXY")
            ])
    }

    @Test func cniModeValidatesOnly() throws {
        for version in ["1.10.0", "1.30.3"] {
            let result = try report("plain.yaml", version: version, values: "values-cni.yaml")
            #expect(result.plan?.containerName == "istio-validation")
            #expect(result.plan?.arguments.suffix(2) == ["--run-validation", "--skip-rule-apply"])
        }
    }

    @Test func originsPointAtTheAnnotation() throws {
        let result = try report("exclude-outbound-ports.yaml", version: "1.30")
        #expect(
            result.plan?.origins["-o"]?.map(\.description) == [
                #"traffic.sidecar.istio.io/excludeOutboundPorts: "3306,5432""#
            ])
        #expect(result.annotationsUsed["traffic.sidecar.istio.io/excludeOutboundPorts"] == "3306,5432")
        #expect(
            result.plan?.origins["-i"]?.map(\.description) == [#"default global.proxy.includeIPRanges: "*""#])
    }
}
