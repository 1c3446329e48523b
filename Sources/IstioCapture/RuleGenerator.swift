import Netfilter
import PacketModel

/// The rules a release's `istio-iptables` writes for a configuration, in its order.
///
/// This follows the configurator's `Run()` step by step; where releases differ, the step reads a
/// `RuleLayout` switch of the release's row in `Release.all`.
public struct RuleGenerator {
    public let config: CaptureConfig
    public let release: Release

    /// Agent's DNS listener and the TPROXY "outbound" mark are constants upstream.
    static let agentDNSPort = PortSpec("15053")
    static let dnsPort = PortSpec("53")
    static let outboundMark = MarkValue("1338")
    static let inboundPassthroughV4 = AddressMatchSpelling(CIDR(host: .v4(IPv4Address(127, 0, 0, 6))))
    static let inboundPassthroughV6 = AddressMatchSpelling(CIDR(host: .v6(IPv6Address(high: 0, low: 6))))
    static let loopbackV6 = AddressMatchSpelling(CIDR(host: .v6(.loopback)))

    public init(config: CaptureConfig, release: Release) {
        self.config = config
        self.release = release
    }

    /// Whether DNS capture is in effect: 1.25+ turns it off when it has no nameserver to capture.
    public var dnsCaptureEffective: Bool {
        guard config.redirectDNS else { return false }
        if release.layout.dnsCaptureNeedsServers && !config.captureAllDNS && config.dnsServersV4.isEmpty
            && config.dnsServersV6.isEmpty
        {
            return false
        }
        return true
    }

