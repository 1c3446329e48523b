import PacketModel
import Testing

@Suite struct IPv4AddressTests {
    @Test(arguments: ["0.0.0.0", "10.44.0.2", "255.255.255.255", "127.0.0.6"])
    func roundTrips(_ text: String) throws {
        let address = try IPv4Address.parse(text).get()
        #expect(address.description == text)
    }

    @Test(arguments: [
        ("010.0.0.1", "ParseAddr(\"010.0.0.1\"): IPv4 field has octet with leading zero"),
        ("256.0.0.1", "ParseAddr(\"256.0.0.1\"): IPv4 field has value >255"),
        ("1.2.3", "ParseAddr(\"1.2.3\"): IPv4 address too short"),
        ("1.2.3.4.5", "ParseAddr(\"1.2.3.4.5\"): IPv4 address too long"),
        ("1..2.3", "ParseAddr(\"1..2.3\"): IPv4 field must have at least one digit (at \".2.3\")"),
        ("1.2.3.x", "ParseAddr(\"1.2.3.x\"): unexpected character (at \"x\")"),
    ])
    func rejectsLikeGo(_ text: String, _ message: String) {
        #expect(throws: AddressParseError.self) { try IPv4Address.parse(text).get() }
        if case .failure(let error) = IPv4Address.parse(text) { #expect(error.description == message) }
    }
}

@Suite struct IPv6AddressTests {
    @Test(arguments: [
        ("::1", "::1"), ("::", "::"), ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("::127.0.0.53", "::7f00:35"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("fe80::", "fe80::"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
    ])
    func printsLikeGo(_ text: String, _ canonical: String) throws {
        #expect(try IPv6Address.parse(text).get().description == canonical)
    }

    @Test(arguments: ["1::2::3", ":::", "12345::", "1:2:3:4:5:6:7:8:9", "1:2", "::g"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: AddressParseError.self) { try IPv6Address.parse(text).get() }
    }

    @Test func loopbackIncludesMappedV4() throws {
        #expect(try IPv6Address.parse("::1").get().isLoopback)
        #expect(try IPv6Address.parse("::ffff:127.0.0.2").get().isLoopback)
        #expect(!(try IPv6Address.parse("::2").get().isLoopback))
    }
}

@Suite struct CIDRTests {
    @Test(arguments: [
        ("10.0.0.0/40", "netip.ParsePrefix(\"10.0.0.0/40\"): prefix length out of range"),
        ("10.0.0.0", "netip.ParsePrefix(\"10.0.0.0\"): no '/'"),
        ("10.0.0.0/08", "netip.ParsePrefix(\"10.0.0.0/08\"): bad bits after slash: \"08\""),
        ("10.0.0.0/", "netip.ParsePrefix(\"10.0.0.0/\"): bad bits after slash: \"\""),
        ("abc/8", "netip.ParsePrefix(\"abc/8\"): ParseAddr(\"abc\"): unable to parse IP"),
        (
            "fe80::1%eth0/64",
            "netip.ParsePrefix(\"fe80::1%eth0/64\"): IPv6 zones cannot be present in a prefix"
        ),
        ("2001:db8::/129", "netip.ParsePrefix(\"2001:db8::/129\"): prefix length out of range"),
    ])
    func rejectsLikeGo(_ text: String, _ message: String) {
        guard case .failure(let error) = CIDR.parse(text) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(error.description == message)
    }

    @Test func keepsHostBitsAsWritten() throws {
        let cidr = try CIDR.parse("10.1.2.3/8").get()
        #expect(cidr.description == "10.1.2.3/8")
        #expect(cidr.masked.description == "10.0.0.0/8")
    }

    @Test func containment() throws {
        let v4 = try CIDR.parse("10.0.0.0/8").get()
        #expect(v4.contains(.v4(IPv4Address(10, 9, 8, 7))))
        #expect(!v4.contains(.v4(IPv4Address(11, 0, 0, 1))))
        let v6 = try CIDR.parse("2001:db8::/32").get()
        #expect(v6.contains(try IPAddress.parse("2001:db8:ffff::1").get()))
        #expect(!v6.contains(try IPAddress.parse("2001:db9::1").get()))
        #expect(try CIDR.parse("0.0.0.0/0").get().contains(.v4(IPv4Address(1, 2, 3, 4))))
        #expect(try CIDR.parse("::/0").get().contains(try IPAddress.parse("::1").get()))
    }
}

@Suite struct PortSpecTests {
    @Test func parsesPortsAndRanges() {
        #expect(PortSpec("15001").port == 15001)
        #expect(PortSpec("1000:2000").range == 1000...2000)
        #expect(PortSpec(":80").range == 0...80)
        #expect(!PortSpec("70000").isValid)
        #expect(!PortSpec("abc").isValid)
        #expect(!PortSpec("2000:1000").isValid)
        #expect(PortSpec("70000").text == "70000")
    }
}

@Suite struct InetNtopTests {
    /// glibc's inet_ntop, which iptables-save prints with (checked against ip6tables-save).
    @Test(arguments: [
        ("::127.0.0.53", "::127.0.0.53"), ("::6", "::6"), ("::1", "::1"), ("::", "::"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
        ("fd00::1", "fd00::1"), ("2001:db8::", "2001:db8::"), ("::1:0:0:1", "::1:0:0:1"),
    ])
    func printsLikeGlibc(_ text: String, _ expected: String) throws {
        #expect(try IPv6Address.parse(text).get().inetNtopDescription == expected)
    }
}
