/// Why iptables-save / iptables-restore text was rejected, and where: 1-based line and column,
/// and the match or target extension involved when there is one.
public struct RulesParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String
    public let extensionName: String?

    public init(line: Int, column: Int, message: String, extensionName: String? = nil) {
        self.line = line
        self.column = column
        self.message = message
        self.extensionName = extensionName
    }

    public var description: String {
        var text = "line \(line), column \(column): \(message)"
        if let extensionName { text += " (extension \(extensionName))" }
        return text
    }
}
