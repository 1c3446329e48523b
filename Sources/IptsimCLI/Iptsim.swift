import ArgumentParser

/// `iptsim`: look at the rules a pod gets, and (in later milestones) walk packets through them.
public struct Iptsim: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "iptsim",
        abstract: "Explore the iptables rules Istio's init container writes into a pod.",
        discussion: """
            Rule SOURCE for the subcommands: istio-iptables arguments after `--`, e.g.
              iptsim diff --from 1.10 --to 1.30 -- -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -b '*'
            or a pod manifest (`--pod FILE`, for rules and trace; see `iptsim pod`).
            """,
        subcommands: [
            TraceCommand.self, RulesCommand.self, RunCommand.self, DiffCommand.self, ReplayCommand.self,
            PodCommand.self,
        ])

    public init() {}
}

/// Entry point for the `iptsim` executable (keeps ArgumentParser out of main.swift's imports).
public func runIptsim() {
    Iptsim.main()
}
