import Foundation
import Kubernetes
import PacketModel
import Replay

/// `--expect FILE`: a YAML list of `{match: {SELECTORS}, verdict: V[, optional: true]}`.
///
///     - match: {direction: outbound, dport: 3306}
///       verdict: direct
///     - match: {direction: inbound, dport: "!15020,15021,15090"}
///       verdict: envoy-inbound
///
/// Selectors: `direction` (inbound, outbound, loopback, transit), `proto`, `src`, `dst`
/// (addresses or CIDRs), `sport`, `dport` (ports or `a-b` ranges), `uid`, `gid`; each takes one value,
/// a comma-separated list, or `!list` for every other value. Errors name the line and column.
enum ExpectationsFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String, path: String) throws -> [Expectation] {
        let documents: [YAMLDocument]
        do { documents = try YAMLStream.documents(text, source: path) } catch {
            throw Failure(description: error.description)
        }
        guard documents.count <= 1 else {
            throw Failure(
                description: "\(path): one YAML document (a list of expectations), not \(documents.count)")
        }
        guard let root = documents.first?.root else { return [] }
        guard let items = root.items else {
            throw Failure(description: "\(at(path, root)): expected a list of {match: …, verdict: …}")
        }
        return try items.map { try expectation($0, path) }
    }

    static func at(_ path: String, _ node: YAMLNode) -> String {
        "\(path):\(node.location.line):\(node.location.column)"
    }

    static func expectation(_ node: YAMLNode, _ path: String) throws -> Expectation {
        guard let pairs = node.pairs else {
            throw Failure(description: "\(at(path, node)): expected {match: …, verdict: …}")
        }
        for (key, value) in pairs where !["match", "verdict", "optional"].contains(key) {
            throw Failure(description: "\(at(path, value)): unknown key \(key) (match, verdict, optional)")
        }
        guard let verdictNode = node["verdict"], let verdictText = verdictNode.text else {
            throw Failure(description: "\(at(path, node)): verdict: missing")
        }
        guard let verdict = Verdict(rawValue: verdictText) else {
            throw Failure(
                description: "\(at(path, verdictNode)): verdict \(verdictText) is not one of "
                    + Verdict.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let selector = node["match"]
        var parts: [String] = []
        var result = Expectation(verdict: verdict, origin: at(path, node), text: "")
        if let optional = node["optional"] {
            guard let text = optional.text, let flag = Bool(text) else {
                throw Failure(description: "\(at(path, optional)): optional: true or false")
            }
            result.optional = flag
        }
        for (key, value) in selector?.pairs ?? [] {
            guard let raw = value.text, !raw.isEmpty else {
                throw Failure(description: "\(at(path, value)): \(key): expected a value")
            }
            parts.append("\(key): \(raw)")
            let negated = raw.hasPrefix("!")
            let items = (negated ? String(raw.dropFirst()) : raw).split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            func each<T>(_ parse: (String) -> T?) throws -> Expectation.Choice<T> {
                var values: [T] = []
                for item in items {
                    guard let parsed = parse(item) else {
                        throw Failure(description: "\(at(path, value)): \(key): cannot read \(item)")
                    }
                    values.append(parsed)
                }
                return Expectation.Choice(values, negated: negated)
            }
            switch key {
            case "direction": result.direction = try each { FlowDirection(rawValue: $0) }
            case "proto": result.proto = try each { IPProtocol(name: $0) }
            case "src", "dst":
                let choice = try each { text -> CIDR? in
                    text.contains("/")
                        ? try? CIDR.parse(text).get()
                        : (try? IPAddress.parse(text).get()).map { CIDR(host: $0) }
                }
                if key == "src" { result.source = choice } else { result.destination = choice }
            case "sport", "dport":
                let choice = try each { text -> ClosedRange<UInt16>? in
                    let bounds = text.split(separator: "-", maxSplits: 1).map { UInt16($0) }
                    guard let low = bounds.first ?? nil, let high = bounds.last ?? nil, low <= high else {
                        return nil
                    }
                    return low...high
                }
                if key == "sport" { result.sourcePort = choice } else { result.destinationPort = choice }
            case "uid": result.uid = try each { UInt32($0) }
            case "gid": result.gid = try each { UInt32($0) }
            default:
                throw Failure(
                    description:
                        "\(at(path, value)): unknown selector \(key) (direction, proto, src, dst, sport, dport, uid)"
                )
            }
        }
        result.text = parts.joined(separator: ", ")
        return result
    }
}
