/// Every `istio-iptables` flag of every known release: one row per flag (and per change of its
/// name, short form, environment binding or type), with the releases that have it.
public struct FlagDefinition: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case string
        case bool
        /// Go `uint16` (pflag `Uint16Var`).
        case uint16
        /// Go `time.Duration`.
        case duration
    }

    public let name: String
    public let shorthand: Character?
    public let kind: Kind
    /// The default as `--help` shows it.
    public let defaultValue: String
    /// Environment variables applied in order before the command line (later ones win).
    public let env: [String]
    public let releases: ClosedRange<IstioVersion>
    public let help: String

    public init(
        _ name: String, _ shorthand: Character? = nil, _ kind: Kind = .string,
        default defaultValue: String = "",
        env: [String]? = nil, in releases: ClosedRange<IstioVersion>, help: String
    ) {
        self.name = name
        self.shorthand = shorthand
        self.kind = kind
        self.defaultValue = defaultValue
        self.env = env ?? [String(name.uppercased().map { $0 == "-" ? "_" : $0 })]
        self.releases = releases
        self.help = help
    }
}

/// The flag table: one row per flag and per change of its short form, type or environment
/// binding. Ranges use the release numbers of `Release.all`.
public enum FlagCatalog {
    static let all1: IstioVersion = "1.10.0"
    static let last: IstioVersion = "1.30.3"
    /// Up to 1.18 flags were bound with viper: every flag has its upper-case env var.
    /// From 1.19 `pkg/flag` binds most (not --envoy-port); legacy names are applied after.
    static let viperEnd: IstioVersion = "1.18.7"
    static let pkgFlag: IstioVersion = "1.19.10"

