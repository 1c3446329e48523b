import PacketModel

/// The `ip` commands a scenario's `setup` may run, parsed: `[-4|-6] rule add fwmark M[/K]
/// lookup T`, `[-4|-6] route add [local] default|PREFIX [via GW] [dev IF] [src A] [table T]`,
/// `[-4|-6] addr add PREFIX dev IF [nodad]`. Anything else is refused, so a scenario never
/// silently means something else to the simulator than to the kernel.
public enum IPCommand: Hashable, Sendable {
    case rule(PolicyRule)
    case route(Route, table: Int)
    case address(CIDR, device: String)

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let command: String
        public let message: String
        public var description: String { "ip \(command): \(message)" }
    }

    public static func parse(_ text: String) throws(Failure) -> IPCommand {
        var words = text.split(separator: " ").map(String.init)
        func fail(_ message: String) -> Failure { Failure(command: text, message: message) }
        var family: IPFamily?
        if words.first == "-4" || words.first == "-6" {
            family = words.removeFirst() == "-4" ? .ipv4 : .ipv6
        }
        guard words.count >= 2, words[1] == "add" else {
            throw fail("only `rule add`, `route add` and `addr add` are simulated")
        }
        let object = words[0]
        var options: [String: String] = [:]
        var rest = Array(words.dropFirst(2))
        var local = false
        var destination: String?
        while !rest.isEmpty {
            let word = rest.removeFirst()
            switch word {
            case "local" where object == "route" && destination == nil: local = true
            case "nodad": continue
            case "fwmark", "lookup", "table", "via", "dev", "src":
                guard !rest.isEmpty else { throw fail("\(word) needs a value") }
                options[word] = rest.removeFirst()
            default:
                guard destination == nil else { throw fail("unexpected \(word)") }
                destination = word
            }
        }
        func table() throws(Failure) -> Int {
            let name = options["lookup"] ?? options["table"] ?? "main"
            if name == "main" { return RoutingPolicy.mainTable }
            guard let number = Int(name) else { throw fail("table \(name) is not a number") }
            return number
        }
        func address(_ text: String) throws(Failure) -> IPAddress {
            guard case .success(let address) = IPAddress.parse(text) else {
                throw fail("not an address: \(text)")
            }
            return address
        }
        func prefix(_ text: String) throws(Failure) -> CIDR {
            if !text.contains("/") { return CIDR(host: try address(text)) }
            guard case .success(let prefix) = CIDR.parse(text) else { throw fail("not a prefix: \(text)") }
            return prefix
        }
        switch object {
        case "rule":
            guard let fwmark = options["fwmark"] else { throw fail("only fwmark rules are simulated") }
            let mark = MarkValue(fwmark)
            guard let value = mark.value, mark.isValid else { throw fail("bad fwmark \(fwmark)") }
            return .rule(
                PolicyRule(family: family ?? .ipv4, mark: value, mask: mark.mask ?? .max, table: try table()))
        case "route":
            guard let destination else { throw fail("which destination?") }
            let cidr = destination == "default" ? nil : try prefix(destination)
            let gateway = try options["via"].map { (text: String) throws(Failure) in try address(text) }
            let routeFamily = cidr?.family ?? gateway?.family ?? family ?? .ipv4
            guard gateway != nil || options["dev"] != nil else { throw fail("needs via or dev") }
            let route = Route(
                kind: local ? .local : .unicast, destination: cidr, family: routeFamily, gateway: gateway,
                device: options["dev"] ?? "",
                source: try options["src"].map { (text: String) throws(Failure) in try address(text) })
            return .route(route, table: try table())
        case "addr", "address":
            guard let destination, let device = options["dev"] else { throw fail("addr add PREFIX dev IF") }
            return .address(try prefix(destination), device: device)
        default:
            throw fail("only `rule add`, `route add` and `addr add` are simulated")
        }
    }

    /// Applies the command to a host; a route via a gateway finds its device from the connected
    /// routes, as `ip route add` does.
    public func apply(to host: inout Host) throws(Failure) {
        switch self {
        case .rule(let rule):
            host.routing.add(rule)
        case .route(var route, let table):
            if route.device.isEmpty, let gateway = route.gateway {
                guard
                    case .forward(let device, _, _, _) = host.routing.decide(
                        gateway, mark: 0, isLocal: { _ in false })
                else { throw Failure(command: "route add", message: "gateway \(gateway) is not reachable") }
                route.device = device
            }
            host.routing.add(route, table: table)
        case .address(let prefix, let device):
            host.addAddress(prefix, to: device)
        }
    }
}
