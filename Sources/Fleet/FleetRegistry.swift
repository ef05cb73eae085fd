import GatewayProtocol
import SafetyCore

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
        // Read with the contract's own decoders: a document that is not what the gateway writes
        // changes nothing and is counted, never half applied.
        let document: Document
        do {
            switch kind {
            case .status: document = .status(try StatusDocument(json: value))
            case .state, .telemetry: document = .state(try StateDocument(json: value))
            case .event: document = .event(try EventDocument(json: value))
            case .info:
                _ = try InfoDocument(json: value)
                document = .other
            case .diagnostics:
                _ = try DiagnosticsDocument(json: value)
                document = .other
            case .response, .command: document = .other
            }
        } catch {
            self.invalidMessages += 1
            return false
        }
        var record = self.panels[device] ?? PanelRecord(device: device)
        let before = record
        record.counters.messages += 1
        if let stamp = Self.sighting(value["ts"], now: now) {
            record.lastSeen = max(record.lastSeen ?? 0, stamp)
        } else if !retained {
            record.lastSeen = now
        }
        switch document {
        case .status(let status): Self.applyStatus(status, to: &record)
        case .state(let state): Self.applyState(state, to: &record, retained: retained)
        case .event(let event): Self.applyEvent(event, to: &record, retained: retained)
        case .other: break
        }
        self.panels[device] = record
        var comparable = before
        comparable.counters.messages = record.counters.messages
        return comparable != record
    }

    /// A message's own stamp (`ts`, unix ms) in seconds, never later than `now`: one message stamped
    /// ahead of the monitor's clock (a panel whose clock is wrong, or anyone who may publish; the
    /// fleet-registry fuzz target sent `ts: 1.4e141`) would otherwise pin "last seen" in the future,
    /// and the panel would never look silent again. `nil` when `ts` is missing or negative.
    static func sighting(_ ts: JSONValue?, now: Double) -> Double? {
        guard let milliseconds = ts?.numberValue, milliseconds.isFinite, milliseconds >= 0 else { return nil }
        return min(milliseconds / 1000, now)
    }

    /// The records sorted by device id.
    public var sortedPanels: [PanelRecord] {
        self.panels.values.sorted { $0.device < $1.device }
    }

    private enum Document {
        case status(StatusDocument)
        case state(StateDocument)
        case event(EventDocument)
        case other
    }

    static func applyStatus(_ status: StatusDocument, to record: inout PanelRecord) {
        switch status {
        case .online(let bootID, let version):
            // A panel seen offline that comes back, or one that rebooted between two sightings
            // (its will may have been missed), has reconnected.
            if record.online == false || (record.online == true && record.bootID != nil && bootID != record.bootID) {
                record.counters.reconnects += 1
            }
            record.online = true
            record.offlineReason = nil
            record.bootID = bootID
            record.version = version
        case .offline(let reason):
            record.online = false
            record.offlineReason = reason
            record.emitting = nil
        }
    }

    static func applyState(_ state: StateDocument, to record: inout PanelRecord, retained: Bool) {
        record.state = state.state
        record.sessionID = state.sessionID
        record.remainingSeconds = state.remainingSeconds
        record.plannedSeconds = state.plannedSeconds
        record.elapsedSeconds = state.elapsedSeconds
        record.dose = state.dose
        record.dose24h = state.dose24h
        record.sessions24h = Double(state.sessions24h)
        record.temperatureC = state.temperatureC
        record.emitting = state.emitting
        record.interlock = state.interlock.rawValue
        record.faults = state.faults.map(\.rawValue)
        record.counters.delivered.observe(
            sessionID: state.sessionID, dose: state.dose.total, elapsedSeconds: state.elapsedSeconds)
        // A panel that publishes state live is connected, even if its retained status was missed; a
        // retained state alone may be the last word of a panel long gone.
        if record.online == nil, !retained { record.online = true }
    }

    static func applyEvent(_ event: EventDocument, to record: inout PanelRecord, retained: Bool) {
        record.lastEvent = event.kind.rawValue
        // Events are not retained by the gateway; a retained one is someone else's and is not counted.
        guard !retained else { return }
        switch event.event {
        case .sessionStarted: record.counters.sessionsStarted += 1
        case .completed(let end):
            record.counters.sessionsCompleted += 1
            Self.countEnd(end, in: &record)
        case .aborted(let end):
            record.counters.sessionsAborted += 1
            Self.countEnd(end, in: &record)
        case .faultRaised(let fault):
            record.counters.faultsRaised += 1
            if !record.faults.contains(fault.code.rawValue) { record.faults.append(fault.code.rawValue) }
        default: break
        }
    }

    /// A session's end event carries its final figures; the state published right after has no
    /// session any more, so without this the light between the last snapshot and the end (up to a
    /// telemetry interval) would never be counted.
    static func countEnd(_ end: EventDocument.End, in record: inout PanelRecord) {
        record.counters.delivered.observe(
            sessionID: end.sessionID, dose: end.dose.total, elapsedSeconds: end.elapsedSeconds)
    }
}