    public static let all: [FlagDefinition] = [
        .init(
            "envoy-port", "p", .string, default: "15001", in: all1...viperEnd,
            help: "Envoy's outbound listener: captured outbound TCP is redirected to this port."),
        .init(
            "envoy-port", "p", .string, default: "15001", env: [], in: pkgFlag...last,
            help: "Envoy's outbound listener: captured outbound TCP is redirected to this port."),
        .init(
            "inbound-capture-port", "z", .string, default: "15006", in: all1...last,
            help: "Envoy's inbound listener: captured inbound TCP is redirected (or TPROXY'd) to this port."),
        .init(
            "inbound-tunnel-port", "e", .string, default: "15008", in: all1...last,
            help: "Inbound HBONE tunnel port; traffic to it is never redirected."),
        .init(
            "proxy-uid", "u", .string, in: all1...last,
            help:
                "Comma-separated UIDs whose traffic is never captured (the proxy). Default: uid of $ENVOY_USER (istio-proxy), else 1337."
        ),
        .init(
            "proxy-gid", "g", .string, in: all1...last,
            help: "Comma-separated GIDs whose traffic is never captured. Default: the proxy UIDs."),
        .init(
            "istio-inbound-interception-mode", "m", .string, in: all1...last,
            help:
                "Inbound capture mode: REDIRECT (NAT) or TPROXY (original source kept). Anything but TPROXY means REDIRECT."
        ),
        .init(
            "istio-inbound-ports", "b", .string, in: all1...last,
            help: "Comma-separated inbound ports to capture; '*' captures all, empty captures none."),
        .init(
            "istio-local-exclude-ports", "d", .string, in: all1...last,
            help: "Comma-separated inbound ports never captured; applies only with -b '*'."),
        .init(
            "istio-exclude-interfaces", nil, .string, in: "1.11.8"..."1.14.6",
            help: "Comma-separated interfaces whose traffic is never captured, in or out."),
        .init(
            "istio-exclude-interfaces", "c", .string, in: "1.15.7"...last,
            help: "Comma-separated interfaces whose traffic is never captured, in or out."),
        .init(
            "istio-service-cidr", "i", .string, in: all1...last,
            help:
                "Comma-separated CIDRs whose outbound traffic is captured; '*' captures all, empty captures none."
        ),
        .init(
            "istio-service-exclude-cidr", "x", .string, in: all1...last,
            help: "Comma-separated CIDRs whose outbound traffic is never captured (checked before -i)."),
        .init(
            "istio-outbound-ports", "q", .string, in: all1...last,
            help: "Comma-separated outbound ports always captured, whatever the destination."),
        .init(
            "istio-local-outbound-ports-exclude", "o", .string, in: all1...last,
            help: "Comma-separated outbound ports never captured."),
        .init(
            "kube-virt-interfaces", "k", .string, in: all1...last,
            help:
                "Comma-separated virtual interfaces (KubeVirt) whose inbound traffic is treated as outbound."),
        .init(
            "istio-inbound-tproxy-mark", "t", .string, default: "1337", in: all1...last,
            help: "Packet mark used by TPROXY capture and its policy routing."),
        .init(
            "istio-inbound-tproxy-route-table", "r", .string, default: "133", in: all1...last,
            help: "Routing table that delivers TPROXY-marked packets locally."),
        .init(
            "dry-run", "n", .bool, default: "false", in: all1...last,
            help: "Print the rules instead of applying them."),
        .init(
            "iptables-trace-logging", nil, .bool, default: "false", in: "1.12.9"..."1.25.5",
            help: "Add NFLOG rules (group 1337) before selected rules to trace packets (no effect from 1.25)."
        ),
        .init(
            "restore-format", "f", .bool, default: "true", in: all1..."1.23.6",
            help: "Apply with iptables-restore (true) or one iptables command per rule (false)."),
        .init(
            "iptables-probe-port", nil, .string, default: "15002", in: all1...viperEnd,
            help: "Port listened on by --run-validation."),
        .init(
            "iptables-probe-port", nil, .uint16, default: "15002", in: pkgFlag...last,
            help: "Port listened on by --run-validation."),
        .init(
            "probe-timeout", nil, .duration, default: "5s", in: all1...last,
            help: "How long --run-validation waits."),
        .init(
            "skip-rule-apply", nil, .bool, default: "false", in: all1...last,
            help: "Generate nothing and apply nothing."),
        .init(
            "run-validation", nil, .bool, default: "false", in: all1...last,
            help: "After applying, check that a connection is really redirected."),
        // viper era: the legacy variable is the default, the flag's own variable overrides it.
        .init(
            "redirect-dns", nil, .bool, default: "false", env: ["ISTIO_META_DNS_CAPTURE", "REDIRECT_DNS"],
            in: all1...viperEnd,
            help: "Capture DNS to the pod's nameservers into the agent's DNS proxy on 15053."),
        .init(
            "redirect-dns", nil, .bool, default: "false", env: ["REDIRECT_DNS", "ISTIO_META_DNS_CAPTURE"],
            in: pkgFlag...last,
            help: "Capture DNS to the pod's nameservers into the agent's DNS proxy on 15053."),
        // viper was given the INVALID_DROP variable object as default, not its value: no effect.
        .init(
            "drop-invalid", nil, .bool, default: "false", env: ["DROP_INVALID"],
            in: "1.12.9"...viperEnd,
            help: "Drop packets conntrack marks INVALID instead of letting them reset connections."),
        .init(
            "drop-invalid", nil, .bool, default: "false", env: ["DROP_INVALID", "INVALID_DROP"],
            in: pkgFlag...last,
            help: "Drop packets conntrack marks INVALID instead of letting them reset connections."),
        .init(
            "dual-stack", nil, .bool, default: "false", env: ["ISTIO_AGENT_DUAL_STACK", "DUAL_STACK"],
            in: "1.18.7"...viperEnd,
            help: "Look for IPv6 among all pod addresses, not just the first."),
        .init(
            "dual-stack", nil, .bool, default: "false", env: ["DUAL_STACK", "ISTIO_DUAL_STACK"],
            in: pkgFlag...last,
            help: "Look for IPv6 among all pod addresses, not just the first."),
        .init(
            "capture-all-dns", nil, .bool, default: "false", in: "1.11.8"...last,
            help: "With --redirect-dns, capture DNS to any server, not only the pod's nameservers."),
        .init(
            "network-namespace", nil, .string, default: "", in: "1.11.8"...last,
            help: "Apply the rules inside this network namespace (a path such as /var/run/netns/NAME)."),
        .init(
            "cni-mode", nil, .bool, default: "false", in: "1.11.8"...last,
            help: "Running as the CNI plugin (pod-scoped xtables lock)."),
        .init(
            "output-paths", nil, .string, default: "", in: "1.11.8"..."1.16.7",
            help: "Where the dry run writes the restore input (a file path)."),
        .init(
            "host-nsenter-exec", nil, .bool, default: "false", in: "1.15.7"..."1.17.8",
            help: "Run iptables through nsenter from the host."),
        .init(
            "iptables-version", nil, .string, default: "", in: "1.18.7"..."1.21.6",
            help: "Version of iptables to assume (skips detection)."),
        .init(
            "reconcile", nil, .bool, default: "false", in: "1.24.6"...last,
            help: "Replace existing, different Istio rules instead of leaving them."),
        .init(
            "cleanup-only", nil, .bool, default: "false", in: "1.24.6"...last,
            help: "Remove Istio's rules and add none."),
        .init(
            "force-apply", nil, .bool, default: "false", in: "1.24.6"...last,
            help: "Apply even when the rules seem to be in place already."),
        .init(
            "native-nftables", nil, .bool, default: "false", in: "1.27.9"...last,
            help: "Program nftables instead of iptables (not emulated yet)."),
        .init(
            "force-iptables-binary", nil, .string, default: "", in: "1.28.10"...last,
            help: "Use this iptables variant: legacy or nft."),
    ]

    /// The flags of one release.
    public static func flags(for version: IstioVersion) -> [FlagDefinition] {
        all.filter { $0.releases.contains(version) }
    }

    /// Settings that have no flag and are read from the environment only.
    public struct EnvironmentSetting: Sendable {
        public let name: String
        public let defaultValue: String
        public let releases: ClosedRange<IstioVersion>
        public let help: String
    }

    public static let environmentOnly: [EnvironmentSetting] = [
        .init(
            name: "ISTIO_OUTBOUND_OWNER_GROUPS", defaultValue: "*", releases: "1.14.6"...last,
            help: "Groups whose outbound traffic is captured ('*': all)."),
        .init(
            name: "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE", defaultValue: "", releases: "1.14.6"...last,
            help: "With owner groups '*': groups whose outbound traffic is not captured."),
        .init(
            name: "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR", defaultValue: "127.0.0.1/32",
            releases: "1.21.6"...last,
            help: "IPv4 loopback range the pod uses (within 127.0.0.0/8)."),
        .init(
            name: "ISTIO_META_DNS_CONNTRACK_ZONE", defaultValue: "false", releases: "1.10.6"..."1.10.6",
            help: "Split DNS into conntrack zones (1.10.3-1.10.6 only; always on from 1.11)."),
        .init(
            name: "ENVOY_USER", defaultValue: "istio-proxy", releases: all1...last,
            help: "User whose uid is the default --proxy-uid."),
    ]

    public static func environmentOnly(for version: IstioVersion) -> [EnvironmentSetting] {
        environmentOnly.filter { $0.releases.contains(version) }
    }
}
