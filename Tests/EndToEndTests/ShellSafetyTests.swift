import Foundation
import GatewayProtocol
import Testing
import TestSupport

/// The shell's own safety promises, seen from outside: an interlock input that cannot be read is
/// an open interlock with `F_INTERLOCK_WIRING`, never a frozen "closed".
@Suite(.timeLimit(.minutes(2)))
struct ShellSafetyTests {
    @Test func interlockInputUnreadableMidSession_latchesWiringFault_andLinesGoOff() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(CommandRequest(id: "w1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))

            // The line's file disappears: the edge thread's read fails.
            let pull = "\(harness.chip.path)/sim_gpio\(GatewayHarness.interlockLine)/pull"
            try FileManager.default.removeItem(atPath: pull)
            let raised = try await harness.waitForEvent(.faultRaised) { $0.faultCode == .interlockWiring }
            #expect(raised != nil, "no fault_raised F_INTERLOCK_WIRING; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            let fault = try await harness.waitForState { $0.faults.contains(.interlockWiring) }
            #expect(fault?.interlock == .open)
            let early = try await harness.command(CommandRequest(id: "w2", command: "ack", args: ["fault": "all"]))
            #expect(early.code == .faultActive, "\(early)")

            // Readable and closed again: the fault may be acknowledged; emission stays off.
            try harness.chip.pull(line: GatewayHarness.interlockLine, up: true)
            let closed = try await harness.waitForState {
                $0.interlock == .closed && $0.faults.contains(.interlockWiring)
            }
            #expect(closed != nil, "the interlock never read closed again; log:\n\(harness.gateway.log)")
            let ack = try await harness.command(CommandRequest(id: "w3", command: "ack", args: ["fault": "all"]))
            #expect(ack.ok, "\(ack)")
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)))
        }
    }
}
