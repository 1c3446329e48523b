/// A Kubernetes label selector (`matchLabels` and `matchExpressions`), as webhooks and the injector's
/// never/always-inject lists use it.
public struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    public enum Operator: String, Hashable, Sendable {
        case `in` = "In"
        case notIn = "NotIn"
        case exists = "Exists"
        case doesNotExist = "DoesNotExist"
    }

    public struct Requirement: Hashable, Sendable, CustomStringConvertible {
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(_ key: String, _ op: Operator, _ values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        public func matches(_ labels: [String: String]) -> Bool {
            switch op {
            case .in: labels[key].map(values.contains) ?? false
            case .notIn: labels[key].map { !values.contains($0) } ?? true
            case .exists: labels[key] != nil
            case .doesNotExist: labels[key] == nil
            }
        }

        public var description: String {
            switch op {
            case .in, .notIn: "\(key) \(op.rawValue) (\(values.joined(separator: ", ")))"
            case .exists: key
            case .doesNotExist: "!\(key)"
            }
        }
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// All requirements, matchLabels first (sorted) as `kubectl` shows them.
    public var requirements: [Requirement] {
        matchLabels.sorted { $0.key < $1.key }.map { Requirement($0.key, .in, [$0.value]) } + matchExpressions
    }

    /// The empty selector matches everything (webhooks); the injector's lists skip empty ones.
    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    /// The first requirement `labels` fails, to explain a non-match.
    public func firstFailure(_ labels: [String: String]) -> Requirement? {
        requirements.first { !$0.matches(labels) }
    }

    public var description: String {
        isEmpty ? "(everything)" : requirements.map(\.description).joined(separator: ", ")
    }

    init(_ node: YAMLNode, reader: NodeReader) throws(ManifestError) {
        self.init(matchLabels: try reader.stringMap(node["matchLabels"], what: "matchLabels"))
        for item in try reader.sequence(node["matchExpressions"], what: "matchExpressions") {
            guard let key = try reader.string(item["key"]) else {
                throw reader.error(item, "matchExpressions: no key")
            }
            let opText = try reader.string(item["operator"]) ?? ""
            guard let op = Operator(rawValue: opText) else {
                throw reader.error(
                    item["operator"] ?? item, "operator: expected In, NotIn, Exists or DoesNotExist")
            }
            var values: [String] = []
            for value in try reader.sequence(item["values"], what: "values") {
                values.append(try reader.string(value) ?? "")
            }
            matchExpressions.append(Requirement(key, op, values))
        }
    }
}
