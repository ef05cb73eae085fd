import GatewayConfig
import SafetyCore
import Testing

@Suite("Mapping into SafetySettings")
struct SafetyMappingTests {
    @Test func configuredValues_reachTheSafetyCore() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                channels: {red: {irradiance_mw_cm2: 55.5}, nir: {irradiance_mw_cm2: 33}}
                gpio:
                  outputs: {nir: {line: 27, pwm: {chip: 1, channel: 0}}}
                  inputs: {interlock: null, stop_button: {line: 24}, emission_sense: {line: 25, bias: disabled}}
                presets: {channels: nir, intensity_pct: 40, duration_s: 300, dose_j_cm2: 12.5}
                limits:
                  max_session_s: 900
                  max_session_dose_j_cm2: 30
                  max_daily_dose_j_cm2: 90
                  max_daily_sessions: 2
                  cooldown_s: 60
                  warn_c: 50
                  cutoff_c: 60
                  resume_c: 45
                policy: {on_link_loss: pause, latch_on_unclean_restart: false}
                """)
        let safety = config.safety
        #expect(safety.irradianceMWPerCm2 == PerChannel(red: 55.5, nir: 33))
        #expect(safety.dimmable == PerChannel(red: false, nir: true))
        #expect(
            safety.presets
                == SafetySettings.Presets(
                    channels: .nir, intensityPercent: 40, durationSeconds: 300, doseTarget: Dose(joulesPerCm2: 12.5)))
        #expect(
            safety.limits
                == SafetySettings.Limits(
                    maxSessionSeconds: 900, maxSessionDose: Dose(joulesPerCm2: 30),
                    maxDailyDose: Dose(joulesPerCm2: 90),
                    maxDailySessions: 2, cooldownSeconds: 60))
        #expect(safety.thermal.warn == Celsius(50))
        #expect(safety.thermal.cutoff == Celsius(60))
        #expect(safety.thermal.resume == Celsius(45))
        #expect(safety.policy.onLinkLoss == .pause)
        #expect(safety.policy.latchOnUncleanRestart == false)
        #expect(safety.inputs == SafetySettings.Inputs(interlock: false, stopButton: true, emissionSense: true))
    }

    @Test func defaults_mapToTheSafetyCoresDefaults() {
        #expect(ConfigLoader.default().safety == SafetySettings())
    }
}
