import Netfilter
import PacketModel

/// The 1.10–1.11 configurator (`pkg/cmd/run.go`). Its IPv4 pass is close to the later one; its
/// IPv6 pass is a separate, simpler sequence (REDIRECT only, no DNS, a kube-virt wildcard that
/// returns instead of redirecting), and DNS capture only knows IPv4 nameservers.
struct LegacyRuleGenerator {
    let config: CaptureConfig
    let layout: LegacyLayout

    static let loopbackV4 = AddressMatchSpelling(CIDR(host: .v4(.loopback)))
    static let loopbackV6 = AddressMatchSpelling(CIDR(host: .v6(.loopback)))

    func generate() -> GeneratedRules {
        var b = RuleBuilder(enableIPv6: config.enableIPv6, nflog: nil)
        let redirectDNS = config.redirectDNS
        let tproxy = config.interceptionMode == .tproxy
        let ipv6 = config.enableIPv6

        let excluded = Provenance("interface excluded from capture", [.excludeInterfaces])
        for nic in config.excludeInterfaces {
            b.append(.nat, .prerouting, [M.input(nic)], .return, why: excluded)
            b.append(.nat, .output, [M.output(nic)], .return, why: excluded)
        }
        if tproxy {
            for nic in config.excludeInterfaces {
                b.append(.mangle, .prerouting, [M.input(nic)], .return, why: excluded)
                b.append(.mangle, .output, [M.output(nic)], .return, why: excluded)
            }
        }
        for nic in config.kubeVirtInterfaces {
            b.insert(
                .nat, .prerouting, at: 1, [M.input(nic)], .return,
                why: Provenance("virtual interface: not inbound traffic", [.kubeVirtInterfaces]))
        }

        b.append(
            .nat, .istioInbound, [M.tcp, M.dport(config.inboundTunnelPort)], .return, families: .v4Only,
            why: Provenance("inbound tunnel port goes to Envoy directly", [.inboundTunnelPort]))
        b.append(
            .nat, .istioRedirect, [M.tcp], .redirect(RedirectTarget(ports: config.proxyPort)),
            families: .v4Only,
            why: Provenance("outbound capture: redirect to Envoy's outbound listener", [.proxyPort]))
        b.append(
            .nat, .istioInRedirect, [M.tcp], .redirect(RedirectTarget(ports: config.inboundCapturePort)),
            families: .v4Only,
            why: Provenance("inbound capture: redirect to Envoy's inbound listener", [.inboundCapturePort]))
        addInboundV4(&b, tproxy: tproxy)

        b.append(
            .nat, .output, [M.tcp], .jump(.istioOutput), families: .v4Only,
            why: Provenance("locally generated TCP walks ISTIO_OUTPUT"))
        for port in config.outboundPortsExclude {
            b.append(
                .nat, .istioOutput, [M.tcp, M.dport(port)], .return, families: .v4Only,
                why: Provenance("outbound port excluded from capture", [.outboundPortsExclude]))
        }
        b.append(
            .nat, .istioOutput, [M.output("lo"), M.source(RuleGenerator.inboundPassthroughV4)], .return,
            families: .v4Only,
            why: Provenance("Envoy's inbound passthrough (source 127.0.0.6) to the app"))
        let ownLoopback =
            !(config.outboundRangesInclude.v4.hasLoopback || config.outboundRangesInclude.v6.hasLoopback)
        for (kind, ids, setting) in [
            (OwnerMatch.Kind.uid, config.proxyUIDs, Setting.proxyUID), (.gid, config.proxyGIDs, .proxyGID),
        ] {
            for id in ids {
                let owner = { (not: Bool) in kind == .uid ? M.uid(id, not: not) : M.gid(id, not: not) }
                let skipDNS =
                    redirectDNS && kind == .uid ? [M.tcp, M.dport(RuleGenerator.dnsPort, not: true)] : []
                b.append(
                    .nat, .istioOutput,
                    [M.output("lo"), M.destination(Self.loopbackV4, not: true)] + skipDNS + [owner(false)],
                    .jump(.istioInRedirect), families: .v4Only,
                    why: Provenance("proxy calling the pod itself over lo goes to Envoy inbound", [setting]))
                if ownLoopback {
                    let why = Provenance(
                        "app traffic over lo (not from the proxy) is not captured", [setting])
                    let matches =
                        redirectDNS
                        ? [M.output("lo"), M.tcp, M.dport(RuleGenerator.dnsPort, not: true), owner(true)]
                        : [M.output("lo"), owner(true)]
                    b.append(.nat, .istioOutput, matches, .return, families: .v4Only, why: why)
                }
                b.append(
                    .nat, .istioOutput, [owner(false)], .return, families: .v4Only,
                    why: Provenance("the proxy's own traffic is never captured", [setting]))
            }
        }
        if redirectDNS {
            let redirect = Target.redirect(RedirectTarget(ports: RuleGenerator.agentDNSPort))
            if config.captureAllDNS {
                b.append(
                    .nat, .istioOutput, [M.tcp, M.dport(RuleGenerator.dnsPort)], redirect, families: .v4Only,
                    why: Provenance(
                        "TCP DNS to any server goes to the agent's DNS proxy", [.redirectDNS, .captureAllDNS])
                )
            } else {
                for server in config.dnsServersV4 {
                    b.append(
                        .nat, .istioOutput,
                        [M.tcp, M.dport(RuleGenerator.dnsPort), M.destination(hostSpelling(server))],
                        redirect,
                        families: .v4Only,
                        why: Provenance(
                            "TCP DNS to a pod nameserver goes to the agent's DNS proxy",
                            [.redirectDNS, .dnsServers]))
                }
            }
        }
        b.append(
            .nat, .istioOutput, [M.destination(Self.loopbackV4)], .return, families: .v4Only,
            why: Provenance("traffic to loopback is not captured"))
        for cidr in config.outboundRangesExclude.v4.cidrs {
            b.append(
                .nat, .istioOutput, [M.destination(cidr)], .return, families: .v4Only,
                why: Provenance("destination excluded from capture", [.outboundRangesExclude]))
        }
        for port in config.outboundPortsInclude {
            b.append(
                .nat, .istioOutput, [M.tcp, M.dport(port)], .jump(.istioRedirect), families: .v4Only,
                why: Provenance("outbound port captured", [.outboundPortsInclude]))
        }
        addOutboundIncludes(
            &b, config.outboundRangesInclude.v4, families: .v4Only, wildcardVirtTarget: .jump(.istioRedirect))
        if ipv6 { addIPv6Pass(&b) }
        if redirectDNS { addUDPDNS(&b) }
        if tproxy { addTProxyMarks(&b) }
        return b.rules
    }

