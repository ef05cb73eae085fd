import SafetyCore
import TestKit
import Testing

/// Rules whose detail does not fit a table row: arithmetic, messages, ordering, memory.
@Suite("Rule details")
struct RuleDetailTests {
    @Test func boot_requestsOutputsOffBeforeAnythingElse() {
        var machine = SafetyMachine(settings: SafetySettings(), bootID: "b")
        let actions = machine.handle(.boot(BootContext(uncleanSessionID: "x-1")), now: .seconds(1))
        #expect(actions.first == .setOutputs(.off))
        #expect(actions.notices == ["fault_raised(F_UNCLEAN_SHUTDOWN)"])
        #expect(actions.last == .publishState)
    }

    @Test func start_recordsTheSessionBeforeTurningOutputsOn() throws {
        var rig = Rig.ready()
        let actions = rig.command(.start(.init()))
        let opened = actions.firstIndex { if case .record(.sessionOpened) = $0 { true } else { false } }
        let on = actions.firstIndex { if case .setOutputs(let c) = $0 { c.emitting } else { false } }
        let openedAt = try #require(opened)
        let onAt = try #require(on)
        #expect(openedAt < onAt)
        #expect(actions.response?.ok == true)
    }

    @Test func dose_isIntegratedPerChannelAtDuty() {
        var settings = SafetySettings()
        settings.dimmable = PerChannel(red: true, nir: true)
        var rig = Rig.running(settings, StartArguments(channels: .both, intensityPercent: 50, durationSeconds: 600))
        rig.run(for: 100)
        let dose = rig.snapshot.dose
        // 50 mW/cm² × 0.5 × 100 s / 1000 = 2.5 J/cm²; 40 × 0.5 × 100 / 1000 = 2.
        #expect(abs(dose.red.joulesPerCm2 - 2.5) < 1e-6)
        #expect(abs(dose.nir.joulesPerCm2 - 2.0) < 1e-6)
        #expect(abs(rig.snapshot.elapsedSeconds - 100) < 1e-6)
    }

    @Test func dose_isNotCountedWhilePaused() {
        var rig = Rig.running(SafetySettings(), StartArguments(channels: .red))
        rig.run(for: 10)
        rig.command(.pause)
        rig.run(for: 50)
        #expect(abs(rig.snapshot.dose.red.joulesPerCm2 - 0.5) < 1e-6)
        #expect(rig.snapshot.dose.nir == .zero)
        #expect(abs(rig.snapshot.elapsedSeconds - 10) < 1e-6)
    }

    @Test func startRequested_whenDailyDoseWouldBeExceeded_saysTheRemainingAllowance() {
        var rig = Rig.ready(history: [DoseHistoryEntry(ageSeconds: 3_600, dose: Dose(joulesPerCm2: 100))])
        let refused = rig.command(.start(.init()))
        #expect(refused.response?.code == .doseLimit)
        #expect(refused.response?.message.contains("remaining 24 h allowance 20 J/cm²") == true)
        // A plan inside the allowance is accepted: 20 J/cm² at 90 mW/cm² is 222 s.
        let accepted = rig.command(.start(StartArguments(durationSeconds: 220)))
        #expect(accepted.response?.ok == true)
    }

    /// The dose a refusal advises (`… use dose_j_cm2 ≤ N`), as a client following it would read it.
    static func advisedDose(_ response: CommandResponse?) throws -> Double {
        let advised = response.flatMap { TestKit.advisedDose(in: $0.message) }
        return try #require(advised, "no dose advised in \(String(describing: response?.message))")
    }

    @Test func startRequested_withTheAdvisedDose_isAccepted_evenJustBelowARoundAllowance() throws {
        // 59.96 J/cm² left: advice rounded to the nearest ("60") would be refused again.
        var rig = Rig.ready(history: [DoseHistoryEntry(ageSeconds: 3_600, dose: Dose(joulesPerCm2: 60.04))])
        let refused = rig.command(.start(StartArguments(durationSeconds: 1200, doseTarget: Dose(joulesPerCm2: 60))))
        #expect(refused.response?.code == .doseLimit)
        let advised = try Self.advisedDose(refused.response)
        #expect(advised == 59.9)
        let accepted = rig.command(.start(StartArguments(durationSeconds: 1200, doseTarget: Dose(joulesPerCm2: advised))))
        #expect(accepted.response?.ok == true)
    }

