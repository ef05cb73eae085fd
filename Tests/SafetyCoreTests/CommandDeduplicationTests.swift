import SafetyCore
import Testing

/// Which commands the duplicate-id memory (S14) may answer: only accepted ones that are not `stop`.
@Suite("Command deduplication")
struct CommandDeduplicationTests {
    @Test func stopReusingAnEarlierStopsID_whileEmitting_actsAgain() throws {
        var rig = Rig.ready()
        #expect(rig.command(.stop, id: "panic").response?.ok == true)
        rig.advance(1)
        #expect(rig.command(.start(.init()), id: "s1").response?.ok == true)
        #expect(rig.outputs.emitting)
        let again = rig.command(.stop, id: "panic")
        #expect(again.first == .setOutputs(.off))
        #expect(again.response?.ok == true)
        #expect(again.notices.contains("aborted(stop)"))
        #expect(!rig.outputs.emitting)
        #expect(rig.state == .cooldown)
    }

    @Test func stopRedelivered_whileIdle_answersOkAgain() throws {
        var rig = Rig.ready()
        let first = try #require(rig.command(.stop, id: "s").response)
        let second = try #require(rig.command(.stop, id: "s").response)
        #expect(first.ok && second.ok)
        #expect(!rig.outputs.emitting)
    }

    @Test(arguments: ["retained", "stale"])
    func stopRefused_thenResentCorrectlyWithTheSameID_acts(_ refusal: String) throws {
        var rig = Rig.ready()
        #expect(rig.command(.start(.init())).response?.ok == true)
        let bad =
            refusal == "retained"
            ? rig.envelope(.stop, id: "x", retained: true)
            : rig.envelope(.stop, id: "x", sentAtUnixMs: 0, ttlMs: 10, receivedAtUnixMs: 5_000)
        let refused = rig.send(.command(bad))
        #expect(refused.response?.code == (refusal == "retained" ? .retained : .stale))
        #expect(rig.outputs.emitting)
        let resent = rig.send(.command(rig.envelope(.stop, id: "x")))
        #expect(resent.response?.ok == true)
        #expect(!rig.outputs.emitting)
    }

    @Test func stopWithABadBody_thenResentCorrectlyWithTheSameID_acts() throws {
        var rig = Rig.ready()
        #expect(rig.command(.start(.init())).response?.ok == true)
        let schema = CommandEnvelope(
            id: "y", commandName: "stop", body: .invalid(.schema, "unknown field \"now\""), source: .device,
            retained: false, payloadBytes: 40, sentAtUnixMs: nil, ttlMs: nil, receivedAtUnixMs: 0)
        #expect(rig.send(.command(schema)).response?.code == .schema)
        #expect(rig.outputs.emitting)
        #expect(rig.command(.stop, id: "y").response?.ok == true)
        #expect(!rig.outputs.emitting)
    }

    @Test func startRefused_thenResentWithTheSameIDOnceAllowed_acts() throws {
        var rig = Rig(SafetySettings())
        rig.send(.boot(BootContext()))
        rig.send(.temperature(.valid(Celsius(25))))
        // The interlock is open: refused with E_INTERLOCK, and not remembered.
        #expect(rig.command(.start(.init()), id: "go").response?.code == .interlock)
        rig.send(.input(.interlock, active: true))
        #expect(rig.command(.start(.init()), id: "go").response?.ok == true)
        #expect(rig.outputs.emitting)
    }

    @Test func acceptedStartRedelivered_isReplayedWithoutASecondEffect() throws {
        var rig = Rig.ready()
        let first = try #require(rig.command(.start(.init()), id: "once").response)
        rig.run(for: 1)
        let again = rig.command(.start(.init()), id: "once")
        #expect(again == [.respond(first)])
        #expect(rig.state == .running)
    }
}
