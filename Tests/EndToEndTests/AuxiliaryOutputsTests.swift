import Foundation
import TestSupport
import Testing

/// The indicator and heartbeat pins, seen from the simulated chip's files as a board would see them.
@Suite(.timeLimit(.minutes(2)))
struct AuxiliaryOutputsTests {
    static let indicator = 5
    static let heartbeat = 6

    /// Samples a line's level for `duration` and returns the distinct values seen.
    static func levels(_ chip: SimulatedChipDirectory, line: Int, for duration: Duration) async -> Set<Int> {
        var seen: Set<Int> = []
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if let value = chip.value(line: line) { seen.insert(value) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return seen
    }

    @Test func heartbeatPin_togglesWhileTheLoopIsHealthy() async throws {
        try await GatewayHarness.with(overrides: ["gpio.outputs.heartbeat.line=\(Self.heartbeat)"]) { harness in
            #expect(await Self.levels(harness.chip, line: Self.heartbeat, for: .seconds(2)) == [0, 1])
            // A stopped loop stops the heartbeat: after SIGSTOP the level freezes.
            harness.gateway.signal(SIGSTOP)
            try await Task.sleep(for: .milliseconds(300))
            #expect(await Self.levels(harness.chip, line: Self.heartbeat, for: .seconds(1)).count == 1)
            harness.gateway.signal(SIGCONT)
        }
    }

    @Test func identify_blinksTheIndicator_andTheIndicatorFollowsEmission() async throws {
        try await GatewayHarness.with(overrides: ["gpio.outputs.indicator.line=\(Self.indicator)"]) { harness in
            #expect(harness.chip.value(line: Self.indicator) == 0)
            let response = try await harness.command(#"{"id":"i1","cmd":"identify"}"#, id: "i1")
            #expect(response["ok"] as? Bool == true)
            #expect(await Self.levels(harness.chip, line: Self.indicator, for: .seconds(2)) == [0, 1])
            #expect(await harness.chip.waitForValue(line: Self.indicator, 0, timeout: .seconds(10)))

            let started = try await harness.command(#"{"id":"i2","cmd":"start","args":{"duration_s":30}}"#, id: "i2")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.chip.waitForValue(line: Self.indicator, 1))
            _ = try await harness.command(#"{"id":"i3","cmd":"stop"}"#, id: "i3")
            #expect(await harness.chip.waitForValue(line: Self.indicator, 0))
        }
    }
}