    @Test(arguments: [30.0, nil])
    func startRequested_withTheAdvisedDose_isAccepted_underAFractionalSessionLimit(target: Double?) throws {
        // A session limit of 12.35 J/cm²: advice rounded to the nearest ("12.4") would be refused again.
        var settings = SafetySettings()
        settings.limits.maxSessionDose = Dose(joulesPerCm2: 12.35)
        var rig = Rig.ready(settings)
        let refused = rig.command(
            .start(StartArguments(durationSeconds: 600, doseTarget: target.map(Dose.init(joulesPerCm2:)))))
        #expect(refused.response?.code == .doseLimit)
        let advised = try Self.advisedDose(refused.response)
        #expect(advised == 12.3)
        let accepted = rig.command(.start(StartArguments(durationSeconds: 600, doseTarget: Dose(joulesPerCm2: advised))))
        #expect(accepted.response?.ok == true)
    }

    @Test func startRequested_whenOldSessionsLeaveTheWindow_isAcceptedAgain() {
        let history = (0..<3).map {
            DoseHistoryEntry(ageSeconds: 86_398 + Double($0) * 0.5, dose: Dose(joulesPerCm2: 1))
        }
        var rig = Rig.ready(history: history)
        let refused = rig.command(.start(.init()))
        #expect(refused.response?.code == .doseLimit)
        #expect(refused.response?.message.contains("3 sessions") == true)
        #expect(rig.snapshot.sessions24h == 3)
        rig.run(for: 2.5)
        #expect(rig.snapshot.sessions24h == 0)
        #expect(rig.command(.start(.init())).response?.ok == true)
    }

    @Test func duplicateID_replaysTheFirstResponseWithoutASecondEffect() throws {
        var rig = Rig.ready()
        let first = rig.command(.start(.init()), id: "dup")
        rig.command(.stop)
        rig.run(for: 130)
        #expect(rig.state == .idle)
        let again = rig.command(.start(.init()), id: "dup")
        let firstResponse = try #require(first.response)
        #expect(again == [.respond(firstResponse)])
        #expect(rig.state == .idle)
    }

    @Test func stopReusingAStartsID_isANewCommand_andStops() throws {
        var rig = Rig.ready()
        #expect(rig.command(.start(.init()), id: "1").response?.ok == true)
        #expect(rig.outputs.emitting)
        let stopped = rig.command(.stop, id: "1")
        #expect(stopped.response?.commandName == "stop")
        #expect(!rig.outputs.emitting)
        #expect(rig.state == .cooldown)
    }

    @Test func fleetStopReusingADeviceID_isANewCommand_andStops() throws {
        var rig = Rig.ready()
        #expect(rig.command(.start(.init()), id: "7").response?.ok == true)
        let fleet = rig.envelope(.stop, id: "7", source: .fleetAll)
        let stopped = rig.send(.command(fleet))
        #expect(stopped.response?.ok == true)
        #expect(!rig.outputs.emitting)
    }

    @Test func boot_shortlyAfterASession_startsInCooldown_andRestsTheRemainder() {
        var rig = Rig(SafetySettings())
        rig.send(.boot(BootContext(lastSessionEndedAgeSeconds: 100)))
        rig.send(.input(.interlock, active: true))
        rig.send(.temperature(.valid(Celsius(rig.temperature))))
        #expect(rig.state == .cooldown)
        #expect(rig.command(.start(.init())).response?.code == .cooldown)
        rig.run(for: 21)
        #expect(rig.state == .idle)
        #expect(rig.command(.start(.init())).response?.ok == true)
    }

    @Test func boot_longAfterASession_isIdle() {
        var rig = Rig(SafetySettings())
        rig.send(.boot(BootContext(lastSessionEndedAgeSeconds: 500)))
        #expect(rig.state == .idle)
    }

    @Test func duplicateMemory_isBounded() {
        var settings = SafetySettings()
        settings.rateLimit = .init(perSecond: 1000, burst: 1000)
        var rig = Rig.ready(settings)
        rig.command(.identify, id: "old")
        for index in 0..<300 {
            rig.advance(0.01)
            rig.command(.ping, id: "p\(index)")
        }
        // Forgotten after 256 newer ids: it acts again.
        #expect(rig.command(.identify, id: "old").contains(.identify))
    }

