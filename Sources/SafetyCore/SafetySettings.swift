/// Everything the safety core needs to know about the panel and its limits.
///
/// Built from the validated YAML config by ``GatewayConfig``; the core trusts these values to be
/// within ``HardLimits`` (validation is the config's job), but still clamps where a bad value could
/// turn emission on.
public struct SafetySettings: Hashable, Sendable {
    /// Calibrated irradiance at the treatment distance, 100 % intensity, per channel.
    public var irradianceMWPerCm2: PerChannel<Double>
    /// Whether a channel can dim (has PWM); without it only 100 % is accepted.
    public var dimmable: PerChannel<Bool>
    public var presets: Presets
    public var limits: Limits
    public var thermal: Thermal
    public var policy: Policy
    public var rateLimit: RateLimit
    /// Which optional inputs are wired.
    public var inputs: Inputs
    /// Largest accepted command payload (S14).
    public var maxCommandBytes: Int
    /// Whether a master relay is wired; without one, `OutputReadback.master` is not compared (S9).
    public var hasMasterRelay: Bool
    /// Whether commands must be signed, and for how long a signed command stays fresh.
    public var signing: Signing

    /// Every default in one place: the config's defaults are read from here, never written again.
    public static let defaults = SafetySettings()

    public init(
        irradianceMWPerCm2: PerChannel<Double> = PerChannel(red: 50, nir: 40),
        dimmable: PerChannel<Bool> = PerChannel(red: false, nir: false),
        presets: Presets = Presets(),
        limits: Limits = Limits(),
        thermal: Thermal = Thermal(),
        policy: Policy = Policy(),
        rateLimit: RateLimit = RateLimit(),
        inputs: Inputs = Inputs(),
        maxCommandBytes: Int = 4096,
        hasMasterRelay: Bool = true,
        signing: Signing = Signing()
    ) {
        self.irradianceMWPerCm2 = irradianceMWPerCm2
        self.dimmable = dimmable
        self.presets = presets
        self.limits = limits
        self.thermal = thermal
        self.policy = policy
        self.rateLimit = rateLimit
        self.inputs = inputs
        self.maxCommandBytes = maxCommandBytes
        self.hasMasterRelay = hasMasterRelay
        self.signing = signing
    }

    /// Signed commands (`commands.signing`): the rule only; the key stays with the shell that checks `sig`.
    public struct Signing: Hashable, Sendable {
        /// Every command but `stop` must carry a valid `sig` over `ts` and `ttl_ms`.
        public var required: Bool
        /// A signed command's `ts` must lie within this many seconds of the gateway's wall clock, either
        /// way, and its signature is remembered this long so a copy is refused (`E_REPLAY`).
        public var replayWindowSeconds: Double

        public init(required: Bool = false, replayWindowSeconds: Double = 30) {
            self.required = required
            self.replayWindowSeconds = replayWindowSeconds
        }
    }

    /// What `start` uses for arguments it does not give; changed by `set`, persisted by the shell.
    public struct Presets: Hashable, Sendable {
        public var channels: ChannelSelection
        public var intensityPercent: Double
        public var durationSeconds: Double
        public var doseTarget: Dose?

        public init(
            channels: ChannelSelection = .both, intensityPercent: Double = 100, durationSeconds: Double = 600,
            doseTarget: Dose? = nil
        ) {
            self.channels = channels
            self.intensityPercent = intensityPercent
            self.durationSeconds = durationSeconds
            self.doseTarget = doseTarget
        }
    }

    /// Session and daily limits (S1–S4).
    public struct Limits: Hashable, Sendable {
        public var maxSessionSeconds: Double
        public var maxSessionDose: Dose
        public var maxDailyDose: Dose
        public var maxDailySessions: Int
        public var cooldownSeconds: Double

        public init(
            maxSessionSeconds: Double = 1200, maxSessionDose: Dose = Dose(joulesPerCm2: 60),
            maxDailyDose: Dose = Dose(joulesPerCm2: 120), maxDailySessions: Int = 3, cooldownSeconds: Double = 120
        ) {
            self.maxSessionSeconds = maxSessionSeconds
            self.maxSessionDose = maxSessionDose
            self.maxDailyDose = maxDailyDose
            self.maxDailySessions = maxDailySessions
            self.cooldownSeconds = cooldownSeconds
        }
    }

