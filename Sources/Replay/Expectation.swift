import PacketModel

/// One line of an expectations file: the flows a selector picks must all get `verdict`, and
/// (unless `optional`) at least one flow must be picked, so a capture that stops containing the
/// flow fails the check instead of passing vacuously.
public struct Expectation: Sendable {
    /// A set of values, or all values but these (`"!15020,15021,15090"`).
    public struct Choice<Value: Hashable & Sendable>: Sendable {
        public var values: [Value]
        public var negated: Bool
        public init(_ values: [Value], negated: Bool = false) {
            self.values = values
            self.negated = negated
        }
        func holds(_ test: (Value) -> Bool) -> Bool { values.contains(where: test) != negated }
    }

    public var direction: Choice<FlowDirection>?
    public var proto: Choice<IPProtocol>?
    public var source: Choice<CIDR>?
    public var destination: Choice<CIDR>?
    public var sourcePort: Choice<ClosedRange<UInt16>>?
    public var destinationPort: Choice<ClosedRange<UInt16>>?
    public var uid: Choice<UInt32>?
    public var gid: Choice<UInt32>?
    public var verdict: Verdict
    public var optional = false
    /// Where it was written (`file:line:column`), for reports.
    public var origin: String
    /// The selector as written, for reports.
    public var text: String

    public init(verdict: Verdict, origin: String, text: String) {
        self.verdict = verdict
        self.origin = origin
        self.text = text
    }

    public func selects(_ flow: FlowRecord) -> Bool {
        (direction?.holds { $0 == flow.direction } ?? true)
            && (proto?.holds { $0 == flow.proto } ?? true)
            && (source?.holds { $0.contains(flow.source) } ?? true)
            && (destination?.holds { $0.contains(flow.destination) } ?? true)
            && (sourcePort?.holds { $0.contains(flow.sourcePort) } ?? true)
            && (destinationPort?.holds { $0.contains(flow.destinationPort) } ?? true)
            && (uid.map { choice in flow.uid.map { uid in choice.holds { $0 == uid } } ?? false } ?? true)
            && (gid.map { choice in flow.gid.map { gid in choice.holds { $0 == gid } } ?? false } ?? true)
    }
}

/// Checks flows against expectations as they come out of the replay, keeping only what a report
/// needs (the offending flows and a count per expectation), so memory does not grow with the file.
public struct ExpectationCheck: Sendable {
    public let expectations: [Expectation]
    public private(set) var matched: [Int]
    /// (expectation index, the flow) for every flow whose verdict differs; the first 1000.
    public private(set) var mismatches: [(expectation: Int, flow: FlowRecord)] = []
    public private(set) var mismatchCount = 0

    public init(_ expectations: [Expectation]) {
        self.expectations = expectations
        matched = Array(repeating: 0, count: expectations.count)
    }

    public mutating func check(_ flow: FlowRecord) {
        for (index, expectation) in expectations.enumerated() where expectation.selects(flow) {
            matched[index] += 1
            if flow.verdict.verdict != expectation.verdict {
                mismatchCount += 1
                if mismatches.count < 1000 { mismatches.append((index, flow)) }
            }
        }
    }

    /// Expectations that picked no flow and are not optional.
    public var unmet: [Expectation] {
        expectations.indices.filter { matched[$0] == 0 && !expectations[$0].optional }.map {
            expectations[$0]
        }
    }

    public var passed: Bool { mismatchCount == 0 && unmet.isEmpty }

    /// The failures as a diff: `-` what was expected, `+` what the flow got.
    public func report() -> String {
        var text = ""
        for (index, flow) in mismatches {
            let expectation = expectations[index]
            text += "\(expectation.origin): {\(expectation.text)}\n"
            text += "- \(expectation.verdict.rawValue)\n"
            text += "+ \(flow.verdict.verdict.rawValue)  \(Self.describe(flow))\n"
        }
        if mismatchCount > mismatches.count { text += "… and \(mismatchCount - mismatches.count) more\n" }
        for expectation in unmet {
            text +=
                "\(expectation.origin): {\(expectation.text)} matched no flow (expected \(expectation.verdict.rawValue))\n"
        }
        return text
    }

    static func describe(_ flow: FlowRecord) -> String {
        let uid = flow.uid.map { " uid \($0)" } ?? ""
        var text = "\(flow.direction.rawValue) \(flow.proto) \(flow.source):\(flow.sourcePort) -> "
        text += "\(flow.destination):\(flow.destinationPort)\(uid)"
        if let port = flow.verdict.socketPort { text += " (socket port \(port))" }
        if let rule = flow.verdict.firstRule { text += " first rule: \(rule)" }
        return text
    }
}
