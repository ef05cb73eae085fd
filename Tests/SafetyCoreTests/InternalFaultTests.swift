import Testing

@testable import SafetyCore

/// The machine never traps: a state no rule can produce (forced here through `@testable`) is
/// turned into a latched `F_INTERNAL` with emission off at the next event.
@Suite("Internal consistency")
struct InternalFaultTests {
    @Test func runningWithoutASession_latchesInternalWithOutputsOff() {
        var rig = Rig.running()
        rig.machine.session = nil
        let actions = rig.send(.tick)
        #expect(actions.first == .setOutputs(.off))
        #expect(rig.snapshot.state == .fault)
        #expect(rig.snapshot.faults == [.internal])
        #expect(actions.notices.contains("fault_raised(F_INTERNAL)"))
    }

    @Test func outputsOnWhileIdle_latchesInternalWithOutputsOff() {
        var rig = Rig.ready()
        rig.machine.commanded = OutputCommand(duty: PerChannel(red: 1, nir: 1), master: true)
        let actions = rig.send(.tick)
        #expect(actions.first == .setOutputs(.off))
        #expect(rig.snapshot.faults == [.internal])
        // Acknowledged once consistent again; it never starts emission.
        rig.command(.ack(.one(.internal)))
        #expect(rig.snapshot.state == .idle)
        #expect(!rig.outputs.emitting)
    }
}
