import PacketModel

/// Upstream's derivations of values it reads from the machine.
enum Derivation {
    /// `getLocalIP`: the first address that is not loopback or link-local decides the family;
    /// with dual stack, any IPv6 address among them makes it IPv6.
    static func podIsIPv6(addresses: [IPAddress], dualStack: Bool) -> Bool? {
        var found = false
        var isIPv6 = false
        for address in addresses {
            let unmapped: IPAddress
            if case .v6(let v6) = address, let mapped = v6.mappedIPv4 {
                unmapped = .v4(mapped)
            } else {
                unmapped = address
            }
            guard !unmapped.isLoopback, !isLinkLocal(unmapped) else { continue }
            found = true
            isIPv6 = unmapped.family == .ipv6
            if !dualStack || isIPv6 { break }
        }
        return found ? isIPv6 : nil
    }

    static func isLinkLocal(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let v4): return v4.value >> 16 == 0xa9fe  // 169.254/16
        case .v6(let v6):
            let first = v6.high >> 48
            return first & 0xffc0 == 0xfe80 || first & 0xff0f == 0xff02  // fe80::/10, ff02::/16
        }
    }

    /// `nameserver` lines of resolv.conf, split by family, printed canonically (`IPsSplitV4V6`).
    static func nameservers(resolvConf: String) -> (v4: [IPAddress], v6: [IPAddress]) {
        var v4: [IPAddress] = []
        var v6: [IPAddress] = []
        for line in resolvConf.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 1, fields[0] == "nameserver" else { continue }
            var text = String(fields[1])
            if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
            guard case .success(let address) = IPAddress.parse(text) else { continue }
            switch address {
            case .v4: v4.append(address)
            case .v6: v6.append(address)
            }
        }
        return (v4, v6)
    }
}
