import Foundation
import GatewayProtocol
import SafetyCore
import Testing

/// The contract's documents: each encoder writes what the README documents, and each decoder
/// reads it back exactly and refuses anything else, naming the key.
@Suite struct DocumentTests {
    static var idleSnapshot: SafetySnapshot {
        SafetyMachine(settings: SafetySettings(), bootID: "b1").snapshot(now: Instant(nanoseconds: 5_000_000_000))
    }

    /// Totals with more digits than published, to see the rounding.
    static let lifetime = LifetimeTotals(dose: Dose(joulesPerCm2: 1234.56789), emittingSeconds: 98_765.4321)

    @Test func stateDocument_writesTheDocumentedMembersInOrder() {
        let json = StateDocument(Self.idleSnapshot, lifetime: Self.lifetime, unixMs: 1_700_000_000_000, seq: 7)
            .json.text
        #expect(
            json
                == #"{"state":"idle","session_id":null,"channels":null,"intensity_pct":null,"planned_s":null,"#
                + #""elapsed_s":0,"remaining_s":0,"dose_j_cm2":{"total":0,"red":0,"nir":0},"dose_target_j_cm2":null,"#
                + #""dose_24h_j_cm2":0,"sessions_24h":0,"temperature_c":null,"emitting":false,"interlock":"open","#
                + #""faults":[],"presets":{"channels":"both","intensity_pct":100,"duration_s":600,"dose_j_cm2":null},"#
                + #""lifetime":{"dose_j_cm2":1234.568,"emitting_s":98765.4},"ts":1700000000000,"seq":7}"#)
    }

    /// `lifetime` was added in 0.2: a reader still takes a document of an older gateway (without it)
    /// and reads it as unknown, but refuses a `lifetime` that is there and incomplete or mistyped.
    @Test func stateDocument_lifetime_isOptionalForOlderGateways_butStrictWhenPresent() throws {
        let good = StateDocument(Self.idleSnapshot, lifetime: Self.lifetime, unixMs: 1, seq: 1).json.text
        let withoutLifetime = good.replacingOccurrences(
            of: #""lifetime":{"dose_j_cm2":1234.568,"emitting_s":98765.4},"#, with: "")
        #expect(withoutLifetime != good)
        let older = try StateDocument(json: try JSONValue.parse(Array(withoutLifetime.utf8)))
        #expect(older.lifetime == nil)
        #expect(try StateDocument(json: try JSONValue.parse(Array(good.utf8))).lifetime
            == LifetimeDocument(dose: 1234.568, emittingSeconds: 98765.4))
        let cases = [
            (good.replacingOccurrences(of: #","emitting_s":98765.4"#, with: ""),
                "state.lifetime: 'emitting_s' must be a number"),
            (good.replacingOccurrences(of: #""dose_j_cm2":1234.568"#, with: #""dose_j_cm2":"a lot""#),
                "state.lifetime: 'dose_j_cm2' must be a number"),
            (good.replacingOccurrences(of: #"{"dose_j_cm2":1234.568,"emitting_s":98765.4}"#, with: "[]"),
                "state.lifetime: not a JSON object"),
        ]
        for (payload, error) in cases {
            #expect(payload != good)
            let value = try JSONValue.parse(Array(payload.utf8))
            #expect(throws: ContractError(error)) { try StateDocument(json: value) }
        }
    }

    @Test func stateDocument_readsBackWhatItWrote() throws {
        var document = StateDocument(Self.idleSnapshot, lifetime: Self.lifetime, unixMs: 1_700_000_000_000, seq: 7)
        document.faults = [.overTemperature, .sensorStale]
        document.temperatureC = 41.25
        #expect(try StateDocument(json: document.json) == document)
    }

    @Test func statusAndResponse_readBackWhatTheyWrote() throws {
        for status in [StatusDocument.online(bootID: "b1", version: "1.2.0"), .offline(reason: "connection_lost")] {
            #expect(try StatusDocument(json: status.json) == status)
        }
        let refused = ResponseDocument(
            CommandResponse(
                id: "c1", commandName: "start", code: .doseLimit, message: "no", state: .idle))
        #expect(try ResponseDocument(json: refused.json) == refused)
        var answered = ResponseDocument(
            CommandResponse(id: "c2", commandName: "get", code: nil, message: "ok", state: .idle))
        answered.data = StateDocument(Self.idleSnapshot, lifetime: Self.lifetime, unixMs: 1, seq: 1)
        #expect(try ResponseDocument(json: answered.json) == answered)
    }

    @Test(arguments: [
        (#"{"state":"online","version":"1"}"#, "status: 'boot_id' must be a string"),
        (#"{"state":"asleep"}"#, "status: 'state' must be one of online, offline"),
        (#"[1]"#, "status: not a JSON object"),
    ])
    func statusDocument_refusesWhatTheGatewayNeverWrites(payload: String, error: String) throws {
        let value = try JSONValue.parse(Array(payload.utf8))
        #expect(throws: ContractError(error)) { try StatusDocument(json: value) }
    }

    @Test func stateDocument_refusesAWrongMember_namingItsPath() throws {
        let good = StateDocument(Self.idleSnapshot, lifetime: .zero, unixMs: 1, seq: 1).json.text
        let cases = [
            (good.replacingOccurrences(of: #""emitting":false"#, with: #""emitting":"no""#),
                "state: 'emitting' must be true or false"),
            (good.replacingOccurrences(of: #""state":"idle""#, with: #""state":"dozing""#),
                "state: 'state' must be one of idle, running, paused, cooldown, fault"),
            (good.replacingOccurrences(of: #""faults":[]"#, with: #""faults":["F_GREMLIN"]"#),
                "state: unknown fault 'F_GREMLIN'"),
            (good.replacingOccurrences(of: #""red":0,"#, with: ""), "state.dose_j_cm2: 'red' must be a number"),
        ]
        for (payload, error) in cases {
            let value = try JSONValue.parse(Array(payload.utf8))
            #expect(throws: ContractError(error)) { try StateDocument(json: value) }
        }
    }

    @Test func commandRequest_isWhatTheDecoderReads() {
        let request = CommandRequest(
            id: "r1", command: "start", arguments: .object([("duration_s", 60)]), sentAtUnixMs: 1_000, ttlMs: 500)
        #expect(request.json.text == #"{"id":"r1","cmd":"start","args":{"duration_s":60},"ts":1000,"ttl_ms":500}"#)
        let envelope = CommandDecoder.decode(
            request.json.bytes, source: .device, retained: false, receivedAtUnixMs: 1_100, maximumBytes: 4096)
        #expect(envelope.id == "r1")
        #expect(envelope.commandName == "start")
    }
}
