import SafetyCore

/// Sensor-health, heating-plausibility and output-plausibility timings (S6–S9): `safety:`.
///
/// Not in the first version of the config; added so that every rule is configurable within hard
/// bounds (docs/DESIGN.md, "Safety rules"). The defaults are the README rule table's.
public struct SafetyTuningSettings: Sendable, Hashable {
    /// S6: consecutive invalid readings before `F_SENSOR_INVALID`.
    public var sensorInvalidReadings: Int
    /// S7: seconds without a valid sample before emission off and `F_SENSOR_STALE`.
    public var sensorStaleSeconds: Double
    /// S8: with emission on, the panel must warm by `heatingMinimumRiseC` within this period…
    public var heatingWatchSeconds: Double
    public var heatingMinimumRiseC: Double
    /// …unless it is already within this many °C of the cutoff (near steady state).
    public var heatingSteadyMarginC: Double
    /// S8: a rise faster than this is a thermal runaway.
    public var runawayCPerSecond: Double
    /// S9: readback disagreeing with the command for this long latches `F_OUTPUT_MISMATCH`.
    public var outputMismatchSeconds: Double

    public init(
        sensorInvalidReadings: Int = SafetySettings.defaults.thermal.invalidReadingsBeforeFault,
        sensorStaleSeconds: Double = SafetySettings.defaults.thermal.staleAfterSeconds,
        heatingWatchSeconds: Double = SafetySettings.defaults.thermal.heatingWatchSeconds,
        heatingMinimumRiseC: Double = SafetySettings.defaults.thermal.minimumRise,
        heatingSteadyMarginC: Double = SafetySettings.defaults.thermal.steadyStateMargin,
        runawayCPerSecond: Double = SafetySettings.defaults.thermal.runawayRatePerSecond,
        outputMismatchSeconds: Double = SafetySettings.defaults.policy.outputMismatchSeconds
    ) {
        self.sensorInvalidReadings = sensorInvalidReadings
        self.sensorStaleSeconds = sensorStaleSeconds
        self.heatingWatchSeconds = heatingWatchSeconds
        self.heatingMinimumRiseC = heatingMinimumRiseC
        self.heatingSteadyMarginC = heatingSteadyMarginC
        self.runawayCPerSecond = runawayCPerSecond
        self.outputMismatchSeconds = outputMismatchSeconds
    }
}

/// Command admission (S14, S15): `commands:`.
public struct CommandSettings: Sendable, Hashable {
    /// Largest accepted command payload in bytes; larger ones get `E_TOO_LARGE`.
    public var maxBytes: Int
    /// Token bucket refill rate (commands per second); `stop` and `get` always pass.
    public var ratePerSecond: Double
    /// Token bucket size: how many commands may arrive at once.
    public var burst: Int
    /// Signed commands (`commands.signing`); off unless a key is configured.
    public var signing: SigningSettings

    public init(
        maxBytes: Int = SafetySettings.defaults.maxCommandBytes, ratePerSecond: Double = SafetySettings.defaults.rateLimit.perSecond,
        burst: Int = Int(SafetySettings.defaults.rateLimit.burst), signing: SigningSettings = SigningSettings()
    ) {
        self.maxBytes = maxBytes
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.signing = signing
    }
}

/// `commands.signing`: where the panel's command key lives and whether commands must carry a signature.
///
/// The key itself is a secret and never sits in the YAML (see ``GatewayConfiguration/resolvedSigning(environment:)``).
public struct SigningSettings: Sendable, Hashable {
    /// `key_file`: a file holding the key as hex or base64, at least 32 bytes decoded.
    public var keyFile: String?
    /// `required`; `nil` (absent) means "required exactly when a key is found".
    public var required: Bool?
    /// `replay_window_s`: how far a signed command's `ts` may be from the panel's clock.
    public var replayWindowSeconds: Double

    public init(
        keyFile: String? = nil, required: Bool? = nil,
        replayWindowSeconds: Double = SafetySettings.defaults.signing.replayWindowSeconds
    ) {
        self.keyFile = keyFile
        self.required = required
        self.replayWindowSeconds = replayWindowSeconds
    }
}
