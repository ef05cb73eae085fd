import Foundation
import GatewaySimulation
import Testing

/// The whole gateway under deterministic simulation, for a fixed budget of seeds on every run.
///
/// `SIM_SEED` (first seed, default 1) and `SIM_RUNS` (default 1000) reproduce or widen the budget;
/// `SIM_STRICT=1` also counts known defects still open (``KnownDefect/openOnThisBranch``; none now).
@Suite struct SimulationBudgetTests {
    @Test func invariantsHold_atTheLines_overTheSeedBudget() async {
        let environment = ProcessInfo.processInfo.environment
        let firstSeed = environment["SIM_SEED"].flatMap { UInt64($0) } ?? 1
        let runs = environment["SIM_RUNS"].flatMap { Int($0) } ?? 1000
        let tolerated = SimulationBudget.toleratedFromEnvironment()
        // A minute of CPU on a thread of its own: on a 2-core machine it must not hold one of the
        // cooperative pool's two threads while other suites await their edges and messages.
        let report = await onOwnThread {
            SimulationBudget.run(firstSeed: firstSeed, runs: runs, tolerated: tolerated)
        }
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

/// Runs `body` on a new thread and returns its result.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