    public func generate() -> GeneratedRules {
        if let legacy = release.layout.legacy {
            return LegacyRuleGenerator(config: config, layout: legacy).generate()
        }
        let layout = release.layout
        var b = RuleBuilder(
            enableIPv6: config.enableIPv6, nflog: config.traceLogging ? layout.traceLogging : nil)
        let redirectDNS = dnsCaptureEffective
        let tproxy = config.interceptionMode == .tproxy
        let loopV4 = config.hostIPv4LoopbackCIDR
        let loopV6 = Self.loopbackV6

        // Excluded interfaces: nothing in or out of them is touched.
        let excluded = Provenance("interface excluded from capture", [.excludeInterfaces])
        for nic in config.excludeInterfaces {
            b.append(.nat, .prerouting, [M.input(nic)], .return, trace: .excludeInterface, why: excluded)
            b.append(.nat, .output, [M.output(nic)], .return, trace: .excludeInterface, why: excluded)
        }
        if tproxy {
            for nic in config.excludeInterfaces {
                b.append(
                    .mangle, .prerouting, [M.input(nic)], .return, trace: .excludeInterface, why: excluded)
                b.append(.mangle, .output, [M.output(nic)], .return, trace: .excludeInterface, why: excluded)
            }
        }

        // Virtual interfaces (KubeVirt): their inbound traffic is not treated as inbound.
        for nic in config.kubeVirtInterfaces {
            b.insert(
                .nat, .prerouting, at: 1, [M.input(nic)], .return, trace: .kubevirt,
                why: Provenance("virtual interface: not inbound traffic", [.kubeVirtInterfaces]))
        }

        if config.dropInvalid {
            let why = Provenance("drop packets conntrack considers INVALID", [.dropInvalid])
            if layout.dropInvalidViaChain {
                b.append(.mangle, .prerouting, [M.ctstate([.invalid])], .jump(.istioDrop), why: why)
                b.append(.mangle, .istioDrop, [], .drop, why: why)
            } else {
                b.append(.mangle, .prerouting, [M.ctstate([.invalid])], .drop, why: why)
            }
        }

        b.append(
            .nat, .istioInbound, [M.tcp, M.dport(config.inboundTunnelPort)], .return,
            why: Provenance("inbound tunnel (HBONE) port goes to Envoy directly", [.inboundTunnelPort]))
        b.append(
            .nat, .istioRedirect, [M.tcp], .redirect(RedirectTarget(ports: config.proxyPort)),
            why: Provenance("outbound capture: redirect to Envoy's outbound listener", [.proxyPort]))
        b.append(
            .nat, .istioInRedirect, [M.tcp], .redirect(RedirectTarget(ports: config.inboundCapturePort)),
            trace: .inboundCapture,
            why: Provenance("inbound capture: redirect to Envoy's inbound listener", [.inboundCapturePort]))

        addInboundRules(&b, tproxy: tproxy, loopV4: loopV4)

        b.append(
            .nat, .output, layout.outboundJumpIsTCPOnly ? [M.tcp] : [], .jump(.istioOutput),
            trace: .jumpOutbound,
            why: Provenance(
                layout.outboundJumpIsTCPOnly
                    ? "locally generated TCP walks ISTIO_OUTPUT"
                    : "all locally generated traffic walks ISTIO_OUTPUT"))

        let portExcluded = Provenance("outbound port excluded from capture", [.outboundPortsExclude])
        for port in config.outboundPortsExclude {
            b.append(.nat, .istioOutput, [M.tcp, M.dport(port)], .return, why: portExcluded)
            if layout.outboundPortExclusionCoversUDP {
                b.append(.nat, .istioOutput, [M.udp, M.dport(port)], .return, why: portExcluded)
            }
        }

        b.appendVersioned(
            .nat, .istioOutput, v4: Self.inboundPassthroughV4, v6: Self.inboundPassthroughV6,
            why: Provenance("Envoy's inbound passthrough (source 127.0.0.6 / ::6) to the app")
        ) { ([M.output("lo"), M.source($0)], .return) }

        let ownLoopback =
            !(config.outboundRangesInclude.v4.hasLoopback || config.outboundRangesInclude.v6.hasLoopback)
        for (kind, ids, setting) in [
            (OwnerMatch.Kind.uid, config.proxyUIDs, Setting.proxyUID), (.gid, config.proxyGIDs, .proxyGID),
        ] {
            for id in ids {
                let owner = { (not: Bool) in kind == .uid ? M.uid(id, not: not) : M.gid(id, not: not) }
                // Envoy calling a local address that is not loopback (the pod IP, a VIP that came
                // back) goes to the inbound listener: app -> Envoy -> Envoy inbound -> app.
                let skipTunnel: [Match]
                if layout.loopbackRedirectSkipsTunnelPort {
                    skipTunnel =
                        redirectDNS && kind == .uid
                        ? [M.tcp, M.dports([Self.dnsPort, config.inboundTunnelPort], not: true)]
                        : [M.tcp, M.dport(config.inboundTunnelPort, not: true)]
                } else {
                    skipTunnel = redirectDNS && kind == .uid ? [M.tcp, M.dport(Self.dnsPort, not: true)] : []
                }
                b.appendVersioned(
                    .nat, .istioOutput, v4: loopV4, v6: loopV6,
                    why: Provenance(
                        "proxy calling the pod itself over lo goes to Envoy inbound",
                        [setting, .inboundTunnelPort])
                ) {
                    (
                        [M.output("lo"), M.destination($0, not: true)] + skipTunnel + [owner(false)],
                        .jump(.istioInRedirect)
                    )
                }
                if ownLoopback {
                    let why = Provenance(
                        "app traffic over lo (not from the proxy) is not captured", [setting])
                    if redirectDNS {
                        b.append(
                            .nat, .istioOutput,
                            [M.output("lo"), M.tcp, M.dport(Self.dnsPort, not: true), owner(true)], .return,
                            why: why)
                    } else {
                        b.append(.nat, .istioOutput, [M.output("lo"), owner(true)], .return, why: why)
                    }
                }
                b.append(
                    .nat, .istioOutput, [owner(false)], .return,
                    why: Provenance("the proxy's own traffic is never captured", [setting]))
            }
        }

        let groupWhy = Provenance("outbound capture limited by the sending process's group", [.ownerGroups])
        switch config.ownerGroups {
        case .allExcept(let groups):
            for group in groups { b.append(.nat, .istioOutput, [M.gid(group)], .return, why: groupWhy) }
        case .only(let groups):
            b.append(.nat, .istioOutput, groups.map { M.gid($0, not: true) }, .return, why: groupWhy)
        }

        if redirectDNS {
            switch layout.dns {
            case .builtinOutputChains, .istioOutputChain: addTCPDNSRedirects(&b)
            case .dedicatedChains: addDNSChains(&b)
            }
        }

        b.appendVersioned(
            .nat, .istioOutput, v4: loopV4, v6: loopV6,
            why: Provenance("traffic to loopback is not captured", [.hostIPv4LoopbackCIDR])
        ) { ([M.destination($0)], .return) }

        let rangeExcluded = Provenance("destination excluded from capture", [.outboundRangesExclude])
        for cidr in config.outboundRangesExclude.v4.cidrs {
            b.append(
                .nat, .istioOutput, [M.destination(cidr)], .return, families: .v4Only, why: rangeExcluded)
        }
        for cidr in config.outboundRangesExclude.v6.cidrs {
            b.append(
                .nat, .istioOutput, [M.destination(cidr)], .return, families: .v6Only, why: rangeExcluded)
        }

        for port in config.outboundPortsInclude {
            b.append(
                .nat, .istioOutput, [M.tcp, M.dport(port)], .jump(.istioRedirect),
                why: Provenance("outbound port captured", [.outboundPortsInclude]))
        }

        addOutboundIncludes(&b, config.outboundRangesInclude.v4, families: .v4Only)
        addOutboundIncludes(&b, config.outboundRangesInclude.v6, families: .v6Only)

        if redirectDNS && layout.dns != .dedicatedChains {
            addUDPDNSRules(&b)
        }

        if tproxy { addTProxyMarks(&b, loopV4: loopV4) }
        return b.rules
    }

