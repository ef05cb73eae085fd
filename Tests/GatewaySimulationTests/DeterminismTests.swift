import Foundation
import GatewaySimulation
import Testing

/// Every run is reproducible from its seed: the same seed, the same steps, faults and verdict.
@Suite struct DeterminismTests {
    @Test(arguments: [7 as UInt64, 40, 313])
    func sameSeed_sameRun(seed: UInt64) throws {
        let directory = SimulationBudget.directory + "/rlt-sim-determinism-\(getpid())-\(seed)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let options = SimulationOptions(
            seed: seed, duration: min(600, SimulationBudget.duration(seed: seed)), directory: directory)
        let first = try Simulation(options: options).run()
        let second = try Simulation(options: options).run()
        #expect(first.steps == second.steps)
        #expect(first.checks == second.checks)
        #expect(first.faults == second.faults)
        #expect(first.sessions == second.sessions)
        #expect(first.litSeconds == second.litSeconds)
        #expect(first.violation == second.violation)
    }
}
