/// Where in a manifest something is: 1-based line and column, as editors and libyaml count them.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static let start = SourceLocation(line: 1, column: 1)

    public var description: String { "\(line):\(column)" }
}

/// A manifest that cannot be read: the source's name, where, and what is wrong. Printed as
/// `FILE:LINE:COLUMN: message`, the form compilers use, so editors can jump to it.
public struct ManifestError: Error, Hashable, Sendable, CustomStringConvertible {
    public let source: String
    public let location: SourceLocation
    public let message: String

    public init(source: String, location: SourceLocation, message: String) {
        self.source = source
        self.location = location
        self.message = message
    }

    public var description: String { "\(source):\(location): \(message)" }
}
