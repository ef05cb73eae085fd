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
        maxSessionSeconds: Double = 1200, maxSessionDoseJPerCm2: Double = 60, maxDailyDoseJPerCm2: Double = 120,
        maxDailySessions: Int = 3, cooldownSeconds: Double = 120, warnC: Double = 55, cutoffC: Double = 65,
        resumeC: Double = 50
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
