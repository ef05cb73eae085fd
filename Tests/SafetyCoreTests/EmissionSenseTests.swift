import SafetyCore
import Testing

/// Light reported by `emission_sense` while every output is commanded off (S9).
@Suite("Emission sense against an OFF command")
struct EmissionSenseTests {
    static func settings() -> SafetySettings {
        var settings = SafetySettings()
        settings.inputs.emissionSense = true
        return settings
    }

    @Test func emissionSensed_whileIdleAndCommandedOff_isCountedAsDoseAtFullIrradiance() {
        var rig = Rig.ready(Self.settings())
        rig.send(.input(.emissionSense, active: true))
        let actions = rig.run(for: 10)
        #expect(actions.notices.contains("fault_raised(F_OUTPUT_MISMATCH)"))
        // Both channels at full irradiance: 90 mW/cm² × 10 s = 0.9 J/cm².
        #expect(abs(rig.snapshot.dose24h.joulesPerCm2 - 0.9) < 1e-6)
        #expect(!rig.outputs.emitting)
    }

    @Test func emissionSensed_whilePaused_countsIntoTheSessionAndTheWindow() {
        var rig = Rig.running(Self.settings(), StartArguments(channels: .red))
        rig.send(.input(.emissionSense, active: true))
        rig.run(for: 10)
        rig.command(.pause)
        // The red channel lit 10 s (0.5 J/cm²); the sense keeps reporting light for 0.5 s more.
        rig.advance(0.5)
        rig.send(.tick)
        let expected = 0.5 + 0.09 * 0.5
        #expect(abs(rig.snapshot.dose.total.joulesPerCm2 - expected) < 1e-6)
        #expect(abs(rig.snapshot.dose24h.joulesPerCm2 - expected) < 1e-6)
    }

    @Test func emissionStillSensed_keepsTheMismatchFaultLatched() {
        var rig = Rig.ready(Self.settings())
        rig.send(.input(.emissionSense, active: true))
        rig.run(for: 2)
        #expect(rig.snapshot.faults.contains(.outputMismatch))
        #expect(rig.command(.ack(.one(.outputMismatch))).response?.code == .faultActive)
        rig.send(.input(.emissionSense, active: false))
        #expect(rig.command(.ack(.one(.outputMismatch))).response?.ok == true)
        // The stray light stays in the window.
        #expect(abs(rig.snapshot.dose24h.joulesPerCm2 - 0.18) < 1e-6)
    }

    @Test func emissionSensed_whileIdle_isHandedToTheLedgerWhileItLastsAndWhenItStops() {
        var rig = Rig.ready(Self.settings())
        rig.send(.input(.emissionSense, active: true))
        rig.run(for: 12)
        rig.send(.input(.emissionSense, active: false))
        rig.run(for: 1)
        let stray = rig.log.records.compactMap { record -> Double? in
            if case .lightOutsideSession(let dose) = record { dose.joulesPerCm2 } else { nil }
        }
        // Recorded at once, then every 5 s checkpoint interval, then the rest once the light stopped.
        #expect(stray.count >= 3)
        #expect(abs(stray.reduce(0, +) - 0.09 * 12) < 1e-6)
    }
}
