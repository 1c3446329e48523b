import IstioCapture

/// `--help`: what the command does, the flags of the selected release with their environment
/// variables and defaults, and worked examples.
enum Help {
    /// Cobra's usage block: the synopsis and the flags.
    static func usage(for release: Release) -> String {
        var text = "Usage:\n  istio-iptables [flags]\n\nFlags:\n"
        for flag in FlagCatalog.flags(for: release.version) {
            text += "  " + (flag.shorthand.map { "-\($0), " } ?? "    ") + "--\(flag.name)\n"
        }
        return text
    }

    static func text(for release: Release) -> String {
        var text = """
            istio-iptables — Istio's traffic-capture rules, emulated (release \(release.version))

            Writes the iptables rules istio-init installs in a pod, exactly as Istio \(release.version) does.
            With --dry-run it only prints them (iptables-restore input on stdout; IPv6 after '# ip6tables').
            Without it, it loads them with iptables-restore --noflush (root needed).

            Usage:
              istio-iptables [flags]

            Examples:
              # The standard sidecar, printed:
              istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*' -d 15090,15021,15020 --dry-run
              # The same rules as Istio 1.24 wrote them, IPv6 too:
              istio-iptables --istio-version 1.24 --enable-ipv6 -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*' -n
              # Load them into a network namespace:
              istio-iptables --network-namespace /var/run/netns/pod -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*'

            Flags (flag > environment variable > default):

            """
        for flag in FlagCatalog.flags(for: release.version) {
            var names = "  "
            names += flag.shorthand.map { "-\($0), " } ?? "    "
            names += "--\(flag.name)"
            switch flag.kind {
            case .string: names += " string"
            case .uint16: names += " uint16"
            case .duration: names += " duration"
            case .bool: break
            }
            text += names + "\n"
            text += "        \(flag.help)\n"
            var facts: [String] = []
            if !flag.env.isEmpty { facts.append("env " + flag.env.joined(separator: ", ")) }
            if !flag.defaultValue.isEmpty && flag.defaultValue != "false" {
                facts.append("default \(flag.defaultValue)")
            }
            if !facts.isEmpty { text += "        (" + facts.joined(separator: "; ") + ")\n" }
        }
        text += """

            Environment-only settings:

            """
        for setting in FlagCatalog.environmentOnly {
            text += "  \(setting.name)\n        \(setting.help)"
            text += setting.defaultValue.isEmpty ? "\n" : " (default \(setting.defaultValue))\n"
        }
        text += """

            Emulator flags (upstream reads these from the machine):
                  --istio-version X.Y[.Z]   emulate that release (env ISTIO_VERSION; default \(Release.newest.version));
                                            known: \(Release.all.map(\.version.description).joined(separator: ", "))
                  --enable-ipv6[=bool]      the pod has IPv6 (env ENABLE_INBOUND_IPV6; default: from the interfaces)
                  --dns-servers-v4 a,b      IPv4 nameservers (default: /etc/resolv.conf, read only for DNS capture)
                  --dns-servers-v6 a,b      IPv6 nameservers
                  --golden-format F         print what upstream's tests record: \(GoldenFormat.allCases.map(\.rawValue).joined(separator: ", "))
              -h, --help                    this text

            Exit status: 0 success; 1 invalid configuration or apply failure; 255 invalid command line.

            """
        return text
    }
}