    private func addInboundRules(_ b: inout RuleBuilder, tproxy: Bool, loopV4: AddressMatchSpelling) {
        if config.inboundPorts == .none { return }
        let table: Table
        if tproxy {
            let why = Provenance("TPROXY inbound capture", [.interceptionMode, .tproxyMark])
            b.append(.mangle, .istioDivert, [], .mark(MarkTarget(setMark: config.tproxyMark)), why: why)
            b.append(.mangle, .istioDivert, [], .accept, why: why)
            b.appendVersioned(
                .mangle, .istioTProxy, v4: loopV4, v6: Self.loopbackV6,
                why: Provenance(
                    "TPROXY inbound capture to Envoy's inbound listener",
                    [.interceptionMode, .inboundCapturePort, .tproxyMark])
            ) {
                (
                    [M.destination($0, not: true), M.tcp],
                    .tproxy(
                        TProxyTarget(
                            mark: MarkValue(config.tproxyMark.text + "/0xffffffff"),
                            onPort: config.inboundCapturePort))
                )
            }
            table = .mangle
        } else {
            table = .nat
        }
        b.append(
            table, .prerouting, [M.tcp], .jump(.istioInbound), trace: .jumpInbound,
            why: Provenance("inbound TCP walks ISTIO_INBOUND", [.inboundPorts]))
        switch config.inboundPorts {
        case .none:
            return
        case .all:
            if release.layout.sshPortExcluded {
                b.append(
                    table, .istioInbound, [M.tcp, M.dport(PortSpec("22"))], .return,
                    trace: .excludeInboundPort,
                    why: Provenance("SSH (22) is never captured (before 1.13)", [.inboundPorts]))
            }
            for port in config.inboundPortsExclude {
                b.append(
                    table, .istioInbound, [M.tcp, M.dport(port)], .return, trace: .excludeInboundPort,
                    why: Provenance("inbound port excluded from capture", [.inboundPortsExclude]))
            }
            let why = Provenance("every other inbound port is captured", [.inboundPorts])
            if tproxy {
                b.append(
                    .mangle, .istioInbound, [M.tcp, M.ctstate([.related, .established])], .jump(.istioDivert),
                    why: why)
                b.append(.mangle, .istioInbound, [M.tcp], .jump(.istioTProxy), why: why)
            } else {
                b.append(.nat, .istioInbound, [M.tcp], .jump(.istioInRedirect), why: why)
            }
        case .only(let ports):
            let why = Provenance("inbound port captured", [.inboundPorts])
            for port in ports {
                if tproxy {
                    b.append(
                        .mangle, .istioInbound, [M.tcp, M.dport(port), M.ctstate([.related, .established])],
                        .jump(.istioDivert), trace: .includeInboundPort, why: why)
                    b.append(
                        .mangle, .istioInbound, [M.tcp, M.dport(port)], .jump(.istioTProxy),
                        trace: .includeInboundPort, why: why)
                } else {
                    b.append(
                        .nat, .istioInbound, [M.tcp, M.dport(port)], .jump(.istioInRedirect),
                        trace: .includeInboundPort, why: why)
                }
            }
        }
    }