    private func addInboundV4(_ b: inout RuleBuilder, tproxy: Bool) {
        if config.inboundPorts == .none { return }
        let table: Table
        if tproxy {
            let why = Provenance("TPROXY inbound capture", [.interceptionMode, .tproxyMark])
            b.append(
                .mangle, .istioDivert, [], .mark(MarkTarget(setMark: config.tproxyMark)), families: .v4Only,
                why: why)
            b.append(.mangle, .istioDivert, [], .accept, families: .v4Only, why: why)
            b.append(
                .mangle, .istioTProxy, [M.destination(Self.loopbackV4, not: true), M.tcp],
                .tproxy(
                    TProxyTarget(
                        mark: MarkValue(config.tproxyMark.text + "/0xffffffff"),
                        onPort: config.inboundCapturePort)),
                families: .v4Only, why: why)
            table = .mangle
        } else {
            table = .nat
        }
        b.append(
            table, .prerouting, [M.tcp], .jump(.istioInbound), families: .v4Only,
            why: Provenance("inbound TCP walks ISTIO_INBOUND", [.inboundPorts]))
        switch config.inboundPorts {
        case .none:
            return
        case .all:
            b.append(
                table, .istioInbound, [M.tcp, M.dport(PortSpec("22"))], .return, families: .v4Only,
                why: Provenance("SSH (22) is never captured (before 1.13)", [.inboundPorts]))
            for port in config.inboundPortsExclude {
                b.append(
                    table, .istioInbound, [M.tcp, M.dport(port)], .return, families: .v4Only,
                    why: Provenance("inbound port excluded from capture", [.inboundPortsExclude]))
            }
            let why = Provenance("every other inbound port is captured", [.inboundPorts])
            if tproxy {
                b.append(
                    .mangle, .istioInbound, [M.tcp, M.ctstate([.related, .established])], .jump(.istioDivert),
                    families: .v4Only,
                    why: why)
                b.append(.mangle, .istioInbound, [M.tcp], .jump(.istioTProxy), families: .v4Only, why: why)
            } else {
                b.append(.nat, .istioInbound, [M.tcp], .jump(.istioInRedirect), families: .v4Only, why: why)
            }
        case .only(let ports):
            let why = Provenance("inbound port captured", [.inboundPorts])
            for port in ports {
                if tproxy {
                    b.append(
                        .mangle, .istioInbound, [M.tcp, M.dport(port), M.ctstate([.related, .established])],
                        .jump(.istioDivert), families: .v4Only, why: why)
                    b.append(
                        .mangle, .istioInbound, [M.tcp, M.dport(port)], .jump(.istioTProxy),
                        families: .v4Only, why: why)
                } else {
                    b.append(
                        .nat, .istioInbound, [M.tcp, M.dport(port)], .jump(.istioInRedirect),
                        families: .v4Only, why: why)
                }
            }
        }
    }