    /// Thermal protection and sensor health (S5–S8).
    public struct Thermal: Hashable, Sendable {
        public var warn: Celsius
        public var cutoff: Celsius
        public var resume: Celsius
        /// Plausible sensor range; readings outside count as invalid (S6).
        public var validRange: ClosedRange<Double>
        /// Consecutive invalid readings before `F_SENSOR_INVALID` (S6).
        public var invalidReadingsBeforeFault: Int
        /// No valid sample for this long: emission off and `F_SENSOR_STALE` (S7).
        public var staleAfterSeconds: Double
        /// With emission on, the temperature must rise by `minimumRise` within this period (S8)…
        public var heatingWatchSeconds: Double
        public var minimumRise: Double
        /// …unless it is already within this margin of the cutoff's steady state (near steady state).
        public var steadyStateMargin: Double
        /// A rise faster than this (°C/s) is a runaway (S8).
        public var runawayRatePerSecond: Double
        /// The runaway rate is measured over at least this long, so sensor noise between two
        /// 250 ms samples is not mistaken for a runaway (S8).
        public var runawayWindowSeconds: Double
        /// The warning fires again only after the temperature fell this far below `warn` (S5).
        public var warnHysteresis: Double

        public init(
            warn: Celsius = Celsius(55), cutoff: Celsius = Celsius(65), resume: Celsius = Celsius(50),
            validRange: ClosedRange<Double> = -20...125, invalidReadingsBeforeFault: Int = 3,
            staleAfterSeconds: Double = 3, heatingWatchSeconds: Double = 120, minimumRise: Double = 1,
            steadyStateMargin: Double = 15, runawayRatePerSecond: Double = 1, runawayWindowSeconds: Double = 2,
            warnHysteresis: Double = 2
        ) {
            self.warn = warn
            self.cutoff = cutoff
            self.resume = resume
            self.validRange = validRange
            self.invalidReadingsBeforeFault = invalidReadingsBeforeFault
            self.staleAfterSeconds = staleAfterSeconds
            self.heatingWatchSeconds = heatingWatchSeconds
            self.minimumRise = minimumRise
            self.steadyStateMargin = steadyStateMargin
            self.runawayRatePerSecond = runawayRatePerSecond
            self.runawayWindowSeconds = runawayWindowSeconds
            self.warnHysteresis = warnHysteresis
        }
    }

    /// What to do when the MQTT link drops mid-session (S12).
    public enum LinkLossPolicy: String, Hashable, Sendable, CaseIterable {
        case `continue`, pause, stop
    }

    public struct Policy: Hashable, Sendable {
        public var onLinkLoss: LinkLossPolicy
        /// Latch `F_UNCLEAN_SHUTDOWN` when the previous run left a session open (S13).
        public var latchOnUncleanRestart: Bool
        /// Output readback disagreeing for this long raises `F_OUTPUT_MISMATCH` (S9).
        public var outputMismatchSeconds: Double
        /// A running session records its progress this often, so a crash loses at most this much
        /// of the ledger's account (the ledger books the plan's ceiling for an open session anyway).
        public var checkpointIntervalSeconds: Double

        public init(
            onLinkLoss: LinkLossPolicy = .continue, latchOnUncleanRestart: Bool = true,
            outputMismatchSeconds: Double = 1, checkpointIntervalSeconds: Double = 5
        ) {
            self.onLinkLoss = onLinkLoss
            self.latchOnUncleanRestart = latchOnUncleanRestart
            self.outputMismatchSeconds = outputMismatchSeconds
            self.checkpointIntervalSeconds = checkpointIntervalSeconds
        }
    }

    /// Token bucket for commands (S15); `stop` and `get` always pass.
    public struct RateLimit: Hashable, Sendable {
        public var perSecond: Double
        public var burst: Double

        public init(perSecond: Double = 5, burst: Double = 10) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    /// Which optional inputs are configured.
    public struct Inputs: Hashable, Sendable {
        public var interlock: Bool
        public var stopButton: Bool
        public var emissionSense: Bool

        public init(interlock: Bool = true, stopButton: Bool = false, emissionSense: Bool = false) {
            self.interlock = interlock
            self.stopButton = stopButton
            self.emissionSense = emissionSense
        }
    }
}

/// The bounds the config may not leave, whatever a user writes (docs/DESIGN.md: "configurable within
/// hard bounds"). `set` may lower a limit, never raise it above the config.
public enum HardLimits {
    public static let maxSessionSeconds: Double = 3600
    public static let maxSessionDose = Dose(joulesPerCm2: 200)
    public static let maxDailyDose = Dose(joulesPerCm2: 400)
    public static let maxDailySessions = 10
    public static let minCooldownSeconds: Double = 0
    public static let maxCutoff = Celsius(85)
    public static let maxStaleAfterSeconds: Double = 30
}
