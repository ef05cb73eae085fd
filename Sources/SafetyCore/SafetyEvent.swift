/// The machine's states, as published in `state.state`.
public enum SessionState: String, CaseIterable, Hashable, Sendable, Codable {
    case idle, running, paused, cooldown, fault
}

/// One temperature sample as the sensor adapter saw it.
public enum TemperatureReading: Hashable, Sendable {
    case valid(Celsius)
    /// A read error, garbage, NaN or a CRC failure; the text says which (S6).
    case invalid(String)
}

/// The digital inputs the core listens to.
public enum InputLine: String, Hashable, Sendable, CaseIterable {
    /// Normally closed safety loop; `active == true` means closed (safe).
    case interlock
    /// Local stop button; `active == true` means pressed.
    case stopButton
    /// Optional photodiode / current sense; `active == true` means light is being emitted.
    case emissionSense
}

/// Levels read back from the output lines after a set (S9).
public struct OutputReadback: Hashable, Sendable {
    public var red: Bool
    public var nir: Bool
    public var master: Bool

    public init(red: Bool, nir: Bool, master: Bool) {
        self.red = red
        self.nir = nir
        self.master = master
    }

    public static let off = OutputReadback(red: false, nir: false, master: false)
    public var anyOn: Bool { self.red || self.nir || self.master }
}

/// Light delivered in the past, and the sessions that ended then, as the ledger remembers them for the
/// rolling 24 h window (S3).
///
/// The window counts light by when it was **delivered**, not by when its session started: the ledger
/// returns one entry per recorded slice of delivered dose (`sessions` 0) and one per session at its
/// last light (`sessions` 1, usually with dose 0). An entry built with the old two-argument
/// initialiser means "a whole session, all its light delivered `ageSeconds` ago".
public struct DoseHistoryEntry: Hashable, Sendable {
    /// How long ago (wall clock) this light was delivered; converted once at boot onto the monotonic
    /// clock. The ledger makes it err low (recent) when the wall clock cannot be trusted.
    public var ageSeconds: Double
    public var dose: Dose
    /// How many sessions delivered their last light at this point (the 24 h session count).
    public var sessions: Int

    public init(ageSeconds: Double, dose: Dose, sessions: Int = 1) {
        self.ageSeconds = ageSeconds
        self.dose = dose
        self.sessions = sessions
    }
}

/// What the shell knows at boot (S3, S13).
public struct BootContext: Hashable, Sendable {
    /// Light and sessions of the last 24 h by delivery time, including a session closed at this boot as
    /// `aborted(unclean_shutdown)` (its unrecorded light booked at recovery, the latest it can have been).
    public var history: [DoseHistoryEntry]
    /// The id of a session the previous run left open, already closed by the ledger with a
    /// conservative dose; its presence latches `F_UNCLEAN_SHUTDOWN` when the policy says so.
    public var uncleanSessionID: String?
    /// Presets persisted by an earlier `set`, if any.
    public var persistedPresets: SafetySettings.Presets?
    /// How long ago (wall clock) the newest session ended, so a restart does not cut the cooldown
    /// short (S4); `nil` when the ledger holds no session. The ledger measures it from the earlier of
    /// the clock and its newest record, so a wall clock that jumped forward cannot shorten the rest.
    public var lastSessionEndedAgeSeconds: Double?
    /// The ledger's lifetime totals after recovery. No rule reads them: they ride along so the shell
    /// publishes them from its first state document on.
    public var lifetime: LifetimeTotals

    public init(
        history: [DoseHistoryEntry] = [], uncleanSessionID: String? = nil,
        persistedPresets: SafetySettings.Presets? = nil, lastSessionEndedAgeSeconds: Double? = nil,
        lifetime: LifetimeTotals = .zero
    ) {
        self.history = history
        self.uncleanSessionID = uncleanSessionID
        self.persistedPresets = persistedPresets
        self.lastSessionEndedAgeSeconds = lastSessionEndedAgeSeconds
        self.lifetime = lifetime
    }
}

/// Everything the ledger has ever booked: the dose of every slice (sessions and light outside them,
/// a crashed session's conservative ceiling included) and every second of emission a session
/// recorded. Retention deletes rows but never reduces these, so they only grow; Home Assistant's
/// long-term statistics (`total_increasing`) rely on that.
public struct LifetimeTotals: Hashable, Sendable {
    public var dose: Dose
    public var emittingSeconds: Double

    public init(dose: Dose, emittingSeconds: Double) {
        self.dose = dose
        self.emittingSeconds = emittingSeconds
    }

    public static let zero = LifetimeTotals(dose: .zero, emittingSeconds: 0)
}

/// Everything that can happen to the machine. Time is never read inside: it comes with `now`.
public enum SafetyEvent: Hashable, Sendable {
    /// The first event after construction.
    case boot(BootContext)
    case command(CommandEnvelope)
    /// The control tick (a few per second): session end, timeouts, dose integration.
    case tick
    case temperature(TemperatureReading)
    case outputReadback(OutputReadback)
    case input(InputLine, active: Bool)
    case linkChanged(connected: Bool)
    /// The ledger could not write; history can no longer be trusted (`F_STORAGE`).
    case storageFailed(String)
    /// The ledger could not record what `command` needed before it could act (the `sessionOpened`
    /// that precedes a turn-on). The shell performed none of that command's actions after the
    /// failed record: no turn-on, no response, no notice. The core latches `F_STORAGE` and answers
    /// the command with `E_STORAGE` instead, so the client never hears `ok` for a session that
    /// never ran.
    case commandNotRecorded(CommandEnvelope, reason: String)
    /// An input line can no longer be read (the edge thread's wait or read fails). Its level is
    /// unknown, so it counts at its unsafe level: an interlock counts as open, and
    /// `F_INTERLOCK_WIRING` latches until a reading comes again and the fault is acknowledged.
    case inputFailed(InputLine, reason: String)
    /// SIGTERM / SIGINT: emission off, close the session.
    case shutdown
}
