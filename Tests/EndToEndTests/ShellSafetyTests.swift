import Foundation
import Testing
import TestSupport

/// The shell's own safety promises, seen from outside: an interlock input that cannot be read is
/// an open interlock with `F_INTERLOCK_WIRING`, never a frozen "closed".
@Suite(.timeLimit(.minutes(2)))
struct ShellSafetyTests {
    @Test func interlockInputUnreadableMidSession_latchesWiringFault_andLinesGoOff() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(#"{"id":"w1","cmd":"start"}"#, id: "w1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))

            // The line's file disappears: the edge thread's read fails.
            let pull = "\(harness.chip.path)/sim_gpio\(GatewayHarness.interlockLine)/pull"
            try FileManager.default.removeItem(atPath: pull)
            let raised = await harness.waitForEvent("fault_raised") { $0.string("fault") == "F_INTERLOCK_WIRING" }
            #expect(raised != nil, "no fault_raised F_INTERLOCK_WIRING; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            let fault = await harness.waitForState { $0.faults.contains("F_INTERLOCK_WIRING") }
            #expect(fault?.string("interlock") == "open")
            let early = try await harness.command(
                #"{"id":"w2","cmd":"ack","args":{"fault":"all"}}"#, id: "w2")
            #expect(early.string("code") == "E_FAULT_ACTIVE", "\(early)")

            // Readable and closed again: the fault may be acknowledged; emission stays off.
            try harness.chip.pull(line: GatewayHarness.interlockLine, up: true)
            let closed = await harness.waitForState {
                $0.string("interlock") == "closed" && $0.faults.contains("F_INTERLOCK_WIRING")
            }
            #expect(closed != nil, "the interlock never read closed again; log:\n\(harness.gateway.log)")
            let ack = try await harness.command(
                #"{"id":"w3","cmd":"ack","args":{"fault":"all"}}"#, id: "w3")
            #expect(ack["ok"] as? Bool == true, "\(ack)")
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)))
        }
    }
}
