import SafetyCore
import Testing

/// The events the shell feeds when its own work fails: a record a command depended on, an input
/// that can no longer be read.
@Suite struct ShellFailureEventTests {
    @Test func commandNotRecorded_latchesStorage_answersEStorage_andNeverEmits() {
        var rig = Rig.ready()
        let envelope = rig.envelope(.start(StartArguments()), id: "s1")
        // The shell performed nothing of the start's list after the failed `sessionOpened`.
        _ = rig.machine.handle(.command(envelope), now: rig.now)
        let actions = rig.machine.handle(.commandNotRecorded(envelope, reason: "disk full"), now: rig.now)
        #expect(actions.first == .setOutputs(.off))
        #expect(actions.response?.code == .storage)
        #expect(actions.response?.id == "s1")
        #expect(rig.machine.commandedOutputs == .off)
        #expect(rig.machine.snapshot(now: rig.now).faults == [.storage])
        // The forgotten `ok` is not replayed to a retry with the same id.
        let retry = rig.machine.handle(.command(envelope), now: rig.now)
        #expect(retry.response?.code == .faultActive)
    }

    @Test func inputFailed_interlock_latchesWiring_andCountsOpen() {
        var rig = Rig.running()
        #expect(rig.outputs.emitting)
        let actions = rig.send(.inputFailed(.interlock, reason: "EIO"))
        #expect(actions.outputCommands == [.off])
        #expect(rig.snapshot.faults == [.interlockWiring])
        #expect(rig.snapshot.interlock == .open)
        // Not acknowledgeable until the interlock reads closed again.
        #expect(rig.command(.ack(.all)).response?.code == .faultActive)
        rig.send(.input(.interlock, active: true))
        #expect(rig.command(.ack(.all)).response?.ok == true)
    }
}
