import SafetyCore
import Testing

/// A stop button that reads pressed (held, or a broken wire of the required normally-closed button)
/// blocks emission from beginning (S11).
@Suite("Stop button held")
struct StopButtonHeldTests {
    static func settings() -> SafetySettings {
        var settings = SafetySettings()
        settings.inputs.stopButton = true
        return settings
    }

    @Test func startRequested_whileTheStopButtonReadsPressed_isRefusedUntilReleased() {
        var rig = Rig.ready(Self.settings())
        rig.send(.input(.stopButton, active: true))
        let refused = rig.command(.start(.init()))
        #expect(refused.response?.code == .state)
        #expect(refused.response?.message.contains("stop button reads pressed") == true)
        #expect(!rig.outputs.emitting)
        rig.send(.input(.stopButton, active: false))
        #expect(rig.command(.start(.init())).response?.ok == true)
    }

    @Test func stopButtonPressed_whilePaused_endsTheSession_andResumeIsRefused() {
        var rig = Rig.running(Self.settings())
        rig.command(.pause)
        rig.send(.input(.stopButton, active: true))
        // The press ended the paused session; a later resume finds nothing to resume either way.
        #expect(rig.state == .cooldown)
        #expect(rig.command(.resume).response?.code == .state)
    }
}
