import GatewayProtocol
import SafetyCore
import Testing

/// `event`, `diag` and `info`: the bytes the README documents, read back exactly, and refused
/// when a member is missing, mistyped or outside the contract.
@Suite struct PanelDocumentTests {
    static let plan = SessionPlan(
        sessionID: "s1", channels: .red, intensityPercent: 80, plannedSeconds: 600, doseTarget: nil,
        doseCeiling: Dose(joulesPerCm2: 40))
    static let progress = SessionProgress(
        sessionID: "s1", emittingSeconds: 12.345,
        dose: PerChannel(red: Dose(joulesPerCm2: 1.23456), nir: Dose(joulesPerCm2: 0)))

    /// Every notice the core raises, with the exact event the gateway publishes for it.
    static let events: [(SafetyNotice, String)] = [
        (.sessionStarted(plan),
            #"{"event":"session_started","session_id":"s1","channels":"red","intensity_pct":80,"planned_s":600,"#
            + #""dose_target_j_cm2":null,"ts":7}"#),
        (.paused(sessionID: "s1", reason: .interlock), #"{"event":"paused","session_id":"s1","reason":"interlock","ts":7}"#),
        (.resumed(sessionID: "s1"), #"{"event":"resumed","session_id":"s1","ts":7}"#),
        (.completed(progress, reason: .duration),
            #"{"event":"completed","session_id":"s1","elapsed_s":12.3,"dose_j_cm2":{"total":1.235,"red":1.235,"nir":0},"#
            + #""reason":"duration","ts":7}"#),
        (.aborted(progress, reason: .stopButton),
            #"{"event":"aborted","session_id":"s1","elapsed_s":12.3,"dose_j_cm2":{"total":1.235,"red":1.235,"nir":0},"#
            + #""reason":"stop_button","ts":7}"#),
        (.faultRaised(.overTemperature, detail: "58 °C", detectedAt: Instant(nanoseconds: 5_000)),
            #"{"event":"fault_raised","fault":"F_OVERTEMP","detail":"58 °C","detected_mono_ns":5000,"#
            + #""outputs_off_mono_ns":6000,"ts":7}"#),
        (.faultCleared(.sensorStale), #"{"event":"fault_cleared","fault":"F_SENSOR_STALE","ts":7}"#),
        (.commandRejected(commandName: nil, code: .stale, message: "too old"),
            #"{"event":"command_rejected","cmd":null,"code":"E_STALE","message":"too old","ts":7}"#),
        (.temperatureWarning(Celsius(45.678)), #"{"event":"temperature_warning","temperature_c":45.68,"ts":7}"#),
    ]

    @Test func events_writeTheDocumentedMembersInOrder_andReadBack() throws {
        for (notice, expected) in Self.events {
            let document = EventDocument(notice, unixMs: 7, outputsOffAt: Instant(nanoseconds: 6_000))
            #expect(document.json.text == expected)
            #expect(try EventDocument(json: document.json) == document)
        }
        #expect(Set(Self.events.map { EventDocument($0.0, unixMs: 0).kind }) == Set(EventDocument.Kind.allCases))
    }

    @Test func event_refusesWhatTheGatewayNeverWrites_namingTheKey() throws {
        let cases = [
            (#"{"event":"exploded","ts":1}"#,
                "event: 'event' must be one of session_started, paused, resumed, completed, aborted, fault_raised, "
                + "fault_cleared, command_rejected, temperature_warning"),
            (#"{"event":"paused","session_id":"s1","reason":"boredom","ts":1}"#,
                "event: 'reason' must be one of command, interlock, link_loss"),
            (#"{"event":"fault_raised","fault":"F_GREMLIN","detail":"","detected_mono_ns":1,"ts":1}"#,
                "event: 'fault' must be one of " + FaultCode.allCases.map(\.rawValue).joined(separator: ", ")),
            (#"{"event":"completed","session_id":"s1","elapsed_s":1,"reason":"duration","ts":1}"#,
                "event: 'dose_j_cm2' must be an object"),
            (#"{"event":"resumed","session_id":"s1"}"#, "event: 'ts' must be a number"),
            // Stamps off the network are whole numbers in range, or refused; never an integer trap.
            (#"{"event":"resumed","session_id":"s1","ts":1e300}"#, "event: 'ts' must be a whole number in range"),
            (#"{"event":"fault_raised","fault":"F_OVERTEMP","detail":"","detected_mono_ns":1,"#
                + #""outputs_off_mono_ns":1e300,"ts":1}"#,
                "event: 'outputs_off_mono_ns' must be a whole number in range"),
        ]
        for (payload, error) in cases {
            let value = try JSONValue.parse(Array(payload.utf8))
            #expect(throws: ContractError(error)) { try EventDocument(json: value) }
        }
    }

    /// A coalesced `command_rejected` (one per code per second under a flood) carries how many
    /// earlier refusals it stands for; a plain one has no `suppressed` member, as before.
    @Test func commandRejected_suppressedCount_writtenWhenNotZero_andReadStrictly() throws {
        let coalesced = EventDocument(
            .commandRejected(command: "start", code: .rate, message: "slow down", suppressed: 41), unixMs: 7)
        #expect(
            coalesced.json.text
                == #"{"event":"command_rejected","cmd":"start","code":"E_RATE","message":"slow down","#
                + #""suppressed":41,"ts":7}"#)
        #expect(try EventDocument(json: coalesced.json) == coalesced)
        #expect(coalesced.suppressedRejections == 41)
        let plain = EventDocument(.commandRejected(command: nil, code: .json, message: "m"), unixMs: 7)
        #expect(!plain.json.text.contains("suppressed"))
        #expect(try EventDocument(json: plain.json).suppressedRejections == 0)
        for bad in ["0", "-3", "1.5", "\"many\"", "1e300"] {
            let text = #"{"event":"command_rejected","cmd":null,"code":"E_RATE","message":"m","#
                + #""suppressed":\#(bad),"ts":1}"#
            let value = try JSONValue.parse(Array(text.utf8))
            #expect(throws: ContractError.self, "suppressed \(bad)") { try EventDocument(json: value) }
        }
    }

    @Test func diagnostics_writeWholeSeconds_andReadBack() throws {
        let document = DiagnosticsDocument(
            bootID: "b1", uptimeSeconds: 61.6, reconnects: 2, droppedMessages: 3, unixMs: 9)
        #expect(document.json.text == #"{"boot_id":"b1","uptime_s":62,"reconnects":2,"dropped_messages":3,"ts":9}"#)
        #expect(try DiagnosticsDocument(json: document.json) == document)
        let missing = try JSONValue.parse(Array(#"{"boot_id":"b1","uptime_s":1,"reconnects":0,"ts":9}"#.utf8))
        #expect(throws: ContractError("diag: 'dropped_messages' must be a number")) {
            try DiagnosticsDocument(json: missing)
        }
    }

    @Test func info_writesTheConfiguredPanel_andReadsBack() throws {
        let info = DeviceInfo(
            name: "Panel", model: "RLT-1", serial: "S1", softwareVersion: "1.2.0",
            wavelengthsNm: PerChannel(red: 660, nir: 850), settings: SafetySettings())
        let document = InfoDocument(info)
        #expect(info.json == document.json)
        #expect(try InfoDocument(json: document.json) == document)
        #expect(
            document.json.text.hasPrefix(
                #"{"name":"Panel","model":"RLT-1","serial":"S1","sw_version":"1.2.0","channels":{"red":{"wavelength_nm":660,"#))
        let text = document.json.text.replacingOccurrences(of: #""dimmable":false"#, with: #""dimmable":1"#)
        #expect(throws: ContractError("info.channels.red: 'dimmable' must be true or false")) {
            try InfoDocument(json: try JSONValue.parse(Array(text.utf8)))
        }
    }
}
