import GatewayConfig
import Testing

/// Bounds that depend on another key are checked together with it, so no pair can switch a rule off.
@Suite("Dependent bounds")
struct DependentBoundsTests {
    @Test func heatingSteadyMargin_thatDisablesS8AtRoomTemperature_isAnError() {
        let found = problems("safety: {heating_steady_margin_c: 50}")
        let message = messages(found, at: "safety.heating_steady_margin_c")
        #expect(message.count == 1, "\(found)")
        #expect(message.first?.contains("cutoff_c 65") == true)
        #expect(message.first?.contains("use at most 15") == true)
    }

    @Test(arguments: [
        ("limits: {cutoff_c: 65, resume_c: 50}\nsafety: {heating_steady_margin_c: 15}", true),
        ("limits: {cutoff_c: 65, resume_c: 50}\nsafety: {heating_steady_margin_c: 16}", false),
        ("limits: {cutoff_c: 45, resume_c: 30, warn_c: 40}\nsafety: {heating_steady_margin_c: 9}", true),
        ("limits: {cutoff_c: 45, resume_c: 30, warn_c: 40}\nsafety: {heating_steady_margin_c: 10}", false),
        ("limits: {cutoff_c: 80, resume_c: 40, warn_c: 70}\nsafety: {heating_steady_margin_c: 40}", true),
    ])
    func heatingSteadyMargin_isCheckedAgainstCutoffResumeAndRoom(yaml: String, accepted: Bool) {
        let found = messages(problems(yaml), at: "safety.heating_steady_margin_c")
        #expect(found.isEmpty == accepted, "\(found)")
    }

    @Test func heatingSteadyMargin_isCheckedAgainstAnOverriddenCutoff() {
        let found = problems("{}", overrides: ["limits.cutoff_c=55", "limits.warn_c=52", "limits.resume_c=45"])
        #expect(messages(found, at: "safety.heating_steady_margin_c").count == 1, "\(found)")
    }

    @Test func heatingWatch_longerThanTheLongestSession_isAnError() {
        let found = problems("limits: {max_session_s: 300}\npresets: {duration_s: 300}\nsafety: {heating_watch_s: 301}")
        #expect(messages(found, at: "safety.heating_watch_s").count == 1, "\(found)")
        #expect(
            problems("limits: {max_session_s: 300}\npresets: {duration_s: 300}\nsafety: {heating_watch_s: 300}") == [])
    }

    @Test func sessionDoseLimit_aboveTheDailyLimit_isAnError() {
        let found = problems("limits: {max_session_dose_j_cm2: 150, max_daily_dose_j_cm2: 120}")
        let message = messages(found, at: "limits.max_session_dose_j_cm2")
        #expect(message.count == 1, "\(found)")
        #expect(message.first?.contains("use at most 120") == true)
    }

    @Test func warnAndResume_atOrAboveTheCutoff_areErrors() {
        let found = problems("limits: {cutoff_c: 60, warn_c: 60, resume_c: 61}")
        #expect(messages(found, at: "limits.warn_c").count == 1)
        #expect(messages(found, at: "limits.resume_c").count == 1)
    }

    @Test func staleTimeout_notLongerThanTheSensorInterval_isAnError() {
        let found = problems("sensor: {type: simulated, interval_ms: 2000}\nsafety: {sensor_stale_s: 2}")
        #expect(messages(found, at: "safety.sensor_stale_s").count == 1, "\(found)")
    }
}