    @Test func rateLimitedCommand_mayBeRetriedWithTheSameID() {
        var rig = Rig.ready()
        for _ in 0..<10 { rig.command(.ping) }
        #expect(rig.command(.identify, id: "i1").response?.code == .rate)
        rig.advance(1)
        #expect(rig.command(.identify, id: "i1").response?.ok == true)
    }

    @Test func temperatureWarning_firesOncePerCrossing() {
        var rig = Rig.ready()
        var warnings = 0
        for t in [54.0, 55, 56, 55.5, 54, 53.5, 55, 52.9, 55] {
            warnings += rig.send(.temperature(.valid(Celsius(t)))).notices.filter { $0 == "temperature_warning" }.count
        }
        #expect(warnings == 2)
    }

    @Test func checkpoint_isRecordedEveryFiveSecondsWhileRunning() {
        var rig = Rig.running()
        let actions = rig.run(for: 12)
        let checkpoints = actions.records.filter { if case .sessionCheckpoint = $0 { true } else { false } }
        #expect(checkpoints.count == 2)
    }

    @Test func set_changesPresetsAndAStartUsesThem() {
        var rig = Rig.ready()
        let set = rig.command(.set(PresetChanges(channels: .red, durationSeconds: 300)))
        #expect(set.response?.ok == true)
        #expect(set.records.contains(.presetsChanged(.init(channels: .red, durationSeconds: 300))))
        #expect(set.contains(.publishState))
        let start = rig.command(.start(.init()))
        #expect(start.outputCommands.last == OutputCommand(duty: PerChannel(red: 1, nir: 0), master: true))
        #expect(rig.snapshot.plannedSeconds == 300)
    }

    @Test func set_aboveTheLimit_namesTheAcceptedRange() {
        var rig = Rig.ready()
        let response = rig.command(.set(PresetChanges(doseTarget: .some(Dose(joulesPerCm2: 80))))).response
        #expect(response?.code == .range)
        #expect(response?.message.contains("60 J/cm²") == true)
    }

    @Test func dimmedStart_withoutPWM_saysWhy() {
        var settings = SafetySettings()
        settings.dimmable = PerChannel(red: true, nir: false)
        var rig = Rig.ready(settings)
        let response = rig.command(.start(StartArguments(channels: .both, intensityPercent: 40))).response
        #expect(response?.code == .range)
        #expect(response?.message.contains("nir has no PWM") == true)
        #expect(rig.command(.start(StartArguments(channels: .red, intensityPercent: 40))).response?.ok == true)
    }

    @Test func ackAll_clearsWhatIsGoneAndNamesWhatIsNot() {
        var rig = Rig.ready()
        rig.send(.storageFailed("disk full"))
        rig.send(.temperature(.valid(Celsius(70))))
        rig.send(.temperature(.valid(Celsius(60))))
        let response = rig.command(.ack(.all)).response
        #expect(response?.ok == true)
        #expect(response?.message.contains("cleared F_STORAGE") == true)
        #expect(response?.message.contains("F_OVERTEMP (panel 60 °C must cool to ≤ 50 °C)") == true)
        #expect(rig.snapshot.faults == [.overTemperature])
    }

    @Test func interlockOpening_turnsOutputsOffFirst() {
        var rig = Rig.running()
        let actions = rig.send(.input(.interlock, active: false))
        #expect(actions.first == .setOutputs(.off))
    }

    @Test func snapshotEmitting_followsReadbackNotCommand() {
        var rig = Rig.running()
        #expect(rig.snapshot.emitting)
        rig.send(.outputReadback(.off))
        #expect(!rig.snapshot.emitting)
        #expect(rig.state == .running)
    }

    @Test func readbackStuckOnWhilePaused_countsConservatively() {
        var rig = Rig.running(SafetySettings(), StartArguments(channels: .red))
        rig.honestHardware = false
        rig.command(.pause)
        rig.advance(0.5)
        rig.send(.tick)
        // Readback still says on for 0.5 s: counted at full duty.
        #expect(abs(rig.snapshot.dose.red.joulesPerCm2 - 0.025) < 1e-9)
    }

