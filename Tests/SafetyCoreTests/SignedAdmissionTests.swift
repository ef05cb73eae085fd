import SafetyCore
import Testing

/// The signing rule in the admission order: unsigned and wrongly signed commands never act, signed ones
/// are fresh and seen once, and `stop` acts whatever its signature says.
@Suite("Signed admission")
struct SignedAdmissionTests {
    static let required = SafetySettings(signing: .init(required: true, replayWindowSeconds: 30))
    static let now: Int64 = 1_700_000_000_000

    func signed(
        _ rig: inout Rig, _ command: Command, id: String? = nil, signature: SignatureVerdict = .verified(tag: "t1"),
        sentAt: Int64? = Self.now, ttl: Int64? = 10_000, receivedAt: Int64 = Self.now
    ) -> CommandEnvelope {
        var envelope = rig.envelope(command, id: id, sentAtUnixMs: sentAt, ttlMs: ttl, receivedAtUnixMs: receivedAt)
        envelope.signature = signature
        return envelope
    }

    @Test(arguments: [
        (SignatureVerdict.absent, ResponseCode.unsigned), (.unchecked, .unsigned), (.incomplete, .unsigned),
        (.mismatch, .signature),
    ])
    func startWithoutAValidSignature_isRefusedAndNeverActs(verdict: SignatureVerdict, code: ResponseCode) {
        var rig = Rig.ready(Self.required)
        let actions = rig.send(.command(self.signed(&rig, .start(.init()), signature: verdict)))
        #expect(actions.response?.code == code)
        #expect(!rig.outputs.emitting)
        #expect(rig.state == .idle)
    }

    @Test func validSignature_acts() {
        var rig = Rig.ready(Self.required)
        #expect(rig.send(.command(self.signed(&rig, .start(.init())))).response?.ok == true)
        #expect(rig.outputs.emitting)
    }

    /// Policy (README, "Signed commands"): a stop must never be blocked by missing or broken crypto.
    @Test(arguments: [SignatureVerdict.absent, .mismatch, .incomplete])
    func stopActsWhateverItsSignature(verdict: SignatureVerdict) {
        var rig = Rig.ready(Self.required)
        #expect(rig.send(.command(self.signed(&rig, .start(.init())))).response?.ok == true)
        #expect(rig.outputs.emitting)
        let actions = rig.send(.command(self.signed(&rig, .stop, signature: verdict, sentAt: nil, ttl: nil)))
        #expect(actions.response?.ok == true)
        #expect(!rig.outputs.emitting)
    }

    @Test func signingNotRequired_ignoresTheSignature() {
        var rig = Rig.ready()
        #expect(rig.send(.command(self.signed(&rig, .start(.init()), signature: .mismatch))).response?.ok == true)
    }

    @Test(arguments: [Self.now - 30_001, Self.now + 30_001])
    func tsOutsideTheReplayWindow_isStale(sentAt: Int64) {
        var rig = Rig.ready(Self.required)
        let envelope = self.signed(&rig, .start(.init()), sentAt: sentAt, ttl: 120_000)
        #expect(rig.send(.command(envelope)).response?.code == .stale)
        #expect(!rig.outputs.emitting)
    }

    @Test func expiredTTL_isStaleEvenInsideTheWindow() {
        var rig = Rig.ready(Self.required)
        let envelope = self.signed(&rig, .start(.init()), sentAt: Self.now - 2_000, ttl: 1_000)
        #expect(rig.send(.command(envelope)).response?.code == .stale)
    }

    /// A refused signed command (here `pause` while idle) is not cached as answered, so its copy reaches
    /// the replay memory and is refused as a replay, not decided afresh.
    @Test func copyOfASignedCommand_withinTheWindow_isAReplay() {
        var rig = Rig.ready(Self.required)
        let pause = self.signed(&rig, .pause, id: "p1", signature: .verified(tag: "aa"))
        #expect(rig.send(.command(pause)).response?.code == .state)
        var copy = pause
        copy.receivedAtUnixMs += 5_000
        #expect(rig.send(.command(copy)).response?.code == .replay)
        // The same id signed again with a fresh ts is another signature: decided afresh.
        let fresh = self.signed(&rig, .pause, id: "p1", signature: .verified(tag: "bb"), sentAt: Self.now + 1)
        #expect(rig.send(.command(fresh)).response?.code == .state)
    }

    /// Past the window the copy is stale, so the memory may forget it: it never grows past the window.
    @Test func copyAfterTheWindow_isStale() {
        var rig = Rig.ready(Self.required)
        let pause = self.signed(&rig, .pause, signature: .verified(tag: "cc"), ttl: 600_000)
        #expect(rig.send(.command(pause)).response?.code == .state)
        var copy = pause
        copy.receivedAtUnixMs += 30_001
        #expect(rig.send(.command(copy)).response?.code == .stale)
    }

    /// A byte-identical copy of an *accepted* command is what a QoS 1 redelivery looks like: it gets the
    /// first answer again and has no second effect (S14), before any signature rule is asked.
    @Test func copyOfAnAcceptedStart_getsTheFirstAnswerAndNoSecondSession() {
        var rig = Rig.ready(Self.required)
        let start = self.signed(&rig, .start(.init()), id: "s1", signature: .verified(tag: "dd"))
        let first = rig.send(.command(start)).response
        #expect(first?.ok == true)
        #expect(rig.send(.command(start)).response == first)
        #expect(rig.send(.command(self.signed(&rig, .stop))).response?.ok == true)
        let late = rig.send(.command(start))
        #expect(late.response == first)
        #expect(!rig.outputs.emitting)
    }
}
