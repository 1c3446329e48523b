import IstioCapture

/// The configuration dump upstream logs before generating rules (`logConfig` and `cfg.Print`),
/// written to stderr so stdout carries only the rules.
enum ConfigDump {
    static func text(_ invocation: Invocation) -> String {
        let environmentNames = [
            "ENVOY_PORT", "INBOUND_CAPTURE_PORT", "ISTIO_INBOUND_INTERCEPTION_MODE",
            "ISTIO_INBOUND_TPROXY_ROUTE_TABLE",
            "ISTIO_INBOUND_PORTS", "ISTIO_OUTBOUND_PORTS", "ISTIO_LOCAL_EXCLUDE_PORTS",
            "ISTIO_EXCLUDE_INTERFACES",
            "ISTIO_SERVICE_CIDR", "ISTIO_SERVICE_EXCLUDE_CIDR", "ISTIO_META_DNS_CAPTURE", "INVALID_DROP",
        ]
        var text = "info\tIstio iptables environment:\n"
        for name in environmentNames { text += "\(name)=\(invocation.environmentValue(name))\n" }
        let raw = invocation.raw
        let config = invocation.config
        let v4 = config.dnsServersV4.map(\.text).joined(separator: " ")
        let v6 = config.dnsServersV6.map(\.text).joined(separator: " ")
        var lines: [(String, String)] = [
            ("PROXY_PORT", raw["envoy-port"] ?? ""),
            ("PROXY_INBOUND_CAPTURE_PORT", raw["inbound-capture-port"] ?? ""),
            ("PROXY_TUNNEL_PORT", raw["inbound-tunnel-port"] ?? ""),
            ("PROXY_UID", raw["proxy-uid"] ?? ""),
            ("PROXY_GID", raw["proxy-gid"] ?? ""),
            ("INBOUND_INTERCEPTION_MODE", raw["istio-inbound-interception-mode"] ?? ""),
            ("INBOUND_TPROXY_MARK", raw["istio-inbound-tproxy-mark"] ?? ""),
            ("INBOUND_TPROXY_ROUTE_TABLE", raw["istio-inbound-tproxy-route-table"] ?? ""),
            ("INBOUND_PORTS_INCLUDE", raw["istio-inbound-ports"] ?? ""),
            ("INBOUND_PORTS_EXCLUDE", raw["istio-local-exclude-ports"] ?? ""),
            ("OUTBOUND_OWNER_GROUPS_INCLUDE", raw["ISTIO_OUTBOUND_OWNER_GROUPS"] ?? ""),
            ("OUTBOUND_OWNER_GROUPS_EXCLUDE", raw["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"] ?? ""),
            ("OUTBOUND_IP_RANGES_INCLUDE", raw["istio-service-cidr"] ?? ""),
            ("OUTBOUND_IP_RANGES_EXCLUDE", raw["istio-service-exclude-cidr"] ?? ""),
            ("OUTBOUND_PORTS_INCLUDE", raw["istio-outbound-ports"] ?? ""),
            ("OUTBOUND_PORTS_EXCLUDE", raw["istio-local-outbound-ports-exclude"] ?? ""),
            ("KUBE_VIRT_INTERFACES", raw["kube-virt-interfaces"] ?? ""),
            ("ENABLE_INBOUND_IPV6", String(config.enableIPv6)),
            ("DUAL_STACK", raw["dual-stack"] ?? "false"),
            ("DNS_CAPTURE", String(config.redirectDNS)),
            ("DROP_INVALID", String(config.dropInvalid)),
            ("CAPTURE_ALL_DNS", String(config.captureAllDNS)),
            ("DNS_SERVERS", "[\(v4)],[\(v6)]"),
            ("NETWORK_NAMESPACE", invocation.networkNamespace),
            ("CNI_MODE", raw["cni-mode"] ?? "false"),
            ("EXCLUDE_INTERFACES", raw["istio-exclude-interfaces"] ?? ""),
        ]
        let cli = invocation.release.cli
        if cli.dumpsApplyModes {
            lines += [
                ("RECONCILE", String(invocation.apply.reconcile)),
                ("CLEANUP_ONLY", String(invocation.apply.cleanupOnly)),
                ("FORCE_APPLY", String(invocation.apply.forceApply)),
            ]
        }
        if cli.dumpsNativeNftables { lines.append(("NATIVE_NFTABLES", String(invocation.nativeNftables))) }
        if cli.dumpsForceIptablesBinary {
            lines.append(("FORCE_IPTABLES_BINARY", invocation.forceIptablesBinary))
        }
        text += "\ninfo\t\(cli.configDumpHeader)\n"
        for (name, value) in lines { text += "\(name)=\(value)\n" }
        return text + "\n"
    }
}

extension Invocation {
    func environmentValue(_ name: String) -> String { rawEnvironment[name] ?? "" }
}
