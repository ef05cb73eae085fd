import Fleet
import GatewayProtocol
import SafetyCore

/// The gateway's own documents (GatewayProtocol's encoders), for feeding a registry.
enum Payload {
    static func online(boot: String = "b1", version: String = "0.1.0") -> [UInt8] {
        StatusDocument.online(bootID: boot, version: version).json.bytes
    }

    static func offline(_ reason: String = "connection_lost") -> [UInt8] {
        StatusDocument.offline(reason: reason).json.bytes
    }

    static func state(
        _ state: SessionState = .running, temperature: Double? = 31.5, total: Double = 1.25, remaining: Double = 90,
        faults: [FaultCode] = [], session: String? = "b1-1", elapsed: Double = 30, ts: Int64 = 1_700_000_000_000
    ) -> [UInt8] {
        StateDocument(
            state: state, sessionID: session, channels: .both, intensityPercent: 100, plannedSeconds: 120,
            elapsedSeconds: elapsed, remainingSeconds: remaining, dose: DoseDocument(total: total, red: 0.75, nir: 0.5),
            dose24h: 7.5, sessions24h: 2, temperatureC: temperature, emitting: state == .running, faults: faults,
            lifetime: LifetimeDocument(dose: 123.456, emittingSeconds: 4_321.5), unixMs: ts, seq: 4
        ).json.bytes
    }

    static func event(_ event: EventDocument.Event, ts: Int64 = 1_700_000_000_000) -> [UInt8] {
        EventDocument(event, unixMs: ts).json.bytes
    }

    static let started = EventDocument.Event.sessionStarted(
        .init(sessionID: "b1-1", channels: .both, intensityPercent: 100, plannedSeconds: 120))

    static func ended(
        _ reason: SessionEndReason, session: String = "b1-1", total: Double = 1.25, elapsed: Double = 120
    ) -> EventDocument.End {
        .init(
            sessionID: session, elapsedSeconds: elapsed, dose: DoseDocument(total: total, red: 0.75, nir: 0.5),
            reason: reason)
    }
}

extension FleetRegistry {
    @discardableResult
    mutating func feed(
        _ device: String, _ kind: FleetTopics.Kind, _ payload: [UInt8], retained: Bool = false,
        now: Double = 1_700_000_100
    ) -> Bool {
        self.apply(device: device, kind: kind, payload: payload, retained: retained, now: now)
    }
}
