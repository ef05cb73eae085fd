import SafetyCore

/// Session, daily and thermal limits (S1–S5), each within ``SafetyCore/HardLimits``.
public struct LimitSettings: Sendable, Hashable {
    public var maxSessionSeconds: Double
    public var maxSessionDoseJPerCm2: Double
    /// Rolling 24 h.
    public var maxDailyDoseJPerCm2: Double
    /// Rolling 24 h.
    public var maxDailySessions: Int
    public var cooldownSeconds: Double
    /// A warning event above this temperature.
    public var warnC: Double
    /// Emission off and `F_OVERTEMP` latched at or above this temperature.
    public var cutoffC: Double
    /// The temperature a panel must cool below before a new session or an `ack` of `F_OVERTEMP`.
    public var resumeC: Double

    public init(
        maxSessionSeconds: Double = SafetySettings.defaults.limits.maxSessionSeconds,
        maxSessionDoseJPerCm2: Double = SafetySettings.defaults.limits.maxSessionDose.joulesPerCm2,
        maxDailyDoseJPerCm2: Double = SafetySettings.defaults.limits.maxDailyDose.joulesPerCm2,
        maxDailySessions: Int = SafetySettings.defaults.limits.maxDailySessions,
        cooldownSeconds: Double = SafetySettings.defaults.limits.cooldownSeconds,
        warnC: Double = SafetySettings.defaults.thermal.warn.value,
        cutoffC: Double = SafetySettings.defaults.thermal.cutoff.value,
        resumeC: Double = SafetySettings.defaults.thermal.resume.value
    ) {
        self.maxSessionSeconds = maxSessionSeconds
        self.maxSessionDoseJPerCm2 = maxSessionDoseJPerCm2
        self.maxDailyDoseJPerCm2 = maxDailyDoseJPerCm2
        self.maxDailySessions = maxDailySessions
        self.cooldownSeconds = cooldownSeconds
        self.warnC = warnC
        self.cutoffC = cutoffC
        self.resumeC = resumeC
    }
}
