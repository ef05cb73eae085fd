import Foundation
import GatewayProtocol
import MQTT
import TestSupport
import Testing

/// "A `stop` always acts" seen from outside, whatever its id has been used for before: the regression
/// tests of issue 12's first defect against the built daemon.
@Suite(.timeLimit(.minutes(10)))
struct StopAlwaysActsTests {
    /// An automation with a fixed id (`panic`): the first stop while idle is answered and remembered;
    /// a later session must still be stopped by the same id.
    @Test func stopWithAFixedID_stopsEverySession_notOnlyTheFirst() async throws {
        try await GatewayHarness.with(overrides: ["limits.cooldown_s=0"]) { harness in
            let idle = try await harness.command(CommandRequest(id: "panic", command: "stop"))
            #expect(idle.ok, "\(idle)")
            for round in 1...2 {
                let started = try await harness.command(
                    #"{"id":"go-\#(round)","cmd":"start","args":{"duration_s":600}}"#, id: "go-\(round)")
                #expect(started.ok, "round \(round): \(started)")
                #expect(await harness.linesRead(1))
                let stopped = try await harness.command(CommandRequest(id: "panic", command: "stop"))
                #expect(stopped.ok, "round \(round): \(stopped)")
                #expect(
                    await harness.linesRead(0, timeout: .milliseconds(1)), "round \(round): answered, still emitting")
                let aborted = try await harness.waitForEvent(.aborted)
                #expect(aborted?.end?.reason == .stopCommand, "round \(round): \(String(describing: aborted))")
            }
        }
    }

    /// The refusal messages tell the user to send the command again (without retain, with a fresh
    /// `ts`): the corrected `stop` under the same id must act, not replay the refusal.
    @Test(arguments: ["retained", "stale"])
    func refusedStop_sentAgainCorrectlyUnderTheSameID_acts(refusal: String) async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(
                CommandRequest(id: "s", command: "start", args: ["duration_s": 600]))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))

            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let refused: ResponseDocument
            switch refusal {
            case "retained":
                refused = try await harness.command(CommandRequest(id: "halt", command: "stop"), retain: true)
                #expect(refused.code == .retained, "\(refused)")
                harness.client.publish(topic: "\(harness.base)/cmd", text: "", retain: true)
            default:
                refused = try await harness.command(
                    CommandRequest(id: "halt", command: "stop", sentAtUnixMs: now - 600_000, ttlMs: 1000))
                #expect(refused.code == .stale, "\(refused)")
            }
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 1, "a refused stop acted: \(refused)")

            let corrected = try await harness.command(
                CommandRequest(id: "halt", command: "stop", sentAtUnixMs: now, ttlMs: 60000))
            #expect(corrected.ok, "the corrected stop replayed the refusal: \(corrected)")
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)), "answered ok, still emitting")
        }
    }
}