    private func addOutboundIncludes(_ b: inout RuleBuilder, _ ranges: NetworkRanges, families: Families) {
        let virt = Provenance(
            "virtual interface traffic to a captured range goes to Envoy",
            [.kubeVirtInterfaces, .outboundRangesInclude])
        if ranges.isWildcard {
            b.append(
                .nat, .istioOutput, [], .jump(.istioRedirect), families: families,
                why: Provenance("all other outbound traffic is captured", [.outboundRangesInclude]))
            for nic in config.kubeVirtInterfaces {
                b.insert(
                    .nat, .prerouting, at: 1, [M.input(nic)], .jump(.istioRedirect), families: families,
                    trace: .kubevirt, why: virt)
            }
        } else if !ranges.cidrs.isEmpty {
            for cidr in ranges.cidrs {
                for nic in config.kubeVirtInterfaces {
                    b.insert(
                        .nat, .prerouting, at: 1, [M.input(nic), M.destination(cidr)], .jump(.istioRedirect),
                        families: families,
                        trace: .kubevirt, why: virt)
                }
                b.append(
                    .nat, .istioOutput, [M.destination(cidr)], .jump(.istioRedirect), families: families,
                    why: Provenance("outbound range captured", [.outboundRangesInclude]))
            }
            if release.layout.includedRangesEndWithReturn {
                b.append(
                    .nat, .istioOutput, [], .return, families: families,
                    why: Provenance(
                        "outbound traffic outside the captured ranges is not captured",
                        [.outboundRangesInclude]))
            }
        }
    }

    /// ≤1.24: TCP DNS redirects, inside ISTIO_OUTPUT after the owner rules.
    private func addTCPDNSRedirects(_ b: inout RuleBuilder) {
        let redirect = Target.redirect(RedirectTarget(ports: Self.agentDNSPort))
        if config.captureAllDNS {
            b.append(
                .nat, .istioOutput, [M.tcp, M.dport(Self.dnsPort)], redirect,
                why: Provenance(
                    "TCP DNS to any server goes to the agent's DNS proxy", [.redirectDNS, .captureAllDNS]))
            return
        }
        let why = Provenance(
            "TCP DNS to a pod nameserver goes to the agent's DNS proxy", [.redirectDNS, .dnsServers])
        for server in config.dnsServersV4 {
            b.append(
                .nat, .istioOutput, [M.tcp, M.dport(Self.dnsPort), M.destination(hostSpelling(server))],
                redirect, families: .v4Only, why: why)
        }
        for server in config.dnsServersV6 {
            b.append(
                .nat, .istioOutput, [M.tcp, M.dport(Self.dnsPort), M.destination(hostSpelling(server))],
                redirect, families: .v6Only, why: why)
        }
    }

