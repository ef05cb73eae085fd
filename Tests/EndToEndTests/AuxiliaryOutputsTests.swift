import Foundation
import GatewayProtocol
import TestSupport
import Testing

/// The indicator and heartbeat pins, seen from the simulated chip's files as a board would see them.
@Suite(.timeLimit(.minutes(10)))
struct AuxiliaryOutputsTests {
    static let indicator = 5
    static let heartbeat = 6

    /// Waits until line `line` has shown each of `levels` in turn (a toggle seen as it happens).
    static func sees(_ chip: SimulatedChipDirectory, line: Int, _ levels: [Int]) async -> Bool {
        for level in levels {
            guard await chip.waitForValue(line: line, level, timeout: .seconds(30)) else { return false }
        }
        return true
    }

    @Test func heartbeatPin_togglesWhileTheLoopIsHealthy() async throws {
        try await GatewayHarness.with(overrides: ["gpio.outputs.heartbeat.line=\(Self.heartbeat)"]) { harness in
            #expect(await Self.sees(harness.chip, line: Self.heartbeat, [0, 1, 0, 1]))
            // A stopped loop stops the heartbeat: once the process is frozen the level never changes.
            #expect(await harness.gateway.suspend())
            let frozen = harness.chip.value(line: Self.heartbeat)
            // Kept sleep: the claim is about a span of time with a provably stopped process.
            try await Task.sleep(for: .seconds(1))
            #expect(harness.chip.value(line: Self.heartbeat) == frozen)
            harness.gateway.resume()
            // …and it toggles again once the loop runs.
            #expect(await harness.chip.waitForValue(line: Self.heartbeat, 1 - (frozen ?? 0), timeout: .seconds(30)))
        }
    }

    @Test func identify_blinksTheIndicator_andTheIndicatorFollowsEmission() async throws {
        try await GatewayHarness.with(overrides: ["gpio.outputs.indicator.line=\(Self.indicator)"]) { harness in
            #expect(harness.chip.value(line: Self.indicator) == 0)
            let response = try await harness.command(CommandRequest(id: "i1", command: "identify"))
            #expect(response.ok)
            #expect(await Self.sees(harness.chip, line: Self.indicator, [1, 0, 1]), "identify did not blink")
            #expect(await harness.chip.waitForValue(line: Self.indicator, 0, timeout: .seconds(30)))

            let started = try await harness.command(
                CommandRequest(id: "i2", command: "start", args: ["duration_s": 30]))
            #expect(started.ok, "\(started)")
            #expect(await harness.chip.waitForValue(line: Self.indicator, 1))
            _ = try await harness.command(CommandRequest(id: "i3", command: "stop"))
            #expect(await harness.chip.waitForValue(line: Self.indicator, 0))
        }
    }
}