    private func addOutboundIncludes(
        _ b: inout RuleBuilder, _ ranges: NetworkRanges, families: Families, wildcardVirtTarget: Target
    ) {
        let virt = Provenance(
            "virtual interface traffic to a captured range goes to Envoy",
            [.kubeVirtInterfaces, .outboundRangesInclude])
        if ranges.isWildcard {
            b.append(
                .nat, .istioOutput, [], .jump(.istioRedirect), families: families,
                why: Provenance("all other outbound traffic is captured", [.outboundRangesInclude]))
            for nic in config.kubeVirtInterfaces {
                b.insert(
                    .nat, .prerouting, at: 1, [M.input(nic)], wildcardVirtTarget, families: families,
                    why: virt)
            }
        } else if !ranges.cidrs.isEmpty {
            for cidr in ranges.cidrs {
                for nic in config.kubeVirtInterfaces {
                    b.insert(
                        .nat, .prerouting, at: 1, [M.input(nic), M.destination(cidr)], .jump(.istioRedirect),
                        families: families,
                        why: virt)
                }
                b.append(
                    .nat, .istioOutput, [M.destination(cidr)], .jump(.istioRedirect), families: families,
                    why: Provenance("outbound range captured", [.outboundRangesInclude]))
            }
            b.append(
                .nat, .istioOutput, [], .return, families: families,
                why: Provenance(
                    "outbound traffic outside the captured ranges is not captured", [.outboundRangesInclude]))
        }
    }

