import Foundation

/// What to load into the kernel, and where.
public struct ApplyPlan: Sendable, Equatable {
    /// `--network-namespace`: a path such as `/var/run/netns/NAME`, or nil for the current one.
    public var namespace: String?
    public var v4: String
    /// nil when IPv6 is off.
    public var v6: String?
    /// 1.22–1.23 with `--restore-format=false`: one iptables command per rule instead.
    public var perCommand: (v4: [String], v6: [String])?

    public static func == (lhs: ApplyPlan, rhs: ApplyPlan) -> Bool {
        lhs.namespace == rhs.namespace && lhs.v4 == rhs.v4 && lhs.v6 == rhs.v6
            && lhs.perCommand?.v4 == rhs.perCommand?.v4 && lhs.perCommand?.v6 == rhs.perCommand?.v6
    }
}

public struct ApplyFailure: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// Loads rules into the kernel. The real one runs `iptables-restore`; tests substitute their own.
public protocol RuleApplier: Sendable {
    func apply(_ plan: ApplyPlan) -> Result<String, ApplyFailure>
}

/// `iptables-restore --noflush` (and `ip6tables-restore`), inside the namespace with `nsenter`.
public struct SystemApplier: RuleApplier {
    public init() {}

    public func apply(_ plan: ApplyPlan) -> Result<String, ApplyFailure> {
        guard geteuid() == 0 else {
            return .failure(
                ApplyFailure("applying rules needs root (CAP_NET_ADMIN); run as root or use --dry-run to print them"))
        }
        var log = ""
        func run(_ tool: String, _ arguments: [String], input: String?) -> ApplyFailure? {
            var command = [tool] + arguments
            if let namespace = plan.namespace { command = ["nsenter", "--net=\(namespace)", "--"] + command }
            guard let executable = Self.find(command[0]) else {
                return ApplyFailure("\(command[0]) not found in PATH; install iptables (and util-linux for nsenter)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = Array(command.dropFirst())
            let stdin = Pipe()
            let stderr = Pipe()
            process.standardInput = stdin
            process.standardError = stderr
            process.standardOutput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                return ApplyFailure("cannot run \(command.joined(separator: " ")): \(error)")
            }
            if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
            try? stdin.fileHandleForWriting.close()
            let errorText = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            log += "info\tran \(command.joined(separator: " "))\n"
            if process.terminationStatus != 0 {
                return ApplyFailure(
                    "\(command.joined(separator: " ")) failed (exit status \(process.terminationStatus)): "
                        + errorText.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return nil
        }
        if let commands = plan.perCommand {
            for line in commands.v4 + (plan.v6 == nil ? [] : commands.v6) {
                let words = line.split(separator: " ").map(String.init)
                if let failure = run(words[0], Array(words.dropFirst()), input: nil) { return .failure(failure) }
            }
            return .success(log)
        }
        if let failure = run("iptables-restore", ["--noflush"], input: plan.v4) { return .failure(failure) }
        if let v6 = plan.v6, let failure = run("ip6tables-restore", ["--noflush"], input: v6) {
            return .failure(failure)
        }
        return .success(log)
    }

    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":") + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
