import IstioCapture
import IstioIptablesCLI
import PacketModel
import Testing

/// Applying for real: upstream's state check (1.24+), cleanup and reconcile, over a fake kernel.
@Suite struct ApplyTests {
    @Test func cleanMachineGetsTheRestore() {
        let executor = FakeExecutor()
        let output = run(labArguments, executor: executor)
        #expect(output.exitCode == .success)
        #expect(executor.commands == ["iptables-save", "ip6tables-save", "iptables-save"])
        #expect(output.stderr.contains("Clean-state detected"))
    }

    @Test func compatibleResiduesAreLeftAlone() {
        // The machine already holds exactly our rules.
        let expected = run(labArguments + ["-n"]).stdout
        let executor = FakeExecutor()
        executor.savedState = expected
        let output = run(labArguments, executor: executor)
        #expect(output.exitCode == .success)
        #expect(executor.restored.isEmpty)
        #expect(executor.commands.contains("iptables -t nat -C ISTIO_INBOUND -p tcp --dport 15008 -j RETURN"))
        #expect(output.stderr.contains("reconciliation not needed"))
    }

    @Test func differentResiduesAreReconciledOnlyWhenAsked() {
        let old =
            "*nat\n:ISTIO_OUTPUT - [0:0]\n-A OUTPUT -p tcp -j ISTIO_OUTPUT\n-A ISTIO_OUTPUT -j RETURN\nCOMMIT\n"
        let plain = FakeExecutor()
        plain.savedState = old
        let output = run(labArguments, executor: plain)
        #expect(output.stderr.contains("reconcile is recommended but no-reconcile flag is set"))
        #expect(plain.restored.count == 1)
        #expect(!plain.commands.contains { $0.contains(" -D ") })

        let reconcile = FakeExecutor()
        reconcile.savedState = old
        _ = run(labArguments + ["--reconcile"], executor: reconcile)
        #expect(reconcile.commands.contains("iptables -t filter -I INPUT 1 -p tcp -j DROP"))
        #expect(reconcile.commands.contains("iptables -t nat -D OUTPUT -j ISTIO_OUTPUT"))
        #expect(reconcile.commands.contains("iptables -t nat -X ISTIO_OUTPUT"))
        #expect(reconcile.commands.last == "iptables-save")
        #expect(reconcile.commands.contains("iptables -t filter -D OUTPUT -p udp -j DROP"))
        #expect(reconcile.restored.count == 1)
    }

    @Test func cleanupOnlyRemovesAndAddsNothing() {
        let executor = FakeExecutor()
        let output = run(labArguments + ["--cleanup-only"], executor: executor)
        #expect(output.exitCode == .success)
        #expect(executor.restored.isEmpty)
        #expect(executor.commands.contains("iptables -t nat -D PREROUTING -p tcp -j ISTIO_INBOUND"))
        #expect(executor.commands.contains("iptables -t nat -F ISTIO_INBOUND"))
        // rules inside ISTIO chains are flushed with the chain, not deleted one by one
        #expect(
            !executor.commands.contains("iptables -t nat -D ISTIO_INBOUND -p tcp --dport 15008 -j RETURN"))
    }

    @Test func releasesBefore1_24ApplyWithoutChecking() {
        let executor = FakeExecutor()
        _ = run(["--istio-version", "1.23"] + labArguments, executor: executor)
        #expect(executor.commands == ["iptables-save"])
        #expect(executor.restored.map(\.0) == [.ipv4, .ipv6])
        let perCommand = FakeExecutor()
        _ = run(["--istio-version", "1.22", "--restore-format=false"] + labArguments, executor: perCommand)
        #expect(perCommand.commands.first == "iptables -t nat -N ISTIO_INBOUND")
        #expect(perCommand.restored.isEmpty)
    }

    @Test func cannotApplyIsAClearError() {
        let output = IstioIptablesCommand(
            environment: [:], machine: FakeMachine(),
            makeExecutor: { _, _ in .failure(ExecutionFailure("applying rules needs root (CAP_NET_ADMIN)")) }
        ).run(labArguments)
        #expect(output.exitCode == .failure)
        #expect(output.stderr.contains("needs root"))
    }

    @Test func dryRunFileGetsTheTranscript() {
        final class Box: @unchecked Sendable { var files: [String: String] = [:] }
        let box = Box()
        let output = IstioIptablesCommand(
            environment: ["DRY_RUN_FILE_PATH": "/tmp/x"], machine: FakeMachine(),
            writeFile: { path, contents in box.files[path] = contents }
        ).run(labArguments + ["-n"])
        #expect(output.exitCode == .success)
        let transcript = box.files["/tmp/x"] ?? ""
        #expect(transcript.hasPrefix("iptables-save\nip6tables-save\n* nat\n"))
        #expect(transcript.hasSuffix("COMMIT\niptables-save\n"))
    }
}