    /// `handleInboundIpv6Rules`: REDIRECT-only inbound, the owner rules without DNS variants.
    private func addIPv6Pass(_ b: inout RuleBuilder) {
        b.append(
            .nat, .istioInbound, [M.tcp, M.dport(config.inboundTunnelPort)], .return, families: .v6Only,
            why: Provenance("inbound tunnel port goes to Envoy directly", [.inboundTunnelPort]))
        b.append(
            .nat, .istioRedirect, [M.tcp], .redirect(RedirectTarget(ports: config.proxyPort)),
            families: .v6Only,
            why: Provenance("outbound capture: redirect to Envoy's outbound listener", [.proxyPort]))
        b.append(
            .nat, .istioInRedirect, [M.tcp], .redirect(RedirectTarget(ports: config.inboundCapturePort)),
            families: .v6Only,
            why: Provenance("inbound capture: redirect to Envoy's inbound listener", [.inboundCapturePort]))
        if config.inboundPorts != .none {
            b.append(
                .nat, .prerouting, [M.tcp], .jump(.istioInbound), families: .v6Only,
                why: Provenance("inbound TCP walks ISTIO_INBOUND", [.inboundPorts]))
            switch config.inboundPorts {
            case .none: break
            case .all:
                b.append(
                    .nat, .istioInbound, [M.tcp, M.dport(PortSpec("22"))], .return, families: .v6Only,
                    why: Provenance("SSH (22) is never captured (before 1.13)", [.inboundPorts]))
                for port in config.inboundPortsExclude {
                    b.append(
                        .nat, .istioInbound, [M.tcp, M.dport(port)], .return, families: .v6Only,
                        why: Provenance("inbound port excluded from capture", [.inboundPortsExclude]))
                }
                b.append(
                    .nat, .istioInbound, [M.tcp], .jump(.istioInRedirect), families: .v6Only,
                    why: Provenance("every other inbound port is captured", [.inboundPorts]))
            case .only(let ports):
                for port in ports {
                    b.append(
                        .nat, .istioInbound, [M.tcp, M.dport(port)], .jump(.istioInRedirect),
                        families: .v6Only,
                        why: Provenance("inbound port captured", [.inboundPorts]))
                }
            }
        }
        b.append(
            .nat, .output, [M.tcp], .jump(.istioOutput), families: .v6Only,
            why: Provenance("locally generated TCP walks ISTIO_OUTPUT"))
        for port in config.outboundPortsExclude {
            b.append(
                .nat, .istioOutput, [M.tcp, M.dport(port)], .return, families: .v6Only,
                why: Provenance("outbound port excluded from capture", [.outboundPortsExclude]))
        }
        b.append(
            .nat, .istioOutput, [M.output("lo"), M.source(RuleGenerator.inboundPassthroughV6)], .return,
            families: .v6Only,
            why: Provenance("Envoy's inbound passthrough (source ::6) to the app"))
        for (kind, ids, setting) in [
            (OwnerMatch.Kind.uid, config.proxyUIDs, Setting.proxyUID), (.gid, config.proxyGIDs, .proxyGID),
        ] {
            for id in ids {
                let owner = { (not: Bool) in kind == .uid ? M.uid(id, not: not) : M.gid(id, not: not) }
                b.append(
                    .nat, .istioOutput,
                    [M.output("lo"), M.destination(Self.loopbackV6, not: true), owner(false)],
                    .jump(.istioInRedirect), families: .v6Only,
                    why: Provenance("proxy calling the pod itself over lo goes to Envoy inbound", [setting]))
                b.append(
                    .nat, .istioOutput, [M.output("lo"), owner(true)], .return, families: .v6Only,
                    why: Provenance("app traffic over lo (not from the proxy) is not captured", [setting]))
                b.append(
                    .nat, .istioOutput, [owner(false)], .return, families: .v6Only,
                    why: Provenance("the proxy's own traffic is never captured", [setting]))
            }
        }
        b.append(
            .nat, .istioOutput, [M.destination(Self.loopbackV6)], .return, families: .v6Only,
            why: Provenance("traffic to loopback is not captured"))
        for cidr in config.outboundRangesExclude.v6.cidrs {
            b.append(
                .nat, .istioOutput, [M.destination(cidr)], .return, families: .v6Only,
                why: Provenance("destination excluded from capture", [.outboundRangesExclude]))
        }
        if layout.ipv6OutboundPortsIncluded {
            for port in config.outboundPortsInclude {
                b.append(
                    .nat, .istioOutput, [M.tcp, M.dport(port)], .jump(.istioRedirect), families: .v6Only,
                    why: Provenance("outbound port captured", [.outboundPortsInclude]))
            }
        }
        // Upstream's IPv6 pass sends kube-virt interfaces to RETURN under a wildcard (a bug).
        addOutboundIncludes(
            &b, config.outboundRangesInclude.v6, families: .v6Only, wildcardVirtTarget: .return)
    }

