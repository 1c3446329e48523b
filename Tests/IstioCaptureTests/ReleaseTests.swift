import IstioCapture
import Testing

@Suite struct ReleaseTests {
    @Test func minorMeansNewestPatch() throws {
        #expect(try Release.resolve("1.30").get().version == "1.30.3")
        #expect(try Release.resolve("1.22").get().version == "1.22.8")
        #expect(try Release.resolve("1.25.2").get().version == "1.25.5")
        #expect(try Release.resolve("v1.28.10").get().version == "1.28.10")
    }

    @Test(arguments: ["1.9", "2.0", "1.30.4", "latest", "1", "1.30.x"])
    func unknownReleasesListTheKnownOnes(_ request: String) {
        guard case .failure(let error) = Release.resolve(request) else {
            Issue.record("\(request) resolved")
            return
        }
        #expect(error.description.contains("unknown Istio release"))
        #expect(error.description.contains("1.22, 1.23"))
    }

    @Test func flagSetsFollowReleases() {
        let names = { (version: IstioVersion) in Set(FlagCatalog.flags(for: version).map(\.name)) }
        #expect(names("1.23.6").contains("restore-format"))
        #expect(!names("1.24.6").contains("restore-format"))
        #expect(!names("1.23.6").contains("reconcile"))
        #expect(names("1.24.6").contains("reconcile"))
        #expect(names("1.25.5").contains("iptables-trace-logging"))
        #expect(!names("1.26.8").contains("iptables-trace-logging"))
        #expect(!names("1.27.9").contains("force-iptables-binary"))
        #expect(names("1.28.10").contains("force-iptables-binary"))
    }
}
