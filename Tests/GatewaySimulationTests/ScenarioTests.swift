import Foundation
import GatewaySimulation
import Testing

/// One seeded, scripted regression per defect (``Scenario``), checked by the simulator's invariants.
@Suite struct ScenarioTests {
    private func run(_ scenario: Scenario) async throws -> SimulationResult {
        let directory = SimulationBudget.directory + "/rlt-sim-scenario-\(getpid())-\(scenario.rawValue)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let simulation = try Simulation(options: scenario.options(directory: directory))
        let result = await onOwnThread { [simulation = UncheckedBox(simulation)] in simulation.value.run() }
        if let violation = result.violation {
            print("\(scenario.rawValue): \(violation)\n" + result.trail.suffix(12).joined(separator: "\n"))
        }
        return result
    }

    @Test func stopReusingID_darkensTheLines() async throws {
        let result = try await self.run(.stopReusingID)
        #expect(result.litSeconds > 0)
        #expect(result.violation == nil)
    }

    @Test func pwmFailure_stopStillDarkensEveryLine() async throws {
        let result = try await self.run(.pwmFailureKeepsOutputsOn)
        #expect(result.litSeconds > 0)
        #expect(result.violation == nil)
        #expect(result.answers["u2"] == "ok")
    }

    @Test func sessionOpenedWriteFails_answersStorageAndStaysDark() async throws {
        let result = try await self.run(.sessionOpenedWriteFails)
        #expect(result.violation == nil)
        #expect(result.answers["u1"] == "E_STORAGE")
        #expect(result.litSeconds == 0)
    }

    @Test func stuckFsync_interlockStillActsAndPanelGoesDark() async throws {
        let result = try await self.run(.slowFsync)
        #expect(result.litSeconds > 0)
        #expect(result.violation == nil)
    }

    @Test func chatteringContact_reportsOpen() async throws {
        let result = try await self.run(.chatteringContact)
        #expect(result.litSeconds > 0)
        #expect(result.violation == nil)
    }

    @Test func edgeReadFailure_raisesWiringFaultAndDarkens() async throws {
        let result = try await self.run(.edgeReadFailure)
        #expect(result.litSeconds > 0)
        #expect(result.violation == nil)
    }

    /// The stop's record is waited for while the lines are already dark: that wait is not light.
    @Test func stopDuringSlowWrites_booksNoLightOutsideTheSession() async throws {
        let result = try await self.run(.stopDuringSlowWrites)
        #expect(result.violation == nil)
        #expect(result.answers["u2"] == "ok")
        #expect(result.litSeconds > 5)
        #expect(result.doseOutsideSessions < 1e-6, "\(result.doseOutsideSessions) J/cm² booked outside the session")
    }

    @Test func longPause_doseWindowCountsLightByDelivery() async throws {
        let result = try await self.run(.longPauseDoseWindow)
        #expect(result.sessions >= 2)
        #expect(result.violation == nil)
    }
}

/// Hands a simulation (not `Sendable`: it is used by one thread at a time) to the thread that runs it.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
