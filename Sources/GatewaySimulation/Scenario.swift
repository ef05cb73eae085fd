/// Named, seeded regression scenarios: one per defect of issue 12 a user meets at the lines, each a script run through the same simulator and checked by the same invariants.
package enum Scenario: String, CaseIterable, Sendable {
    /// Defect 1: `stop` id `panic` while idle, a later session, then `stop` id `panic` again.
    case stopReusingID = "stop-reusing-id"
    /// Defect 2: the PWM write fails; `stop` must still darken every line.
    case pwmFailureKeepsOutputsOn = "pwm-failure-keeps-outputs-on"
    /// Defect 7: `sessionOpened` cannot be written; no light, no `ok`, `E_STORAGE`.
    case sessionOpenedWriteFails = "session-opened-write-fails"
    /// Defect 5: the disk stops completing writes mid-session; the interlock must still act at once
    /// and the panel go dark with `F_STORAGE` within the bound.
    case slowFsync = "slow-fsync"
    /// Defect 7: the interlock chatters faster than its debounce for seconds.
    case chatteringContact = "chattering-contact"
    /// Defect 7: the edge thread's reads fail mid-session.
    case edgeReadFailure = "edge-read-failure"
    /// Defect 3: half a session, a pause of a day, the other half, then two more full sessions
    /// within the hour: 135 J/cm² delivered within 24 h against the 120 J/cm² limit.
    case longPauseDoseWindow = "long-pause-dose-window"
    /// A stop while every write takes 1.5 s: the lines go dark before the stop's record is waited
    /// for, so the wait must not be booked as light outside the session.
    case stopDuringSlowWrites = "stop-during-slow-writes"

    private static func start(_ id: String, _ args: String = #""channels":"both","duration_s":120"#) -> String {
        #"{"id":"\#(id)","cmd":"start","args":{\#(args)}}"#
    }

    /// The script, in seconds after boot.
    package var script: [ScriptStep] {
        switch self {
        case .stopReusingID:
            return [
                ScriptStep(at: 2, .command(#"{"id":"panic","cmd":"stop"}"#)),
                ScriptStep(at: 3, .command(Self.start("u1"))),
                ScriptStep(at: 20, .command(#"{"id":"panic","cmd":"stop"}"#)),
            ]
        case .pwmFailureKeepsOutputsOn:
            return [
                ScriptStep(at: 2, .command(Self.start("u1", #""channels":"red","intensity_pct":50,"duration_s":120"#))),
                ScriptStep(at: 10, .pwmWritesFail(true)),
                ScriptStep(at: 11, .command(#"{"id":"u2","cmd":"stop"}"#)),
            ]
        case .sessionOpenedWriteFails:
            return [
                ScriptStep(at: 1, .ledger(.failing("database or disk is full (ENOSPC)"))),
                ScriptStep(at: 2, .command(Self.start("u1"))),
                ScriptStep(at: 8, .ledger(.healthy)),
            ]
        case .slowFsync:
            return [
                ScriptStep(at: 2, .command(Self.start("u1"))),
                ScriptStep(at: 10, .ledger(.stuck)),
                ScriptStep(at: 10.2, .command(#"{"id":"u3","cmd":"set","args":{"duration_s":300}}"#)),
                ScriptStep(at: 10.5, .interlock(closed: false)),
                ScriptStep(at: 11, .interlock(closed: true)),
                ScriptStep(at: 12, .command(#"{"id":"u2","cmd":"resume"}"#)),
                ScriptStep(at: 30, .ledger(.healthy)),
            ]
        case .chatteringContact:
            return [
                ScriptStep(at: 2, .command(Self.start("u1"))),
                ScriptStep(at: 10, .chatter(seconds: 3)),
            ]
        case .edgeReadFailure:
            return [
                ScriptStep(at: 2, .command(Self.start("u1"))),
                ScriptStep(at: 10, .inputReadsFail(true)),
                ScriptStep(at: 20, .inputReadsFail(false)),
            ]
        case .stopDuringSlowWrites:
            return [
                ScriptStep(at: 2, .command(Self.start("u1"))),
                ScriptStep(at: 10, .ledger(.slow(1.5))),
                ScriptStep(at: 11, .command(#"{"id":"u2","cmd":"stop"}"#)),
                ScriptStep(at: 20, .ledger(.healthy)),
            ]
        case .longPauseDoseWindow:
            let session = #""channels":"both","duration_s":600"#
            return [
                ScriptStep(at: 2, .command(Self.start("u1", session))),
                ScriptStep(at: 302, .command(#"{"id":"u2","cmd":"pause"}"#)),
                ScriptStep(at: 86_500, .command(#"{"id":"u3","cmd":"resume"}"#)),
                ScriptStep(at: 87_500, .command(Self.start("u4", session))),
                ScriptStep(at: 88_400, .command(Self.start("u5", session))),
            ]
        }
    }

    /// Simulated seconds the scenario runs.
    package var duration: Double { self == .longPauseDoseWindow ? 89_200 : 60 }

    /// The scenario's options: strict (no defect tolerated), no random faults, a fixed seed.
    package func options(directory: String) -> SimulationOptions {
        var options = SimulationOptions(
            seed: 12_000 + UInt64(Self.allCases.firstIndex(of: self)!), duration: self.duration, directory: directory)
        options.random = false
        options.tolerated = []
        options.script = self.script
        return options
    }
}
