import Foundation
import TestKit
import TestSupport
import Testing

/// Under systemd the daemon's log lines carry journald priorities (`<6>` info, `<4>` warning), so
/// `journalctl -p warning` finds what went wrong; outside it they stay plain.
@Suite struct JournalPriorityTests {
    @Test func underTheJournal_linesCarryTheirPriority() async throws {
        try await GatewayHarness.with(environment: ["JOURNAL_STREAM": "8:4242"]) { harness in
            #expect(harness.gateway.log.contains("<6>rlt-gateway: rlt-gateway running"), "\(harness.gateway.log)")
            await harness.broker.stop()
            #expect(
                await eventually(timeout: .seconds(30)) { harness.gateway.log.contains("<4>rlt-gateway: MQTT link lost") },
                "\(harness.gateway.log)")
            try await harness.broker.start()
        }
    }

    @Test func outsideTheJournal_linesHaveNoPriorityPrefix() async throws {
        try await GatewayHarness.with { harness in
            #expect(harness.gateway.log.contains("rlt-gateway running"))
            #expect(!harness.gateway.log.contains("<6>"), "\(harness.gateway.log)")
        }
    }
}
