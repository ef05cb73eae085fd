import Gateway
import SafetyCore

/// Core defects of issue 12 (admission and dose accounting) that the simulator has its own checks for.
///
/// ``openOnThisBranch`` lists what is still tolerated by default; `rlt-sim --check DEFECT` and
/// `SIM_STRICT=1` count it anyway. Both are fixed; the wall clock's trust (defect 4) has no special
/// case: every run checks the window and the ledger against the truth whatever the clock did.
package enum KnownDefect: String, CaseIterable, Sendable, Hashable {
    /// Defect 1: a `stop` reusing an earlier `stop`'s id is replayed from the answer cache and does nothing.
    case stopReplay = "stop-replay"
    /// Defect 3: the 24 h window counts a session's dose at its start, not when the light was delivered.
    case doseWindowByStart = "dose-window-by-start"

    /// What this branch still tolerates (see the type's documentation).
    package static let openOnThisBranch: Set<KnownDefect> = []
}

/// The kinds of trouble the simulator injects, counted per run for the report.
package enum FaultKind: String, CaseIterable, Sendable, Hashable, Comparable {
    case gpioWriteError = "gpio-write-error"
    case gpioReadError = "gpio-read-error"
    case stuckLine = "stuck-line"
    case pwmWriteError = "pwm-write-error"
    case sensorError = "sensor-error"
    case sensorHang = "sensor-hang"
    case sensorWild = "sensor-wild"
    case sensorStuckValue = "sensor-stuck-value"
    case panelHot = "panel-hot"
    case storageError = "storage-error"
    case slowFsync = "slow-fsync"
    case stuckFsync = "stuck-fsync"
    case crash
    case wallStep = "wall-step"
    case wrongBootClock = "wrong-boot-clock"
    case unsyncedBootClock = "unsynced-boot-clock"
    case chatter
    case brokenWire = "broken-wire"
    case inputReadFailure = "input-read-failure"
    case stopButton = "stop-button"
    case duplicate
    case retained
    case reorder
    case burst
    case disconnect
    case stopReusedID = "stop-reused-id"
    case staleCommand = "stale-command"
    /// A session paused for a day and resumed, then heavy use (runs longer than the 24 h window).
    case longAbsence = "long-absence"

    package static func < (lhs: FaultKind, rhs: FaultKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One scripted happening of a named scenario, at a simulated time.
package struct ScriptStep: Sendable {
    package enum Action: Sendable {
        /// A command payload on the device's topic (or the fleet's), retained or not.
        case command(String, fleet: Bool = false, retained: Bool = false)
        case pwmWritesFail(Bool)
        case lineWritesFail(OutputRole, Bool)
        case ledger(SimulatedLedgerWriter.Mode)
        case interlock(closed: Bool)
        /// The interlock contact bounces faster than its debounce for this long, then settles closed.
        case chatter(seconds: Double)
        case inputReadsFail(Bool)
        case stopButton
        case crash
    }

    package var at: Double
    package var action: Action

    package init(at: Double, _ action: Action) {
        self.at = at
        self.action = action
    }
}

/// What one run is asked to do.
package struct SimulationOptions: Sendable {
    package var seed: UInt64
    /// Simulated seconds.
    package var duration: Double
    package var tolerated: Set<KnownDefect> = KnownDefect.openOnThisBranch
    /// Random faults and a random user; off for a scripted scenario.
    package var random = true
    package var script: [ScriptStep] = []
    /// Where the run's SQLite ledger lives (a RAM disk keeps `fsync` cheap).
    package var directory: String

    package init(seed: UInt64, duration: Double, directory: String) {
        self.seed = seed
        self.duration = duration
        self.directory = directory
    }
}

/// What one run found.
package struct SimulationResult: Sendable {
    package var seed: UInt64
    package var simulatedSeconds: Double = 0
    package var steps = 0
    package var checks = 0
    package var faults: [FaultKind: Int] = [:]
    package var sessions = 0
    package var litSeconds = 0.0
    /// J/cm² the ledger booked outside any session (S9's light), from its lifetime total.
    package var doseOutsideSessions = 0.0
    /// The first invariant that failed, with the simulated time.
    package var violation: String?
    /// The last answer to each command id (`ok` or its code); kept for scripted runs only.
    package var answers: [String: String] = [:]
    /// The last happenings before the end (or the violation), for reproducing by eye.
    package var trail: [String] = []
}