    @Test func linkLossContinue_doesNotExtendTheSession() {
        var rig = Rig.running(SafetySettings(), StartArguments(durationSeconds: 60))
        rig.send(.linkChanged(connected: false))
        rig.run(for: 30)
        rig.send(.linkChanged(connected: true))
        let actions = rig.run(for: 30.25)
        #expect(actions.notices.contains("completed(duration)"))
    }

    // MARK: - A new fault re-sends OFF (S9, S16)

    /// Plays ticks every 0.25 s for up to `seconds` and returns the actions of the event that
    /// announced `fault`, or `nil` when none did.
    private static func actionsRaising(
        _ fault: FaultCode, rig: inout Rig, within seconds: Double
    ) -> [SafetyAction]? {
        for _ in 0..<Int((seconds / 0.25).rounded()) {
            rig.advance(0.25)
            let actions = rig.send(.tick)
            if actions.notices.contains("fault_raised(\(fault.rawValue))") { return actions }
        }
        return nil
    }

    @Test func readbackStuckOnAfterStop_latchesMismatchAndResendsOutputsOffFirst() throws {
        var rig = Rig.running()
        rig.run(for: 2)
        let stopped = rig.command(.stop)
        #expect(stopped.first == .setOutputs(.off))
        // The relay welds: the hardware keeps reading red on although the core already said off.
        rig.honestHardware = false
        #expect(rig.send(.outputReadback(OutputReadback(red: true, nir: false, master: true)))
            .outputCommands.isEmpty)
        let raised = try #require(Self.actionsRaising(.outputMismatch, rig: &rig, within: 2))
        // The core believed the outputs were off all along, and still repeats OFF before anything else.
        #expect(raised.first == .setOutputs(.off))
        #expect(raised.outputCommands == [.off])
        #expect(rig.snapshot.faults == [.outputMismatch])
        // The latched fault is re-checked on every event but not re-announced, and OFF is not re-sent.
        rig.advance(0.25)
        let again = rig.send(.tick)
        #expect(again.outputCommands.isEmpty)
        #expect(again.notices.isEmpty)
    }

    @Test func newFaultWhileIdle_resendsOutputsOffFirst_butAKnownFaultDoesNot() {
        var rig = Rig.ready()
        let first = rig.send(.storageFailed("disk full"))
        #expect(first.first == .setOutputs(.off))
        #expect(first.notices == ["fault_raised(F_STORAGE)"])
        let repeated = rig.send(.storageFailed("disk full"))
        #expect(repeated.outputCommands.isEmpty)
        #expect(repeated.notices.isEmpty)
    }

    @Test func newFaultWhileRunning_turnsOutputsOffOnceAndFirst() {
        var rig = Rig.running()
        rig.run(for: 1)
        let actions = rig.send(.storageFailed("disk full"))
        #expect(actions.first == .setOutputs(.off))
        #expect(actions.outputCommands == [.off])
        #expect(actions.notices == ["aborted(fault)", "fault_raised(F_STORAGE)"])
    }

    /// S9's grace period restarts only for a command the shell gets: a session that ends and the
    /// next that starts within one event leave the outputs as they were, and the disagreement
    /// must keep its age.
    @Test func mismatchClock_keepsRunning_whenASessionEndsAndTheNextStartsInOneEvent() {
        var settings = SafetySettings()
        settings.limits.cooldownSeconds = 0
        var rig = Rig.running(settings, StartArguments(durationSeconds: 1))
        rig.honestHardware = false
        rig.advance(0.5)
        rig.send(.outputReadback(.off))
        // The first session reaches its duration and the start opens the next: no setOutputs at all.
        rig.advance(0.6)
        let restarted = rig.command(.start(StartArguments(durationSeconds: 10)))
        #expect(restarted.response?.ok == true)
        #expect(restarted.notices.contains("completed(duration)"))
        #expect(restarted.outputCommands.isEmpty)
        #expect(rig.outputs.emitting)
        // 1.1 s after the readback started to disagree, past the 1 s allowed.
        rig.advance(0.5)
        let late = rig.send(.tick)
        #expect(late.notices.contains("fault_raised(F_OUTPUT_MISMATCH)"))
        #expect(late.first == .setOutputs(.off))
        #expect(rig.snapshot.faults.contains(.outputMismatch))
    }
}
