import Testing

@testable import Fleet

/// The dose and emitting-seconds counters, derived from the snapshots a panel publishes. Fed through
/// the registry, so the state/tele/event wiring is part of what is checked.
@Suite struct DeliveryTallyTests {
    func delivered(_ registry: FleetRegistry, _ device: String = "p1") -> (dose: Double, seconds: Double) {
        let tally = registry.panels[device]?.counters.delivered ?? DeliveryTally()
        return (tally.doseJoulesPerCm2, tally.emittingSeconds)
    }

    @Test func newSession_countsFromItsFirstSeenValue() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(total: 1.25, elapsed: 30))
        #expect(self.delivered(registry) == (1.25, 30), "light delivered before the exporter looked is light too")
    }

    @Test func sameSession_addsOnlyTheIncrease() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(total: 1.25, elapsed: 30))
        registry.feed("p1", .telemetry, Payload.state(total: 2.0, elapsed: 45))
        registry.feed("p1", .state, Payload.state(total: 2.5, elapsed: 60))
        #expect(self.delivered(registry) == (2.5, 60))
    }

    @Test func lowerValueInTheSameSession_subtractsNothing_andIsNotABaseline() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(total: 2.0, elapsed: 45))
        registry.feed("p1", .telemetry, Payload.state(total: 1.5, elapsed: 40))  // an older snapshot, late
        #expect(self.delivered(registry) == (2.0, 45))
        registry.feed("p1", .state, Payload.state(total: 2.5, elapsed: 60))
        #expect(self.delivered(registry) == (2.5, 60), "counted from the highest value seen, not from the late one")
    }

    @Test func duplicateSnapshot_countsOnce() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(total: 2.0, elapsed: 45))
        registry.feed("p1", .state, Payload.state(total: 2.0, elapsed: 45))
        registry.feed("p1", .telemetry, Payload.state(total: 2.0, elapsed: 45))
        registry.feed("p1", .state, Payload.state(total: 2.0, elapsed: 45), retained: true)
        #expect(self.delivered(registry) == (2.0, 45))
    }

    @Test func reconnect_replaysTheRetainedState_withoutCountingItAgain() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online(boot: "b1"))
        registry.feed("p1", .state, Payload.state(total: 2.0, elapsed: 45))
        registry.feed("p1", .status, Payload.offline())
        registry.feed("p1", .status, Payload.online(boot: "b1"), retained: true)
        registry.feed("p1", .state, Payload.state(total: 2.0, elapsed: 45), retained: true)
        #expect(self.delivered(registry) == (2.0, 45))
        registry.feed("p1", .status, Payload.online(boot: "b2"))
        registry.feed("p1", .state, Payload.state(total: 0.5, session: "b2-1", elapsed: 10))
        #expect(self.delivered(registry) == (2.5, 55), "a new session after a reboot adds its own light")
    }

    @Test func lateSnapshotOfAnEarlierSession_isNotCountedAgain() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(total: 2.0, session: "b1-1", elapsed: 45))
        registry.feed("p1", .state, Payload.state(total: 0.5, session: "b1-2", elapsed: 10))
        registry.feed("p1", .telemetry, Payload.state(total: 1.8, session: "b1-1", elapsed: 40))
        #expect(self.delivered(registry) == (2.5, 55))
    }

    @Test func endEvent_countsTheTailAfterTheLastSnapshot() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(total: 2.0, elapsed: 45))
        registry.feed("p1", .event, Payload.event(.aborted(Payload.ended(.stopCommand, total: 2.3, elapsed: 50))))
        // The state after the end has no session: its zero dose is not a decrease of anything.
        registry.feed("p1", .state, Payload.state(.cooldown, total: 0, session: nil, elapsed: 0))
        #expect(self.delivered(registry) == (2.3, 50))
        registry.feed("p1", .event, Payload.event(.aborted(Payload.ended(.stopCommand, total: 2.3, elapsed: 50))))
        #expect(self.delivered(registry) == (2.3, 50), "a repeated end event counts nothing")
    }

    @Test func retainedEndEvent_isSomeoneElses_andCountsNothing() {
        var registry = FleetRegistry()
        registry.feed("p1", .event, Payload.event(.completed(Payload.ended(.duration))), retained: true)
        #expect(self.delivered(registry) == (0, 0))
    }

    @Test func panelsAreCountedSeparately() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(total: 2.0, session: "b1-1", elapsed: 45))
        registry.feed("p2", .state, Payload.state(total: 1.0, session: "b1-1", elapsed: 20))
        #expect(self.delivered(registry, "p1") == (2.0, 45))
        #expect(self.delivered(registry, "p2") == (1.0, 20))
    }

    @Test(arguments: [-1.0, .nan, .infinity])
    func valueThatIsNoAmountOfLight_countsNothing(bad: Double) {
        var tally = DeliveryTally()
        tally.observe(sessionID: "s", dose: bad, elapsedSeconds: bad)
        tally.observe(sessionID: "s", dose: 1, elapsedSeconds: 2)
        #expect(tally.doseJoulesPerCm2 == 1)
        #expect(tally.emittingSeconds == 2)
    }

    @Test func rememberedSessions_areBounded_newestKept() {
        var tally = DeliveryTally()
        for n in 0...DeliveryTally.rememberedSessions {
            tally.observe(sessionID: "s\(n)", dose: 1, elapsedSeconds: 1)
        }
        let total = tally.doseJoulesPerCm2
        tally.observe(sessionID: "s\(DeliveryTally.rememberedSessions)", dose: 1, elapsedSeconds: 1)
        tally.observe(sessionID: "s1", dose: 1, elapsedSeconds: 1)
        #expect(tally.doseJoulesPerCm2 == total, "the newest sessions are still remembered")
    }
}