    /// ≤1.24: UDP DNS capture and conntrack zones (`HandleDNSUDP`).
    private func addUDPDNSRules(_ b: inout RuleBuilder) {
        let natChain: ChainName
        let rawChain: ChainName
        switch release.layout.dns {
        case .builtinOutputChains:
            natChain = .output
            rawChain = .output
        case .istioOutputChain, .dedicatedChains:
            natChain = .istioOutput
            rawChain = .istioOutput
            let why = Provenance("UDP walks ISTIO_OUTPUT for DNS capture", [.redirectDNS])
            b.append(.nat, .output, [M.udp], .jump(.istioOutput), trace: .jumpOutbound, why: why)
            b.append(.raw, .output, [M.udp], .jump(.istioOutput), trace: .jumpOutbound, why: why)
        }
        let dns53 = [M.udp, M.dport(Self.dnsPort)]
        let proxyWhy = { (setting: Setting) in
            Provenance("the proxy's own DNS queries are not captured", [.redirectDNS, setting])
        }
        for uid in config.proxyUIDs {
            b.append(.nat, natChain, dns53 + [M.uid(uid)], .return, why: proxyWhy(.proxyUID))
        }
        for gid in config.proxyGIDs {
            b.append(.nat, natChain, dns53 + [M.gid(gid)], .return, why: proxyWhy(.proxyGID))
        }
        let groupWhy = Provenance(
            "DNS capture limited by the sending process's group", [.redirectDNS, .ownerGroups])
        switch config.ownerGroups {
        case .allExcept(let groups):
            for group in groups { b.append(.nat, natChain, dns53 + [M.gid(group)], .return, why: groupWhy) }
        case .only(let groups):
            b.append(.nat, natChain, dns53 + groups.map { M.gid($0, not: true) }, .return, why: groupWhy)
        }
        let redirect = Target.redirect(RedirectTarget(ports: Self.agentDNSPort, spelling: .toPort))
        if config.captureAllDNS {
            b.append(
                .nat, natChain, dns53, redirect,
                why: Provenance(
                    "UDP DNS to any server goes to the agent's DNS proxy", [.redirectDNS, .captureAllDNS]))
        } else {
            let why = Provenance(
                "UDP DNS to a pod nameserver goes to the agent's DNS proxy", [.redirectDNS, .dnsServers])
            for server in config.dnsServersV4 {
                b.append(
                    .nat, natChain, dns53 + [M.destination(hostSpelling(server))], redirect,
                    families: .v4Only, why: why)
            }
            for server in config.dnsServersV6 {
                b.append(
                    .nat, natChain, dns53 + [M.destination(hostSpelling(server))], redirect,
                    families: .v6Only, why: why)
            }
        }
        addConntrackZones(&b, outputChain: rawChain, inboundChain: .prerouting, declareInboundJump: false)
    }