    /// `HandleDNSUDP`: nat OUTPUT for IPv4 only, then the conntrack zones in raw.
    private func addUDPDNS(_ b: inout RuleBuilder) {
        let dns53 = [M.udp, M.dport(RuleGenerator.dnsPort)]
        for uid in config.proxyUIDs {
            b.append(
                .nat, .output, dns53 + [M.uid(uid)], .return, families: .v4Only,
                why: Provenance("the proxy's own DNS queries are not captured", [.redirectDNS, .proxyUID]))
        }
        for gid in config.proxyGIDs {
            b.append(
                .nat, .output, dns53 + [M.gid(gid)], .return, families: .v4Only,
                why: Provenance("the proxy's own DNS queries are not captured", [.redirectDNS, .proxyGID]))
        }
        let redirect = Target.redirect(RedirectTarget(ports: RuleGenerator.agentDNSPort, spelling: .toPort))
        if config.captureAllDNS {
            b.append(
                .nat, .output, dns53, redirect, families: .v4Only,
                why: Provenance(
                    "UDP DNS to any server goes to the agent's DNS proxy", [.redirectDNS, .captureAllDNS]))
        } else {
            for server in config.dnsServersV4 {
                b.append(
                    .nat, .output, dns53 + [M.destination(hostSpelling(server))], redirect, families: .v4Only,
                    why: Provenance(
                        "UDP DNS to a pod nameserver goes to the agent's DNS proxy",
                        [.redirectDNS, .dnsServers]))
            }
        }
        switch layout.dnsConntrackZones {
        case .never: return
        case .whenEnabled: if !config.dnsConntrackZones { return }
        case .always: break
        }
        let zone1 = Target.ct(CTTarget(zone: 1))
        let zone2 = Target.ct(CTTarget(zone: 2))
        for (kind, ids, setting) in [
            (OwnerMatch.Kind.uid, config.proxyUIDs, Setting.proxyUID), (.gid, config.proxyGIDs, .proxyGID),
        ] {
            for id in ids {
                let owner = kind == .uid ? M.uid(id) : M.gid(id)
                b.append(
                    .raw, .output, dns53 + [owner], zone1, families: .v4Only,
                    why: Provenance(
                        "the agent's queries to nameservers: conntrack zone 1", [.redirectDNS, setting]))
                b.append(
                    .raw, .output, [M.udp, M.sport(RuleGenerator.agentDNSPort), owner], zone2,
                    families: .v4Only,
                    why: Provenance(
                        "the agent's answers to the app: conntrack zone 2", [.redirectDNS, setting]))
            }
        }
        let toZone2 = Provenance("the app's DNS queries: conntrack zone 2", [.redirectDNS, .dnsServers])
        let fromZone1 = Provenance("nameserver answers: conntrack zone 1", [.redirectDNS, .dnsServers])
        if config.captureAllDNS {
            b.append(.raw, .output, dns53, zone2, families: .v4Only, why: toZone2)
            b.append(
                .raw, .prerouting, [M.udp, M.sport(RuleGenerator.dnsPort)], zone1, families: .v4Only,
                why: fromZone1)
        } else {
            for server in config.dnsServersV4 {
                b.append(
                    .raw, .output, dns53 + [M.destination(hostSpelling(server))], zone2, families: .v4Only,
                    why: toZone2)
                b.append(
                    .raw, .prerouting,
                    [M.udp, M.sport(RuleGenerator.dnsPort), M.destination(hostSpelling(server))], zone1,
                    families: .v4Only, why: fromZone1)
            }
        }
    }

    private func addTProxyMarks(_ b: inout RuleBuilder) {
        let mark = config.tproxyMark
        b.append(
            .mangle, .prerouting, [M.tcp, M.mark(mark)], .connmark(.saveMark), families: .v4Only,
            why: Provenance("keep the original_src mark on the connection", [.tproxyMark]))
        if layout.tproxyOutputMarks {
            b.append(
                .mangle, .output, [M.tcp, M.output("lo"), M.mark(mark)], .return, families: .v4Only,
                why: Provenance("Envoy -> app traffic already marked is left alone", [.tproxyMark]))
            for (kind, ids, setting) in [
                (OwnerMatch.Kind.uid, config.proxyUIDs, Setting.proxyUID),
                (.gid, config.proxyGIDs, .proxyGID),
            ] {
                for id in ids {
                    b.append(
                        .mangle, .output,
                        [
                            M.destination(Self.loopbackV4, not: true), M.tcp, M.output("lo"),
                            kind == .uid ? M.uid(id) : M.gid(id),
                        ],
                        .mark(MarkTarget(setMark: RuleGenerator.outboundMark)), families: .v4Only,
                        why: Provenance("mark Envoy outbound -> Envoy inbound over lo (1338)", [setting]))
                }
            }
        }
        b.append(
            .mangle, .output, [M.tcp, M.connmark(mark)], .connmark(.restoreMark), families: .v4Only,
            why: Provenance(
                "route replies of TPROXY'd connections back through the policy routing table", [.tproxyMark]))
        b.insert(
            .mangle, .istioInbound, at: 1, [M.tcp, M.mark(mark)], .return, families: .v4Only,
            why: Provenance("already diverted: avoid an infinite loop", [.tproxyMark]))
        if layout.tproxyOutputMarks {
            b.insert(
                .mangle, .istioInbound, at: 2,
                [M.tcp, M.source(RuleGenerator.inboundPassthroughV4), M.input("lo")], .return,
                families: .v4Only,
                why: Provenance("Envoy's inbound passthrough (127.0.0.6) to the app is not captured"))
            b.insert(
                .mangle, .istioInbound, at: 3,
                [M.tcp, M.input("lo"), M.mark(RuleGenerator.outboundMark, not: true)], .return,
                families: .v4Only, why: Provenance("app -> app over lo by pod IP is not captured"))
        }
    }

    private func hostSpelling(_ server: DNSServer) -> AddressMatchSpelling {
        let cidr = CIDR(host: server.address)
        return AddressMatchSpelling(cidr, text: "\(server.text)/\(cidr.prefixLength)")
    }
}
