/// A latched fault code, as published in `state.faults` and named by `ack` (docs/DESIGN.md).
///
/// A fault switches emission off when raised and stays latched until acknowledged with its
/// condition gone; acknowledging never starts emission.
public enum FaultCode: String, CaseIterable, Hashable, Sendable, Codable, Comparable {
    case overTemperature = "F_OVERTEMP"
    case sensorInvalid = "F_SENSOR_INVALID"
    case sensorStale = "F_SENSOR_STALE"
    case thermalImplausible = "F_THERMAL_IMPLAUSIBLE"
    case outputMismatch = "F_OUTPUT_MISMATCH"
    case interlockWiring = "F_INTERLOCK_WIRING"
    case uncleanShutdown = "F_UNCLEAN_SHUTDOWN"
    case storage = "F_STORAGE"
    case `internal` = "F_INTERNAL"

    public static func < (lhs: FaultCode, rhs: FaultCode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A stable response code of the command contract. `ok` responses carry no code.
public enum ResponseCode: String, CaseIterable, Hashable, Sendable, Codable {
    case json = "E_JSON"
    case schema = "E_SCHEMA"
    case unknownCommand = "E_UNKNOWN_CMD"
    case range = "E_RANGE"
    case state = "E_STATE"
    case interlock = "E_INTERLOCK"
    case overTemperature = "E_OVERTEMP"
    case faultActive = "E_FAULT_ACTIVE"
    case cooldown = "E_COOLDOWN"
    case doseLimit = "E_DOSE_LIMIT"
    case retained = "E_RETAINED"
    case stale = "E_STALE"
    case rate = "E_RATE"
    case tooLarge = "E_TOO_LARGE"
    case notAllowed = "E_NOT_ALLOWED"
    /// Signing is required and the command carries no `sig` (or lacks the `ts`/`ttl_ms` it signs).
    case unsigned = "E_UNSIGNED"
    /// Signing is required and `sig` does not match this panel's key and the command as received.
    case signature = "E_SIGNATURE"
    /// A correctly signed command that was already seen within the replay window.
    case replay = "E_REPLAY"
    /// The ledger could not record what the command needs (a session is written before emission
    /// starts): the command had no effect and `F_STORAGE` is latched.
    case storage = "E_STORAGE"
    case `internal` = "E_INTERNAL"
}
