import Foundation
import TestSupport
import Testing

/// `rlt-gateway doctor` on a panel: every check against the real broker, chip, sensor and ledger.
@Suite struct DoctorTests {
    @Test func doctor_onARunningPanel_passes_andReportsTheDaemonsLinesBusy() async throws {
        try await GatewayHarness.with { harness in
            let report = await CLIClientTests.run(["doctor", "--config", harness.configPath], in: harness)
            #expect(report.code == 0, "\(report.output)")
            for line in ["ok   config", "ok   password", "ok   broker", "ok   sensor", "ok   ledger"] {
                #expect(report.output.contains(line), "\(line) missing in:\n\(report.output)")
            }
            #expect(report.output.contains("warn gpio") && report.output.contains("the daemon running holds its lines"), "\(report.output)")
            #expect(harness.gateway.isRunning)
            let state = try await harness.barrier().state
            #expect(state == .idle, "the daemon still answers after the doctor")
        }
    }

    @Test func doctor_withTheBrokerDown_failsNamingTheBroker() async throws {
        try await GatewayHarness.with { harness in
            await harness.broker.stop()
            let report = await CLIClientTests.run(["doctor", "--config", harness.configPath], in: harness)
            #expect(report.code == 1, "\(report.output)")
            #expect(report.output.contains("FAIL broker: 127.0.0.1:\(harness.broker.port)"), "\(report.output)")
            #expect(report.output.contains("1 check failed"), "\(report.output)")
        }
    }
}
