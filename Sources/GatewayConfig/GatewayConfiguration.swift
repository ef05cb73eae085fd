import SafetyCore

/// The gateway's whole configuration, typed and validated.
///
/// Built by ``ConfigLoader`` from the YAML file plus `--set` overrides; every key of docs/DESIGN.md's
/// "Configuration" section maps to one property here, with the same meaning and default.
public struct GatewayConfiguration: Sendable, Hashable {
    public var device: DeviceSettings
    public var mqtt: MQTTSettings
    public var gpio: GPIOSettings
    public var sensor: SensorSettings
    public var channels: ChannelsSettings
    public var presets: PresetSettings
    public var limits: LimitSettings
    public var policy: PolicySettings
    public var telemetry: TelemetrySettings
    public var storage: StorageSettings
    public var logging: LoggingSettings
    public var safetyTuning: SafetyTuningSettings
    public var commands: CommandSettings

    public init(
        device: DeviceSettings = DeviceSettings(), mqtt: MQTTSettings = MQTTSettings(),
        gpio: GPIOSettings = GPIOSettings(), sensor: SensorSettings = SensorSettings(),
        channels: ChannelsSettings = ChannelsSettings(), presets: PresetSettings = PresetSettings(),
        limits: LimitSettings = LimitSettings(), policy: PolicySettings = PolicySettings(),
        telemetry: TelemetrySettings = TelemetrySettings(), storage: StorageSettings = StorageSettings(),
        logging: LoggingSettings = LoggingSettings(), safetyTuning: SafetyTuningSettings = SafetyTuningSettings(),
        commands: CommandSettings = CommandSettings()
    ) {
        self.device = device
        self.mqtt = mqtt
        self.gpio = gpio
        self.sensor = sensor
        self.channels = channels
        self.presets = presets
        self.limits = limits
        self.policy = policy
        self.telemetry = telemetry
        self.storage = storage
        self.logging = logging
        self.safetyTuning = safetyTuning
        self.commands = commands
    }

    /// `<mqtt.prefix>/<device.id>`: every topic of this panel lives under it.
    public var baseTopic: String { "\(self.mqtt.prefix)/\(self.device.id)" }

    /// The broker password from `mqtt.password_file` or `RLT_MQTT_PASSWORD`.
    ///
    /// See ``MQTTSettings/resolvedPassword(environment:)``.
    public func resolvedPassword(environment: [String: String]) throws -> String? {
        try self.mqtt.resolvedPassword(environment: environment)
    }
}

extension GatewayConfiguration {
    /// What the safety core needs, derived from the validated config.
    ///
    /// A channel is dimmable exactly when its output has PWM; an input counts as wired exactly when
    /// it is configured. Settings the config does not expose (rate limit, sensor health timings)
    /// keep ``SafetySettings``'s defaults.
    public var safety: SafetySettings {
        SafetySettings(
            irradianceMWPerCm2: PerChannel(
                red: self.channels.red.irradianceMWPerCm2, nir: self.channels.nir.irradianceMWPerCm2),
            dimmable: PerChannel(red: self.gpio.outputs.red.pwm != nil, nir: self.gpio.outputs.nir.pwm != nil),
            presets: SafetySettings.Presets(
                channels: self.presets.channels,
                intensityPercent: self.presets.intensityPercent,
                durationSeconds: self.presets.durationSeconds,
                doseTarget: self.presets.doseJPerCm2.map { Dose(joulesPerCm2: $0) }
            ),
            limits: SafetySettings.Limits(
                maxSessionSeconds: self.limits.maxSessionSeconds,
                maxSessionDose: Dose(joulesPerCm2: self.limits.maxSessionDoseJPerCm2),
                maxDailyDose: Dose(joulesPerCm2: self.limits.maxDailyDoseJPerCm2),
                maxDailySessions: self.limits.maxDailySessions,
                cooldownSeconds: self.limits.cooldownSeconds
            ),
            thermal: SafetySettings.Thermal(
                warn: Celsius(self.limits.warnC), cutoff: Celsius(self.limits.cutoffC),
                resume: Celsius(self.limits.resumeC),
                invalidReadingsBeforeFault: self.safetyTuning.sensorInvalidReadings,
                staleAfterSeconds: self.safetyTuning.sensorStaleSeconds,
                heatingWatchSeconds: self.safetyTuning.heatingWatchSeconds,
                minimumRise: self.safetyTuning.heatingMinimumRiseC,
                steadyStateMargin: self.safetyTuning.heatingSteadyMarginC,
                runawayRatePerSecond: self.safetyTuning.runawayCPerSecond
            ),
            policy: SafetySettings.Policy(
                onLinkLoss: self.policy.onLinkLoss, latchOnUncleanRestart: self.policy.latchOnUncleanRestart,
                outputMismatchSeconds: self.safetyTuning.outputMismatchSeconds
            ),
            rateLimit: SafetySettings.RateLimit(
                perSecond: self.commands.ratePerSecond, burst: Double(self.commands.burst)),
            inputs: SafetySettings.Inputs(
                interlock: self.gpio.inputs.interlock != nil,
                stopButton: self.gpio.inputs.stopButton != nil,
                emissionSense: self.gpio.inputs.emissionSense != nil
            ),
            maxCommandBytes: self.commands.maxBytes,
            hasMasterRelay: self.gpio.outputs.master != nil,
            // What the file alone says; a key from the systemd credential can also switch it on, which
            // only ``resolvedSigning(environment:)`` sees (the daemon uses that one).
            signing: SafetySettings.Signing(
                required: self.commands.signing.required ?? (self.commands.signing.keyFile != nil),
                replayWindowSeconds: self.commands.signing.replayWindowSeconds)
        )
    }
}