    /// 1.25+: `SetupDNSRedir`, everything DNS in ISTIO_OUTPUT_DNS (nat, raw) and raw ISTIO_INBOUND.
    private func addDNSChains(_ b: inout RuleBuilder) {
        let jumpWhy = Provenance("DNS capture rules live in ISTIO_OUTPUT_DNS", [.redirectDNS])
        b.append(.raw, .output, [], .jump(.istioOutputDNS), why: jumpWhy)
        if config.captureAllDNS || !config.dnsServersV4.isEmpty {
            b.append(.nat, .istioOutput, [], .jump(.istioOutputDNS), families: .v4Only, why: jumpWhy)
        }
        if config.captureAllDNS || !config.dnsServersV6.isEmpty {
            b.append(.nat, .istioOutput, [], .jump(.istioOutputDNS), families: .v6Only, why: jumpWhy)
        }
        let tcpRedirect = Target.redirect(RedirectTarget(ports: Self.agentDNSPort))
        let udpRedirect = Target.redirect(RedirectTarget(ports: Self.agentDNSPort, spelling: .toPort))
        if config.captureAllDNS {
            b.append(
                .nat, .istioOutputDNS, [M.tcp, M.dport(Self.dnsPort)], tcpRedirect,
                why: Provenance(
                    "TCP DNS to any server goes to the agent's DNS proxy", [.redirectDNS, .captureAllDNS]))
            b.append(
                .nat, .istioOutputDNS, [M.udp, M.dport(Self.dnsPort)], udpRedirect,
                why: Provenance(
                    "UDP DNS to any server goes to the agent's DNS proxy", [.redirectDNS, .captureAllDNS]))
        } else {
            let tcpWhy = Provenance(
                "TCP DNS to a pod nameserver goes to the agent's DNS proxy", [.redirectDNS, .dnsServers])
            let udpWhy = Provenance(
                "UDP DNS to a pod nameserver goes to the agent's DNS proxy", [.redirectDNS, .dnsServers])
            for server in config.dnsServersV4 {
                b.append(
                    .nat, .istioOutputDNS,
                    [M.tcp, M.dport(Self.dnsPort), M.destination(hostSpelling(server))], tcpRedirect,
                    families: .v4Only, why: tcpWhy)
            }
            for server in config.dnsServersV6 {
                b.append(
                    .nat, .istioOutputDNS,
                    [M.tcp, M.dport(Self.dnsPort), M.destination(hostSpelling(server))], tcpRedirect,
                    families: .v6Only, why: tcpWhy)
            }
            for server in config.dnsServersV4 {
                b.append(
                    .nat, .istioOutputDNS,
                    [M.udp, M.dport(Self.dnsPort), M.destination(hostSpelling(server))], udpRedirect,
                    families: .v4Only, why: udpWhy)
            }
            for server in config.dnsServersV6 {
                b.append(
                    .nat, .istioOutputDNS,
                    [M.udp, M.dport(Self.dnsPort), M.destination(hostSpelling(server))], udpRedirect,
                    families: .v6Only, why: udpWhy)
            }
        }
        addConntrackZones(
            &b, outputChain: .istioOutputDNS, inboundChain: .istioInbound, declareInboundJump: true)
    }

    /// Splits DNS into two conntrack zones so the agent's upstream queries and the app's queries
    /// to the agent never share an entry: zone 1 = agent <-> nameserver, zone 2 = app <-> agent.
    private func addConntrackZones(
        _ b: inout RuleBuilder, outputChain: ChainName, inboundChain: ChainName, declareInboundJump: Bool
    ) {
        let zone1 = Target.ct(CTTarget(zone: 1))
        let zone2 = Target.ct(CTTarget(zone: 2))
        for (kind, ids, setting) in [
            (OwnerMatch.Kind.uid, config.proxyUIDs, Setting.proxyUID), (.gid, config.proxyGIDs, .proxyGID),
        ] {
            for id in ids {
                let owner = kind == .uid ? M.uid(id) : M.gid(id)
                b.append(
                    .raw, outputChain, [M.udp, M.dport(Self.dnsPort), owner], zone1,
                    why: Provenance(
                        "the agent's queries to nameservers: conntrack zone 1", [.redirectDNS, setting]))
                b.append(
                    .raw, outputChain, [M.udp, M.sport(Self.agentDNSPort), owner], zone2,
                    why: Provenance(
                        "the agent's answers to the app: conntrack zone 2", [.redirectDNS, setting]))
            }
        }
        let toZone2 = Provenance("the app's DNS queries: conntrack zone 2", [.redirectDNS, .dnsServers])
        let fromZone1 = Provenance("nameserver answers: conntrack zone 1", [.redirectDNS, .dnsServers])
        let inboundJump = Provenance(
            "DNS conntrack rules for answers live in raw ISTIO_INBOUND", [.redirectDNS])
        if config.captureAllDNS {
            if declareInboundJump { b.append(.raw, .prerouting, [], .jump(.istioInbound), why: inboundJump) }
            b.append(.raw, outputChain, [M.udp, M.dport(Self.dnsPort)], zone2, why: toZone2)
            b.append(.raw, inboundChain, [M.udp, M.sport(Self.dnsPort)], zone1, why: fromZone1)
            return
        }
        for (servers, families) in [(config.dnsServersV4, Families.v4Only), (config.dnsServersV6, .v6Only)] {
            if declareInboundJump && !servers.isEmpty {
                b.append(.raw, .prerouting, [], .jump(.istioInbound), families: families, why: inboundJump)
            }
            for server in servers {
                b.append(
                    .raw, outputChain, [M.udp, M.dport(Self.dnsPort), M.destination(hostSpelling(server))],
                    zone2, families: families, why: toZone2)
                // Before 1.20 the answer rule matched the nameserver as destination (a bug).
                let answerFrom =
                    release.layout.dnsAnswerZoneMatchesSource
                    ? M.source(hostSpelling(server)) : M.destination(hostSpelling(server))
                b.append(
                    .raw, inboundChain, [M.udp, M.sport(Self.dnsPort), answerFrom], zone1, families: families,
                    why: fromZone1)
            }
        }
    }

