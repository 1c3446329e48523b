import IstioCapture

/// A command-line flag the parser knows: upstream's flags of the selected release plus the
/// emulator's own.
struct FlagSpec: Hashable {
    let name: String
    let shorthand: Character?
    let kind: FlagDefinition.Kind

    var isBool: Bool { kind == .bool }

    /// pflag's `-n, --dry-run` form used in its error messages.
    var display: String {
        if let shorthand { return "-\(shorthand), --\(name)" }
        return "--\(name)"
    }
}

/// A flag value and where it came from.
struct FlagOccurrence: Hashable {
    let value: String
    /// Index into argv (0 = first argument after the program name).
    let argumentIndex: Int
}

/// An error in the command line, with upstream's (pflag's) wording.
struct FlagParseError: Error, Equatable, CustomStringConvertible {
    let message: String
    let argumentIndex: Int?
    var description: String { message }
}

/// Parses argv the way spf13/pflag does, which is what upstream's cobra command uses:
/// `--name value`, `--name=value`, `--bool`, `--bool=false`, `-p 15001`, `-p15001`, `-p=15001`,
/// `-x ""`, grouped booleans `-nf`, `--` ending the flags; a value may begin with `-`.
/// The last occurrence of a flag wins; positional arguments are collected and ignored upstream.
struct FlagParser {
    let flags: [FlagSpec]

    struct Result {
        var values: [String: FlagOccurrence] = [:]
        var positional: [String] = []
        var helpRequested = false
    }

    func parse(_ arguments: [String]) -> Swift.Result<Result, FlagParseError> {
        var result = Result()
        var index = 0
        let byName = Dictionary(flags.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let byShort = Dictionary(
            flags.compactMap { flag in flag.shorthand.map { ($0, flag) } }, uniquingKeysWith: { a, _ in a })

        while index < arguments.count {
            let argument = arguments[index]
            let at = index
            index += 1
            if argument == "--" {
                result.positional += arguments[index...]
                break
            }
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: String
                var inlineValue: String?
                if let equals = body.firstIndex(of: "=") {
                    name = String(body[..<equals])
                    inlineValue = String(body[body.index(after: equals)...])
                } else {
                    name = String(body)
                }
                if name.isEmpty || name.hasPrefix("-") || name.hasPrefix("=") {
                    return .failure(.init(message: "bad flag syntax: \(argument)", argumentIndex: at))
                }
                if name == "help" {
                    result.helpRequested = true
                    continue
                }
                guard let flag = byName[name] else {
                    return .failure(.init(message: "unknown flag: --\(name)", argumentIndex: at))
                }
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else if flag.isBool {
                    value = "true"
                } else if index < arguments.count {
                    value = arguments[index]
                    index += 1
                } else {
                    return .failure(.init(message: "flag needs an argument: --\(name)", argumentIndex: at))
                }
                if let error = validate(flag, value) {
                    return .failure(.init(message: error, argumentIndex: at))
                }
                result.values[flag.name] = FlagOccurrence(value: value, argumentIndex: at)
                continue
            }
            if argument.hasPrefix("-") && argument.count > 1 {
                // One or more shorthands: booleans take no value; any other takes the rest of the
                // argument (after an optional '=') or the next argument.
                var rest = Substring(argument.dropFirst())
                while let short = rest.first {
                    rest = rest.dropFirst()
                    if short == "h" && byShort["h"] == nil {
                        result.helpRequested = true
                        continue
                    }
                    guard let flag = byShort[short] else {
                        return .failure(
                            .init(
                                message: "unknown shorthand flag: '\(short)' in \(argument)",
                                argumentIndex: at))
                    }
                    let value: String
                    if rest.hasPrefix("=") {
                        value = String(rest.dropFirst())
                        rest = ""
                    } else if flag.isBool {
                        value = "true"
                    } else if !rest.isEmpty {
                        value = String(rest)
                        rest = ""
                    } else if index < arguments.count {
                        value = arguments[index]
                        index += 1
                    } else {
                        return .failure(
                            .init(
                                message: "flag needs an argument: '\(short)' in -\(short)", argumentIndex: at)
                        )
                    }
                    if let error = validate(flag, value) {
                        return .failure(.init(message: error, argumentIndex: at))
                    }
                    result.values[flag.name] = FlagOccurrence(value: value, argumentIndex: at)
                }
                continue
            }
            result.positional.append(argument)
        }
        return .success(result)
    }

