/// An IPv4 address, stored in host order.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public static let any = IPv4Address(0)
    public static let loopback = IPv4Address(127, 0, 0, 1)

    /// Parses dotted-quad text with Go `netip.ParseAddr` rules: exactly four decimal fields,
    /// no leading zeros, each at most 255.
    public static func parse(_ text: String) -> Result<IPv4Address, AddressParseError> {
        parse(Substring(text), whole: text)
    }

    static func parse(_ text: Substring, whole: String) -> Result<IPv4Address, AddressParseError> {
        var fields: [UInt8] = []
        var value = 0
        var digits = 0
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 1 && value == 0 {
                    return .failure(.init(input: whole, message: "IPv4 field has octet with leading zero"))
                }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                if value > 255 {
                    return .failure(.init(input: whole, message: "IPv4 field has value >255"))
                }
            case UInt8(ascii: "."):
                if index == 0 || index == bytes.count - 1 || bytes[index - 1] == UInt8(ascii: ".") {
                    return .failure(
                        .init(
                            input: whole, message: "IPv4 field must have at least one digit",
                            at: String(decoding: bytes[index...], as: UTF8.self)))
                }
                if fields.count == 3 {
                    return .failure(.init(input: whole, message: "IPv4 address too long"))
                }
                fields.append(UInt8(value))
                value = 0
                digits = 0
            default:
                return .failure(
                    .init(
                        input: whole, message: "unexpected character",
                        at: String(decoding: bytes[index...], as: UTF8.self)))
            }
        }
        if fields.count < 3 {
            return .failure(.init(input: whole, message: "IPv4 address too short"))
        }
        fields.append(UInt8(value))
        return .success(IPv4Address(fields[0], fields[1], fields[2], fields[3]))
    }

    public var octets: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    public var isLoopback: Bool { value >> 24 == 127 }

    public var description: String { octets.map(String.init).joined(separator: ".") }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}
