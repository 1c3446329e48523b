/// `-m statistic --mode random --probability P` or `--mode nth --every N [--packet P]`
/// (kube-proxy's load balancing).
public struct StatisticMatch: Hashable, Sendable {
    public enum Mode: Hashable, Sendable {
        /// Probability as written, and its value.
        case random(probability: String)
        case nth(every: UInt32, packet: UInt32?)
    }

    public var mode: Mode
    public var negation: Negation

    public init(_ mode: Mode, _ negation: Negation = .normal) {
        self.mode = mode
        self.negation = negation
    }

    public var arguments: [String] {
        switch mode {
        case .random(let probability):
            return ["-m", "statistic", "--mode", "random"] + negation.prefix + ["--probability", probability]
        case .nth(let every, let packet):
            return ["-m", "statistic", "--mode", "nth"] + negation.prefix + ["--every", String(every)]
                + (packet.map { ["--packet", String($0)] } ?? [])
        }
    }
}
