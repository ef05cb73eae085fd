import GatewayConfig
import SafetyCore
import Testing

/// `safety:` and `commands:`: the rule timings and admission limits the first version of the config
/// did not name, configurable within bounds.
@Suite("safety and commands sections")
struct SafetyTuningTests {
    @Test func tuningValues_reachTheSafetyCore() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                safety:
                  sensor_invalid_readings: 5
                  sensor_stale_s: 2
                  heating_watch_s: 60
                  heating_min_rise_c: 0.5
                  heating_steady_margin_c: 10
                  runaway_c_per_s: 2
                  output_mismatch_s: 0.5
                commands: {max_bytes: 2048, rate_per_s: 20, burst: 40}
                gpio: {outputs: {master: null}}
                """)
        let safety = config.safety
        #expect(safety.thermal.invalidReadingsBeforeFault == 5)
        #expect(safety.thermal.staleAfterSeconds == 2)
        #expect(safety.thermal.heatingWatchSeconds == 60)
        #expect(safety.thermal.minimumRise == 0.5)
        #expect(safety.thermal.steadyStateMargin == 10)
        #expect(safety.thermal.runawayRatePerSecond == 2)
        #expect(safety.policy.outputMismatchSeconds == 0.5)
        #expect(safety.maxCommandBytes == 2048)
        #expect(safety.rateLimit == SafetySettings.RateLimit(perSecond: 20, burst: 40))
        #expect(safety.hasMasterRelay == false)
    }

    @Test func defaults_matchTheCore() {
        let safety = ConfigLoader.default().safety
        let core = SafetySettings()
        #expect(safety.thermal == core.thermal)
        #expect(safety.rateLimit == core.rateLimit)
        #expect(safety.maxCommandBytes == core.maxCommandBytes)
    }

    @Test(arguments: [
        ("safety.sensor_stale_s", "safety: {sensor_stale_s: 120}"),
        ("safety.sensor_stale_s", "safety: {sensor_stale_s: 0.2}\nsensor: {type: simulated, interval_ms: 250}"),
        ("safety.sensor_invalid_readings", "safety: {sensor_invalid_readings: 0}"),
        ("safety.output_mismatch_s", "safety: {output_mismatch_s: 30}"),
        ("commands.max_bytes", "commands: {max_bytes: 10000000}"),
        ("commands.burst", "commands: {burst: 0}"),
        ("safety.heating_watch_s", "safety: {heating_watch_s: \"long\"}"),
    ])
    func outOfBoundValues_areRefusedWithTheirKeyPath(keyPath: String, yaml: String) {
        let found = problems(yaml)
        #expect(!messages(found, at: keyPath).isEmpty, "\(found)")
    }

    @Test func unknownTuningKey_isAProblem() {
        #expect(!messages(problems("safety: {stale_s: 3}"), at: "safety.stale_s").isEmpty)
    }
}
