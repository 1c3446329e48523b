/// An address with a prefix length, as Go's `netip.Prefix` keeps it: the address is *not* masked,
/// so `10.1.2.3/8` prints back as `10.1.2.3/8` (Istio writes `cidr.String()` into its rules).
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        precondition(prefixLength >= 0 && prefixLength <= address.family.addressBits)
        self.address = address
        self.prefixLength = prefixLength
    }

    /// A host route: `/32` or `/128`.
    public init(host address: IPAddress) {
        self.init(address: address, prefixLength: address.family.addressBits)
    }

    public var family: IPFamily { address.family }

    /// Go `netip.ParsePrefix`, with its error messages.
    public static func parse(_ text: String) -> Result<CIDR, AddressParseError> {
        guard let slash = text.lastIndex(of: "/") else {
            return .failure(.init(input: text, message: "no '/'", kind: .prefix))
        }
        let addressText = String(text[..<slash])
        let bitsText = String(text[text.index(after: slash)...])
        let address: IPAddress
        switch IPAddress.parseAllowingZone(addressText) {
        case .failure(let error):
            return .failure(.init(input: text, message: error.description, kind: .prefix))
        case .success((_, .some)):
            return .failure(
                .init(input: text, message: "IPv6 zones cannot be present in a prefix", kind: .prefix))
        case .success((let parsed, nil)):
            address = parsed
        }
        let badBits = AddressParseError(
            input: text, message: "bad bits after slash: \(goQuote(bitsText))", kind: .prefix)
        if bitsText.count > 1, let first = bitsText.first, !("1"..."9").contains(first) {
            return .failure(badBits)
        }
        guard !bitsText.isEmpty, bitsText.allSatisfy(\.isASCIIDigit), let bits = Int(bitsText) else {
            return .failure(badBits)
        }
        if bits < 0 || bits > address.family.addressBits {
            return .failure(.init(input: text, message: "prefix length out of range", kind: .prefix))
        }
        return .success(CIDR(address: address, prefixLength: bits))
    }

    /// True when `other` falls inside this network.
    public func contains(_ other: IPAddress) -> Bool {
        switch (address, other) {
        case (.v4(let network), .v4(let candidate)):
            guard prefixLength > 0 else { return true }
            let mask = UInt32.max << UInt32(32 - prefixLength)
            return network.value & mask == candidate.value & mask
        case (.v6(let network), .v6(let candidate)):
            let (maskHigh, maskLow) = Self.v6Mask(prefixLength)
            return network.high & maskHigh == candidate.high & maskHigh
                && network.low & maskLow == candidate.low & maskLow
        default:
            return false
        }
    }

    /// The network address (host bits cleared), as the kernel stores it.
    public var masked: CIDR {
        switch address {
        case .v4(let network):
            let mask = prefixLength == 0 ? 0 : UInt32.max << UInt32(32 - prefixLength)
            return CIDR(address: .v4(IPv4Address(network.value & mask)), prefixLength: prefixLength)
        case .v6(let network):
            let (maskHigh, maskLow) = Self.v6Mask(prefixLength)
            return CIDR(
                address: .v6(IPv6Address(high: network.high & maskHigh, low: network.low & maskLow)),
                prefixLength: prefixLength)
        }
    }

    static func v6Mask(_ length: Int) -> (UInt64, UInt64) {
        let high: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : UInt64.max << UInt64(64 - length))
        let low: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : UInt64.max << UInt64(128 - length))
        return (high, low)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension CIDR {
    /// Go's older `net.ParseCIDR` as Istio ≤1.15 used it: the result is the *masked* network,
    /// IPv4-mapped IPv6 text counts as IPv4 (its prefix shortened by 96), the prefix may have
    /// leading zeros, and every error reads `invalid CIDR address: TEXT`. Also returns whether
    /// the address as written was a loopback address (upstream checks the unmasked address).
    public static func parseLikeNetParseCIDR(_ text: String) -> Result<
        (network: CIDR, addressIsLoopback: Bool), AddressParseError
    > {
        let failure = AddressParseError(input: text, message: "", kind: .netParseCIDR)
        guard let slash = text.firstIndex(of: "/") else { return .failure(failure) }
        let addressText = String(text[..<slash])
        let bitsText = text[text.index(after: slash)...]
        guard !bitsText.isEmpty, bitsText.allSatisfy(\.isASCIIDigit), let bits = Int(bitsText.prefix(9)),
            bitsText.count <= 9,
            case .success(let address) = IPAddress.parse(addressText)
        else { return .failure(failure) }
        guard bits <= address.family.addressBits else { return .failure(failure) }
        switch address {
        case .v6(let v6) where v6.mappedIPv4 != nil:
            let v4 = IPAddress.v4(v6.mappedIPv4!)
            let network = CIDR(address: v4, prefixLength: max(0, bits - 96)).masked
            return .success((network, v4.isLoopback))
        default:
            return .success((CIDR(address: address, prefixLength: bits).masked, address.isLoopback))
        }
    }
}
