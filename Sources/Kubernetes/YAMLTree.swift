import Yams

/// A YAML node with its position, as plain Sendable values (Yams' nodes are neither Sendable nor
/// stable across documents). Only what Kubernetes manifests use: no tags beyond null detection.
public indirect enum YAMLNode: Sendable, Hashable {
    case scalar(String, isNull: Bool, SourceLocation)
    case mapping([(key: String, value: YAMLNode)], SourceLocation)
    case sequence([YAMLNode], SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .scalar(_, _, let location), .mapping(_, let location), .sequence(_, let location): location
        }
    }

    /// The text of a non-null scalar.
    public var text: String? {
        if case .scalar(let text, false, _) = self { return text }
        return nil
    }

    public var isNull: Bool {
        if case .scalar(_, true, _) = self { return true }
        return false
    }

    /// The value of `key` in a mapping (nil for other nodes, absent keys and explicit nulls).
    public subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs, _) = self,
            let value = pairs.first(where: { $0.key == key })?.value, !value.isNull
        else { return nil }
        return value
    }

    public var pairs: [(key: String, value: YAMLNode)]? {
        if case .mapping(let pairs, _) = self { return pairs }
        return nil
    }

    public var items: [YAMLNode]? {
        if case .sequence(let items, _) = self { return items }
        return nil
    }

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let a, let an, let al), .scalar(let b, let bn, let bl)): a == b && an == bn && al == bl
        case (.sequence(let a, let al), .sequence(let b, let bl)): a == b && al == bl
        case (.mapping(let a, let al), .mapping(let b, let bl)):
            al == bl && a.count == b.count
                && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(location)
        switch self {
        case .scalar(let text, let isNull, _):
            hasher.combine(text)
            hasher.combine(isNull)
        case .mapping(let pairs, _):
            for pair in pairs {
                hasher.combine(pair.key)
                hasher.combine(pair.value)
            }
        case .sequence(let items, _): hasher.combine(items)
        }
    }
}

/// One `---`-separated document of a YAML stream (empty documents are kept as nil roots so the
/// caller can skip them).
public struct YAMLDocument: Sendable, Hashable {
    public let root: YAMLNode?
    public let location: SourceLocation
}

public enum YAMLStream {
    /// Every document of `text`; libyaml's own errors come back with the line and column it reports.
    public static func documents(_ text: String, source: String) throws(ManifestError) -> [YAMLDocument] {
        var documents: [YAMLDocument] = []
        do {
            let parser = try Parser(yaml: text)
            while let root = try parser.nextRoot() {
                let node = try convert(root, source: source)
                documents.append(YAMLDocument(root: node.isNull ? nil : node, location: node.location))
            }
        } catch let error as ManifestError {
            throw error
        } catch let error as YamlError {
            throw located(error, source: source)
        } catch {
            throw ManifestError(source: source, location: .start, message: "YAML: \(error)")
        }
        return documents
    }

    static func convert(_ node: Node, source: String) throws(ManifestError) -> YAMLNode {
        let location = node.mark.map { SourceLocation(line: $0.line, column: $0.column) } ?? .start
        switch node {
        case .scalar(let scalar):
            // A plain `~`, `null`, `Null`, `NULL` or nothing is YAML's null; quoted text never is.
            let isNull = scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            return .scalar(scalar.string, isNull: isNull, location)
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            for item in sequence { items.append(try convert(item, source: source)) }
            return .sequence(items, location)
        case .mapping(let mapping):
            var pairs: [(key: String, value: YAMLNode)] = []
            for (key, value) in mapping {
                guard let keyText = key.scalar?.string else {
                    throw ManifestError(
                        source: source,
                        location: key.mark.map { SourceLocation(line: $0.line, column: $0.column) }
                            ?? location,
                        message: "a mapping key must be a plain string")
                }
                pairs.append((keyText, try convert(value, source: source)))
            }
            return .mapping(pairs, location)
        case .alias:
            return .scalar("", isNull: true, location)
        }
    }

    static func located(_ error: YamlError, source: String) -> ManifestError {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(line: mark.line, column: mark.column) }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) at \($0.mark))" } ?? ""
            return ManifestError(
                source: source, location: at(mark), message: "malformed YAML: \(problem)\(while_)")
        case .reader(let problem, let offset, _, let yaml):
            var location = SourceLocation.start
            if let offset, offset <= yaml.count {
                let prefix = yaml.prefix(offset)
                let line = prefix.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                let column =
                    prefix.count
                    - (prefix.lastIndex(of: "\n").map { prefix.distance(from: prefix.startIndex, to: $0) + 1 }
                        ?? 0) + 1
                location = SourceLocation(line: line, column: column)
            }
            return ManifestError(source: source, location: location, message: "malformed YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ManifestError(
                source: source, location: at(context.mark),
                message: "duplicate keys \(duplicates.sorted().joined(separator: ", "))")
        default:
            return ManifestError(source: source, location: .start, message: "malformed YAML: \(error)")
        }
    }
}
