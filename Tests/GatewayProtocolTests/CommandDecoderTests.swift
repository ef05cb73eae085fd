import GatewayProtocol
import SafetyCore
import Testing

/// Decoding untrusted `cmd` payloads: every bad input gets its stable code, good input its command.
struct CommandDecoderTests {
    func decode(_ text: String, retained: Bool = false, maximumBytes: Int = 4096) -> CommandEnvelope {
        CommandDecoder.decode(
            Array(text.utf8), source: .device, retained: retained, receivedAtUnixMs: 1_000, maximumBytes: maximumBytes)
    }

    @Test func startWithAllArguments_decodesEveryField() {
        let envelope = self.decode(
            #"{"id":"c17","cmd":"start","args":{"channels":"red","intensity_pct":100,"duration_s":300,"dose_j_cm2":12.5},"ts":1700000000000,"ttl_ms":5000}"#
        )
        #expect(envelope.id == "c17")
        #expect(envelope.commandName == "start")
        #expect(envelope.sentAtUnixMs == 1_700_000_000_000)
        #expect(envelope.ttlMs == 5000)
        #expect(
            envelope.body
                == .decoded(
                    .start(
                        StartArguments(
                            channels: .red, intensityPercent: 100, durationSeconds: 300,
                            doseTarget: Dose(joulesPerCm2: 12.5)))))
    }

    @Test func startWithoutArguments_leavesEverythingToThePresets() {
        #expect(self.decode(#"{"id":"a","cmd":"start"}"#).body == .decoded(.start(StartArguments())))
    }

    @Test(arguments: [
        ("stop", Command.stop), ("get", .get), ("pause", .pause), ("resume", .resume), ("identify", .identify),
        ("ping", .ping),
    ])
    func simpleCommands_decode(name: String, command: Command) {
        #expect(self.decode(#"{"id":"x","cmd":"\#(name)"}"#).body == .decoded(command))
    }

    @Test(arguments: [
        // (payload, expected code)
        ("{", ResponseCode.json),
        ("", .json),
        ("[1,2]", .schema),
        (#"{"id":"a"}"#, .schema),
        (#"{"id":"a","cmd":42}"#, .schema),
        (#"{"id":"a","cmd":"launch"}"#, .unknownCommand),
        (#"{"id":"a","cmd":"start","args":{"duraton_s":60}}"#, .schema),
        (#"{"id":"a","cmd":"start","args":{"duration_s":-5}}"#, .range),
        (#"{"id":"a","cmd":"start","args":{"duration_s":0}}"#, .range),
        (#"{"id":"a","cmd":"start","args":{"duration_s":1e-320}}"#, .range),
        (#"{"id":"a","cmd":"set","args":{"duration_s":0.5}}"#, .range),
        (#"{"id":"a","cmd":"start","args":{"duration_s":"60"}}"#, .schema),
        (#"{"id":"a","cmd":"start","args":{"intensity_pct":150}}"#, .range),
        (#"{"id":"a","cmd":"start","args":{"channels":"uv"}}"#, .range),
        (#"{"id":"a","cmd":"start","args":{"duration_s":1e999}}"#, .json),
        (#"{"id":"a","cmd":"start","args":[]}"#, .schema),
        (#"{"id":"a","cmd":"stop","args":{"now":true}}"#, .schema),
        (#"{"id":"a","cmd":"ack"}"#, .schema),
        (#"{"id":"a","cmd":"ack","args":{"fault":"F_NOPE"}}"#, .range),
        (#"{"id":"a","cmd":"set","args":{}}"#, .schema),
        (#"{"id":"a","cmd":"get","extra":1}"#, .schema),
        (#"{"id":"a","cmd":"get","ts":-1}"#, .schema),
        (#"{"id":"a","cmd":"get","ttl_ms":1.5}"#, .schema),
        (#"{"id":"a","id":"b","cmd":"get"}"#, .json),
        (#"{"id":"a","cmd":"get"} trailing"#, .json),
    ])
    func badPayloads_getTheirStableCode(payload: String, code: ResponseCode) {
        guard case .invalid(let actual, let message) = self.decode(payload).body else {
            Issue.record("\(payload) decoded as a command")
            return
        }
        #expect(actual == code, "\(payload): \(message)")
        #expect(!message.isEmpty)
    }

    @Test func invalidUTF8_isAJSONError() {
        let envelope = CommandDecoder.decode(
            [0x7B, 0xFF, 0xFE, 0x7D], source: .device, retained: false, receivedAtUnixMs: 0, maximumBytes: 4096)
        #expect(envelope.body == .invalid(.json, "payload is not valid JSON: payload is not valid UTF-8 at byte 0"))
    }

    @Test func deeplyNestedPayload_isRefusedWithoutRecursingDeep() {
        let payload = String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)
        guard case .invalid(.json, let message) = self.decode(payload, maximumBytes: 10_000).body else {
            Issue.record("nested payload accepted")
            return
        }
        #expect(message.contains("nesting"))
    }

    @Test func oversizedPayload_isTooLargeAndNotParsed() {
        let payload = #"{"id":"big","cmd":"get","pad":""# + String(repeating: "x", count: 5000) + #""}"#
        let envelope = self.decode(payload)
        guard case .invalid(.tooLarge, _) = envelope.body else {
            Issue.record("expected E_TOO_LARGE, got \(envelope.body)")
            return
        }
        #expect(envelope.id == nil, "an oversized payload is not parsed, so its id is unknown")
    }

    @Test func rejectedCommand_keepsIdAndName_forTheResponse() {
        let envelope = self.decode(#"{"id":"c9","cmd":"start","args":{"duration_s":-1}}"#)
        #expect(envelope.id == "c9")
        #expect(envelope.commandName == "start")
    }

    @Test func setWithNullDose_clearsTheDoseTarget() {
        #expect(
            self.decode(#"{"id":"s","cmd":"set","args":{"dose_j_cm2":null}}"#).body
                == .decoded(.set(PresetChanges(doseTarget: .some(nil)))))
    }

    @Test func ackAll_andAckOne() {
        #expect(self.decode(#"{"id":"k","cmd":"ack","args":{"fault":"all"}}"#).body == .decoded(.ack(.all)))
        #expect(
            self.decode(#"{"id":"k","cmd":"ack","args":{"fault":"F_OVERTEMP"}}"#).body
                == .decoded(.ack(.one(.overTemperature))))
    }

    @Test func isStop_recognisesOnlyAWellFormedStop() {
        #expect(CommandDecoder.isStop(Array(#"{"id":"s","cmd":"stop"}"#.utf8)))
        #expect(CommandDecoder.isStop(Array(#"{"cmd":"stop"}"#.utf8)))
        #expect(!CommandDecoder.isStop(Array(#"{"id":"s","cmd":"start"}"#.utf8)))
        #expect(!CommandDecoder.isStop(Array(#"{"id":"s","cmd":"stop","args":{"x":1}}"#.utf8)))
        #expect(!CommandDecoder.isStop(Array("stop".utf8)))
    }

    /// `isStop` skips the full decode for payloads without the bytes `stop` or a JSON escape (a
    /// flood's shed messages, on libmosquitto's thread); it must still agree with the decoder.
    @Test func isStop_agreesWithTheDecoder_escapedSpellingsIncluded() {
        let payloads = [
            #"{"cmd":"\u0073top"}"#, #"{"cmd":"st\u006fp","id":"e"}"#, #"{"c\u006dd":"stop"}"#, #"{"cmd":"\u0053TOP"}"#,
            #"{"cmd":"get"}"#, "not json at all", #"{"id":"x","cmd":"start","args":{"duration_s":-1}}"#,
            #"{"cmd":"resume"}"#, "", "s", #"{"cmd":"sto"}"#, #"{"id":"stop","cmd":"get"}"#, #"{"cmd":"stop"} "#,
        ]
        for payload in payloads {
            let decoded = self.decode(payload).body == .decoded(.stop)
            #expect(CommandDecoder.isStop(Array(payload.utf8)) == decoded, "\(payload)")
        }
        #expect(CommandDecoder.isStop(Array(#"{"cmd":"\u0073top"}"#.utf8)), "an escaped stop is still a stop")
    }

    @Test func retainedFlagAndSize_travelWithTheEnvelope() {
        let text = #"{"id":"r","cmd":"start"}"#
        let envelope = self.decode(text, retained: true)
        #expect(envelope.retained)
        #expect(envelope.payloadBytes == text.utf8.count)
    }
}

struct JSONValueTests {
    @Test(arguments: [
        #"{"a":[1,2.5,-3e2,true,false,null,"x\"y\\z\n\u00e9\ud83d\ude00"]}"#,
        #"[]"#, #"{}"#, #""plain""#, "0", "-0.125",
    ])
    func parseThenWrite_roundTrips(text: String) throws {
        let value = try JSONValue.parse(Array(text.utf8))
        let again = try JSONValue.parse(value.bytes)
        #expect(value == again)
    }

    @Test(arguments: ["01", "1.", "-", "tru", "\"\\x\"", "\"\u{01}\"", "{\"a\" 1}", "[1,]", "\"\\ud800\""])
    func malformedJSON_isRejected(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func writer_escapesControlCharacters_andKeepsKeyOrder() {
        let value: JSONValue = .object([("z", 1), ("a", .string("line\nbreak\u{1}"))])
        #expect(value.text == #"{"z":1,"a":"line\nbreak\u0001"}"#)
    }

    @Test func writer_printsIntegersWithoutFraction_andNonFiniteAsNull() {
        #expect(JSONValue.array([3, 2.5, .number(.nan), .number(.infinity)]).text == "[3,2.5,null,null]")
    }
}
