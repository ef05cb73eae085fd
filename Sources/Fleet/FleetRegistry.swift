import GatewayProtocol

/// The fleet's current picture: one ``PanelRecord`` per device id, updated message by message.
///
/// A pure value: the shell hands it each message with the wall-clock time, so the rules below are
/// tested without a broker. It never forgets a panel: one that goes offline stays, marked offline,
/// so a dashboard shows the panel that vanished instead of quietly showing one row fewer.
///
/// "Last seen" uses the payload's own `ts` (unix ms) when there is one, because retained messages
/// replayed at subscribe time may be hours old; a retained message without `ts` does not count as
/// a sighting, a live one counts at its arrival time.
public struct FleetRegistry: Hashable, Sendable {
    public private(set) var panels: [String: PanelRecord] = [:]
    /// Messages on a panel topic whose payload was not a JSON object.
    public private(set) var invalidMessages = 0
    public private(set) var messages = 0

    public init() {}

    /// Folds one message into the picture. Returns whether anything a viewer shows changed.
    @discardableResult
    public mutating func apply(
        device: String, kind: FleetTopics.Kind, payload: [UInt8], retained: Bool, now: Double
    ) -> Bool {
        self.messages += 1
        guard let value = try? JSONValue.parse(payload), case .object = value else {
            self.invalidMessages += 1
            return false
        }
        var record = self.panels[device] ?? PanelRecord(device: device)
        let before = record
        record.counters.messages += 1
        if let ts = value["ts"]?.numberValue {
            record.lastSeen = max(record.lastSeen ?? 0, ts / 1000)
        } else if !retained {
            record.lastSeen = now
        }
        switch kind {
        case .status: Self.applyStatus(value, to: &record)
        case .state, .telemetry: Self.applyState(value, to: &record, retained: retained)
        case .event: Self.applyEvent(value, to: &record, retained: retained)
        case .response: break
        }
        self.panels[device] = record
        var comparable = before
        comparable.counters.messages = record.counters.messages
        return comparable != record
    }

    /// The records sorted by device id.
    public var sortedPanels: [PanelRecord] {
        self.panels.values.sorted { $0.device < $1.device }
    }

    static func applyStatus(_ value: JSONValue, to record: inout PanelRecord) {
        switch value["state"]?.stringValue {
        case "online":
            let bootID = value["boot_id"]?.stringValue
            // A panel seen offline that comes back, or one that rebooted between two sightings
            // (its will may have been missed), has reconnected.
            if record.online == false
                || (record.online == true && bootID != nil && record.bootID != nil && bootID != record.bootID)
            {
                record.counters.reconnects += 1
            }
            record.online = true
            record.offlineReason = nil
            record.bootID = bootID ?? record.bootID
            record.version = value["version"]?.stringValue ?? record.version
        case "offline":
            record.online = false
            record.offlineReason = value["reason"]?.stringValue ?? "unknown"
            record.emitting = nil
        default:
            break
        }
    }

    static func applyState(_ value: JSONValue, to record: inout PanelRecord, retained: Bool) {
        if let text = value["state"]?.stringValue {
            record.state = PanelRecord.State(rawValue: text) ?? .unknown
        }
        record.sessionID = value["session_id"]?.stringValue
        record.remainingSeconds = value["remaining_s"]?.numberValue
        record.plannedSeconds = value["planned_s"]?.numberValue
        record.elapsedSeconds = value["elapsed_s"]?.numberValue
        if let dose = value["dose_j_cm2"] {
            record.dose = PanelRecord.Dose(
                total: dose["total"]?.numberValue ?? 0, red: dose["red"]?.numberValue ?? 0,
                nir: dose["nir"]?.numberValue ?? 0)
        }
        record.dose24h = value["dose_24h_j_cm2"]?.numberValue
        record.sessions24h = value["sessions_24h"]?.numberValue
        record.temperatureC = value["temperature_c"]?.numberValue
        if case .bool(let emitting)? = value["emitting"] { record.emitting = emitting }
        record.interlock = value["interlock"]?.stringValue
        if case .array(let faults)? = value["faults"] {
            record.faults = faults.compactMap(\.stringValue)
        }
        // A panel that publishes state live is connected, even if its retained status was missed; a
        // retained state alone may be the last word of a panel long gone.
        if record.online == nil, !retained { record.online = true }
    }

    static func applyEvent(_ value: JSONValue, to record: inout PanelRecord, retained: Bool) {
        guard let name = value["event"]?.stringValue else { return }
        record.lastEvent = name
        // Events are not retained by the gateway; a retained one is someone else's and is not counted.
        guard !retained else { return }
        switch name {
        case "session_started": record.counters.sessionsStarted += 1
        case "completed": record.counters.sessionsCompleted += 1
        case "aborted": record.counters.sessionsAborted += 1
        case "fault_raised":
            record.counters.faultsRaised += 1
            if let fault = value["fault"]?.stringValue, !record.faults.contains(fault) {
                record.faults.append(fault)
            }
        default: break
        }
    }
}
