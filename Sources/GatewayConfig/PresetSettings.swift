import SafetyCore

/// What `start` uses for arguments it does not give. `set` changes them at run time.
public struct PresetSettings: Sendable, Hashable {
    public var channels: ChannelSelection
    public var intensityPercent: Double
    public var durationSeconds: Double
    /// Optional dose target that ends the session early; `nil` runs for the duration.
    public var doseJPerCm2: Double?

    public init(
        channels: ChannelSelection = SafetySettings.defaults.presets.channels,
        intensityPercent: Double = SafetySettings.defaults.presets.intensityPercent,
        durationSeconds: Double = SafetySettings.defaults.presets.durationSeconds,
        doseJPerCm2: Double? = SafetySettings.defaults.presets.doseTarget?.joulesPerCm2
    ) {
        self.channels = channels
        self.intensityPercent = intensityPercent
        self.durationSeconds = durationSeconds
        self.doseJPerCm2 = doseJPerCm2
    }
}
