import Foundation
import GatewaySimulation
import Testing

/// The whole gateway under deterministic simulation, for a fixed budget of seeds on every run.
///
/// `SIM_SEED` (first seed, default 1) and `SIM_RUNS` (default 1000) reproduce or widen the budget;
/// `SIM_STRICT=1` also counts the known defects fixed on the core branch (``KnownDefect``).
@Suite struct SimulationBudgetTests {
    @Test func invariantsHold_atTheLines_overTheSeedBudget() {
        let environment = ProcessInfo.processInfo.environment
        let firstSeed = environment["SIM_SEED"].flatMap { UInt64($0) } ?? 1
        let runs = environment["SIM_RUNS"].flatMap { Int($0) } ?? 1000
        let report = SimulationBudget.run(
            firstSeed: firstSeed, runs: runs, tolerated: SimulationBudget.toleratedFromEnvironment())
        print(report.summary)
        #expect(report.runs == runs)
        if !report.failures.isEmpty {
            Issue.record("\(report.failures.count) runs broke an invariant; see the summary above")
        }
        if runs >= 1000 {
            #expect(report.simulatedSeconds >= 100 * 3600, "the budget promises 100 simulated hours")
        }
    }
}