    /// Type check as pflag's `Set` does; the message is pflag's.
    func validate(_ flag: FlagSpec, _ value: String) -> String? {
        let problem: String?
        switch flag.kind {
        case .string: problem = nil
        case .bool:
            problem =
                GoValues.parseBool(value) == nil
                ? "strconv.ParseBool: parsing \(quote(value)): invalid syntax" : nil
        case .uint16: problem = GoValues.uint16Problem(value)
        case .duration: problem = GoValues.durationProblem(value)
        }
        guard let problem else { return nil }
        return "invalid argument \(quote(value)) for \(quote(flag.display)) flag: \(problem)"
    }
}

/// Go's parsing of flag values, with Go's error texts.
enum GoValues {
    /// `strconv.ParseBool`.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// What pflag's `Set` leaves in the variable for an environment value: Go parsers return
    /// false / 0 / the maximum alongside their error, and the value is assigned anyway.
    static func assignedByEnvironment(_ text: String, kind: FlagDefinition.Kind) -> String {
        switch kind {
        case .string: return text
        case .bool: return String(parseBool(text) ?? false)
        case .uint16:
            guard let problem = uint16Problem(text) else { return text }
            return problem.hasSuffix("value out of range") ? "65535" : "0"
        case .duration: return durationProblem(text) == nil ? text : "0s"
        }
    }

    /// `strconv.ParseUint(text, 0, 16)` as pflag's Uint16 uses it.
    static func uint16Problem(_ text: String) -> String? {
        var digits = Substring(text)
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0b") || digits.hasPrefix("0B") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") || digits.hasPrefix("0O") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        let cleaned = digits.filter { $0 != "_" }
        let validDigits = !cleaned.isEmpty && cleaned.allSatisfy { Int(String($0), radix: radix) != nil }
        guard validDigits else { return "strconv.ParseUint: parsing \(quote(text)): invalid syntax" }
        guard let value = UInt64(cleaned, radix: radix), value <= UInt64(UInt16.max) else {
            return "strconv.ParseUint: parsing \(quote(text)): value out of range"
        }
        return nil
    }

    /// The value of a valid `ParseUint(text, 0, 16)` text.
    static func uint16Value(_ text: String) -> UInt16? {
        guard uint16Problem(text) == nil else { return nil }
        var digits = Substring(text).filter { $0 != "_" }[...]
        var radix = 10
        for (prefix, base) in [("0x", 16), ("0X", 16), ("0b", 2), ("0B", 2), ("0o", 8), ("0O", 8)]
        where digits.hasPrefix(prefix) {
            radix = base
            digits = digits.dropFirst(2)
        }
        if radix == 10 && digits.count > 1 && digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        return UInt16(digits, radix: radix)
    }

    /// The seconds of a valid `time.ParseDuration` text.
    static func durationSeconds(_ text: String) -> Double? {
        guard durationProblem(text) == nil else { return nil }
        var rest = Substring(text)
        var sign = 1.0
        if rest.hasPrefix("-") { sign = -1 }
        if rest.hasPrefix("-") || rest.hasPrefix("+") { rest = rest.dropFirst() }
        if rest == "0" { return 0 }
        let scale: [String: Double] = [
            "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600,
        ]
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(unit.count)
            total += (Double(number) ?? 0) * (scale[String(unit)] ?? 0)
        }
        return sign * total
    }

    /// `time.ParseDuration`: a sequence of decimal numbers with units ns, us, µs, ms, s, m, h.
    static func durationProblem(_ text: String) -> String? {
        var rest = Substring(text)
        if rest.hasPrefix("-") || rest.hasPrefix("+") { rest = rest.dropFirst() }
        if rest == "0" { return nil }
        if rest.isEmpty { return "time: invalid duration \(quote(text))" }
        let units = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            if number.isEmpty || number == "." { return "time: invalid duration \(quote(text))" }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            if unit.isEmpty { return "time: missing unit in duration \(quote(text))" }
            guard units.contains(String(unit)) else {
                return "time: unknown unit \(quote(String(unit))) in duration \(quote(text))"
            }
            rest = rest.dropFirst(unit.count)
        }
        return nil
    }
}

/// Go's `%q` for the ASCII texts of flags.
func quote(_ text: String) -> String {
    var out = "\""
    for character in text.unicodeScalars {
        switch character {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(character)
        }
    }
    return out + "\""
}
