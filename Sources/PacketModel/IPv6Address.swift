/// An IPv6 address as two 64-bit halves (network order: `high` holds the first eight bytes).
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public init(groups: [UInt16]) {
        precondition(groups.count == 8)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
        self.init(high: high, low: low)
    }

    public static let any = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)

    public var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
            + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
    }

    /// `::ffff:a.b.c.d`
    public var mappedIPv4: IPv4Address? {
        high == 0 && low >> 32 == 0xffff ? IPv4Address(UInt32(truncatingIfNeeded: low)) : nil
    }

    /// Go's `IsLoopback`: `::1`, or a v4-mapped 127/8 address.
    public var isLoopback: Bool {
        if let mapped = mappedIPv4 { return mapped.isLoopback }
        return high == 0 && low == 1
    }

    /// Parses with Go `netip.ParseAddr` rules. A `%zone` suffix is accepted and returned separately.
    public static func parseWithZone(_ text: String) -> Result<(IPv6Address, String?), AddressParseError> {
        var body = Substring(text)
        var zone: String?
        if let percent = text.firstIndex(of: "%") {
            body = text[..<percent]
            zone = String(text[text.index(after: percent)...])
            if zone!.isEmpty {
                return .failure(.init(input: text, message: "zone must be a non-empty string"))
            }
        }
        let bytes = Array(body.utf8)
        var groups: [UInt16] = []
        var ellipsis: Int?
        var index = 0
        if bytes.count >= 2 && bytes[0] == UInt8(ascii: ":") && bytes[1] == UInt8(ascii: ":") {
            ellipsis = 0
            index = 2
            if index == bytes.count {
                return .success((.any, zone))
            }
        }
        while index < bytes.count {
            var value = 0
            var digits = 0
            var cursor = index
            while cursor < bytes.count, let nibble = hexValue(bytes[cursor]) {
                value = value << 4 + nibble
                digits += 1
                cursor += 1
                if value > 0xffff {
                    return .failure(
                        .init(
                            input: text, message: "IPv6 field has value >=2^16",
                            at: String(decoding: bytes[index...], as: UTF8.self)))
                }
            }
            if digits == 0 {
                return .failure(
                    .init(
                        input: text, message: "each colon-separated field must have at least one digit",
                        at: String(decoding: bytes[index...], as: UTF8.self)))
            }
            if cursor < bytes.count && bytes[cursor] == UInt8(ascii: ".") {
                // Embedded IPv4 address must replace the last two groups.
                if ellipsis == nil && groups.count != 6 {
                    return .failure(
                        .init(
                            input: text,
                            message: "embedded IPv4 address must replace the final 2 fields of the address",
                            at: String(decoding: bytes[index...], as: UTF8.self)))
                }
                if groups.count + 2 > 8 {
                    return .failure(
                        .init(
                            input: text,
                            message: "too many hex fields to fit an embedded IPv4 at the end of the address",
                            at: String(decoding: bytes[index...], as: UTF8.self)))
                }
                let tail = String(decoding: bytes[index...], as: UTF8.self)
                switch IPv4Address.parse(Substring(tail), whole: text) {
                case .failure(let error): return .failure(error)
                case .success(let v4):
                    groups.append(UInt16(v4.value >> 16))
                    groups.append(UInt16(v4.value & 0xffff))
                }
                index = bytes.count
                break
            }
            groups.append(UInt16(value))
            index = cursor
            if index == bytes.count { break }
            guard bytes[index] == UInt8(ascii: ":") else {
                return .failure(
                    .init(
                        input: text, message: "unexpected character, want colon",
                        at: String(decoding: bytes[index...], as: UTF8.self)))
            }
            if index + 1 == bytes.count {
                return .failure(
                    .init(
                        input: text, message: "colon must be followed by more characters",
                        at: String(decoding: bytes[index...], as: UTF8.self)))
            }
            index += 1
            if bytes[index] == UInt8(ascii: ":") {
                if ellipsis != nil {
                    return .failure(
                        .init(
                            input: text, message: "multiple :: in address",
                            at: String(decoding: bytes[(index - 1)...], as: UTF8.self)))
                }
                ellipsis = groups.count
                index += 1
                if index == bytes.count { break }
            }
            if groups.count == 8 {
                return .failure(
                    .init(
                        input: text, message: "trailing garbage after address",
                        at: String(decoding: bytes[index...], as: UTF8.self)))
            }
        }
        if let ellipsis {
            let missing = 8 - groups.count
            if missing < 1 {
                return .failure(
                    .init(input: text, message: "the :: must expand to at least one field of zeros"))
            }
            groups.insert(contentsOf: repeatElement(0, count: missing), at: ellipsis)
        } else if groups.count != 8 {
            return .failure(.init(input: text, message: "address string too short"))
        }
        return .success((IPv6Address(groups: groups), zone))
    }

    public static func parse(_ text: String) -> Result<IPv6Address, AddressParseError> {
        parseWithZone(text).map(\.0)
    }

    /// RFC 5952 text as Go prints it: lower-case hex, the longest run (>= 2) of zero groups
    /// shortened to `::`, and v4-mapped addresses as `::ffff:a.b.c.d`.
    public var description: String {
        if let mapped = mappedIPv4 { return "::ffff:\(mapped)" }
        return Self.hexText(groups, elide: longestZeroRun(groups))
    }

    /// The first longest run (at least two) of zero groups: the one `::` replaces.
    func longestZeroRun(_ groups: [UInt16]) -> (start: Int, length: Int)? {
        var best: (start: Int, length: Int)?
        var runStart: Int?
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart == nil { runStart = index }
            } else if let start = runStart {
                let length = index - start
                if length >= 2 && length > (best?.length ?? 0) { best = (start, length) }
                runStart = nil
            }
        }
        return best
    }

    static func hexText(_ groups: [UInt16], elide run: (start: Int, length: Int)?) -> String {
        var out = ""
        var index = 0
        while index < 8 {
            if let run, index == run.start {
                out += "::"
                index += run.length
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[index], radix: 16)
            index += 1
        }
        return out
    }

    /// glibc's `inet_ntop`, which iptables prints with: like RFC 5952, except that an address
    /// whose first 96 bits are zero (other than `::` and `::1`-like short forms) or a v4-mapped
    /// one ends in dotted IPv4 (`::127.0.0.53`, `::ffff:10.0.0.1`).
    public var inetNtopDescription: String {
        let groups = self.groups
        let run = longestZeroRun(groups)
        if let run, run.start == 0, run.length == 6 || (run.length == 5 && groups[5] == 0xffff) {
            let v4 = IPv4Address(UInt32(groups[6]) << 16 | UInt32(groups[7]))
            return (run.length == 6 ? "::" : "::ffff:") + v4.description
        }
        return Self.hexText(groups, elide: run)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
}