    private func addTProxyMarks(_ b: inout RuleBuilder, loopV4: AddressMatchSpelling) {
        let mark = config.tproxyMark
        b.append(
            .mangle, .prerouting, [M.tcp, M.mark(mark)], .connmark(.saveMark),
            why: Provenance("keep the original_src mark on the connection", [.tproxyMark]))
        b.append(
            .mangle, .output, [M.tcp, M.output("lo"), M.mark(mark)], .return,
            why: Provenance("Envoy -> app traffic already marked is left alone", [.tproxyMark]))
        for (kind, ids, setting) in [
            (OwnerMatch.Kind.uid, config.proxyUIDs, Setting.proxyUID), (.gid, config.proxyGIDs, .proxyGID),
        ] {
            for id in ids {
                b.appendVersioned(
                    .mangle, .output, v4: loopV4, v6: Self.loopbackV6,
                    why: Provenance("mark Envoy outbound -> Envoy inbound over lo (1338)", [setting])
                ) {
                    (
                        [
                            M.destination($0, not: true), M.tcp, M.output("lo"),
                            kind == .uid ? M.uid(id) : M.gid(id),
                        ],
                        .mark(MarkTarget(setMark: Self.outboundMark))
                    )
                }
            }
        }
        b.append(
            .mangle, .output, [M.tcp, M.connmark(mark)], .connmark(.restoreMark),
            why: Provenance(
                "route replies of TPROXY'd connections back through the policy routing table", [.tproxyMark]))
        b.insert(
            .mangle, .istioInbound, at: 1, [M.tcp, M.mark(mark)], .return,
            why: Provenance("already diverted: avoid an infinite loop", [.tproxyMark]))
        b.insert(
            .mangle, .istioInbound, at: 2, [M.tcp, M.source(Self.inboundPassthroughV4), M.input("lo")],
            .return,
            families: .v4Only,
            why: Provenance("Envoy's inbound passthrough (127.0.0.6) to the app is not captured"))
        b.insert(
            .mangle, .istioInbound, at: 2, [M.tcp, M.source(Self.inboundPassthroughV6), M.input("lo")],
            .return,
            families: .v6Only, why: Provenance("Envoy's inbound passthrough (::6) to the app is not captured")
        )
        b.insert(
            .mangle, .istioInbound, at: 3, [M.tcp, M.input("lo"), M.mark(Self.outboundMark, not: true)],
            .return,
            why: Provenance("app -> app over lo by pod IP is not captured"))
    }

    /// `S/32` or `S/128`, the nameserver text as given.
    func hostSpelling(_ server: DNSServer) -> AddressMatchSpelling {
        let cidr = CIDR(host: server.address)
        return AddressMatchSpelling(cidr, text: "\(server.text)/\(cidr.prefixLength)")
    }
}
