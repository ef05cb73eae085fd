import SafetyCore

/// Behaviour on MQTT link loss (S12) and after an unclean restart (S13).
public struct PolicySettings: Sendable, Hashable {
    public var onLinkLoss: SafetySettings.LinkLossPolicy
    public var latchOnUncleanRestart: Bool

    public init(
        onLinkLoss: SafetySettings.LinkLossPolicy = SafetySettings.defaults.policy.onLinkLoss,
        latchOnUncleanRestart: Bool = SafetySettings.defaults.policy.latchOnUncleanRestart
    ) {
        self.onLinkLoss = onLinkLoss
        self.latchOnUncleanRestart = latchOnUncleanRestart
    }
}

/// How often `<base>/tele` is published.
public struct TelemetrySettings: Sendable, Hashable {
    public var runningIntervalSeconds: Double
    public var idleIntervalSeconds: Double

    public init(runningIntervalSeconds: Double = 1, idleIntervalSeconds: Double = 30) {
        self.runningIntervalSeconds = runningIntervalSeconds
        self.idleIntervalSeconds = idleIntervalSeconds
    }
}

/// The SQLite ledger of sessions and doses.
public struct StorageSettings: Sendable, Hashable {
    public var path: String
    /// Sessions older than this are pruned; the rolling 24 h window needs at least 1.
    public var retentionDays: Int

    public init(path: String = "/var/lib/rlt-gateway/ledger.sqlite", retentionDays: Int = 365) {
        self.path = path
        self.retentionDays = retentionDays
    }
}

/// Log verbosity; the level names match swift-log's `Logger.Level` raw values.
public struct LoggingSettings: Sendable, Hashable {
    public enum Level: String, Sendable, Hashable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public var level: Level

    public init(level: Level = .info) {
        self.level = level
    }
}
