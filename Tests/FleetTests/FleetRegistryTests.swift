import Testing

@testable import Fleet
import GatewayProtocol

@Suite struct FleetRegistryTests {
    @Test func stateMessage_fillsTheRecord() throws {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(faults: [.overTemperature]))
        let p = try #require(registry.panels["p1"])
        #expect(p.state == .running)
        #expect(p.temperatureC == 31.5)
        #expect(p.dose == DoseDocument(total: 1.25, red: 0.75, nir: 0.5))
        #expect(p.remainingSeconds == 90)
        #expect(p.dose24h == 7.5)
        #expect(p.sessions24h == 2)
        #expect(p.emitting == true)
        #expect(p.faults == ["F_OVERTEMP"])
        #expect(p.lastSeen == 1_700_000_000, "last seen comes from the payload's ts, not the arrival time")
        #expect(p.online == true, "a panel that publishes state is connected")
    }

    @Test func retainedStateAlone_doesNotClaimThePanelIsOnline() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(), retained: true)
        #expect(registry.panels["p1"]?.online == nil)
        #expect(registry.panels["p1"]?.state == .running)
    }

    @Test func offlineStatus_marksThePanelAndKeepsIt() throws {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online())
        registry.feed("p1", .state, Payload.state())
        registry.feed("p1", .status, Payload.offline())
        let p = try #require(registry.panels["p1"])
        #expect(p.online == false)
        #expect(p.offlineReason == "connection_lost")
        #expect(p.temperatureC == 31.5, "last known values stay, marked offline")
        #expect(p.emitting == nil, "an offline panel's output state is unknown")
    }

    @Test func comingBackOnline_orRebooting_countsAsReconnect() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online(boot: "a"))
        #expect(registry.panels["p1"]?.counters.reconnects == 0)
        registry.feed("p1", .status, Payload.offline())
        registry.feed("p1", .status, Payload.online(boot: "a"))
        #expect(registry.panels["p1"]?.counters.reconnects == 1)
        registry.feed("p1", .status, Payload.online(boot: "b"))
        #expect(registry.panels["p1"]?.counters.reconnects == 2, "a new boot id while online: its will was missed")
        #expect(registry.panels["p1"]?.offlineReason == nil)
    }

    /// "Last seen" is the panel's own stamp, but never later than the monitor's clock: one message
    /// stamped far ahead (a panel with a wrong clock, or anyone who may publish) would otherwise pin it
    /// in the future, and the panel would never look silent again.
    @Test func stampAheadOfTheMonitor_countsAsSeenNow_notInTheFuture() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online(), now: 1_700_000_000)
        registry.feed("p1", .status, Array(#"{"state":"offline","reason":"connection_lost","ts":1.4e141}"#.utf8), now: 1_700_000_200)
        #expect(registry.panels["p1"]?.lastSeen == 1_700_000_200)
        registry.feed("p1", .status, Array(#"{"state":"offline","reason":"connection_lost","ts":-5}"#.utf8), now: 1_700_000_300)
        #expect(registry.panels["p1"]?.lastSeen == 1_700_000_300, "a stamp that is no time: the arrival counts")
    }

    @Test func retainedStatusWithoutTimestamp_isNotASighting_liveOneIs() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online(), retained: true, now: 500)
        #expect(registry.panels["p1"]?.lastSeen == nil)
        registry.feed("p1", .status, Payload.online(), retained: false, now: 600)
        #expect(registry.panels["p1"]?.lastSeen == 600)
    }

    @Test func sessionAndFaultEvents_areCounted_retainedOnesAreNot() throws {
        var registry = FleetRegistry()
        registry.feed("p1", .event, Payload.event(Payload.started))
        registry.feed("p1", .event, Payload.event(.completed(Payload.ended(.duration))))
        registry.feed("p1", .event, Payload.event(.aborted(Payload.ended(.stopCommand))))
        registry.feed("p1", .event, Payload.event(.faultRaised(.init(code: .sensorStale, detail: "no sample for 10 s"))))
        registry.feed("p1", .event, Payload.event(Payload.started), retained: true)
        let c = try #require(registry.panels["p1"]?.counters)
        #expect(c.sessionsStarted == 1)
        #expect(c.sessionsCompleted == 1)
        #expect(c.sessionsAborted == 1)
        #expect(c.faultsRaised == 1)
        #expect(registry.panels["p1"]?.faults == ["F_SENSOR_STALE"], "a raised fault shows before the next state")
    }

    @Test func eventOutsideTheContract_isCountedInvalid_andCountsNoSession() {
        var registry = FleetRegistry()
        registry.feed("p1", .event, Array(#"{"event":"session_started","ts":1}"#.utf8))
        registry.feed("p1", .event, Array(#"{"event":"fault_raised","fault":"F_GREMLIN","detail":"","detected_mono_ns":1,"ts":1}"#.utf8))
        #expect(registry.invalidMessages == 2)
        #expect(registry.panels["p1"]?.counters.sessionsStarted ?? 0 == 0)
        #expect(registry.panels["p1"]?.faults ?? [] == [])
    }

    @Test(arguments: ["not json", "[1,2]", "\"text\"", ""])
    func payloadThatIsNotAnObject_isCountedAndIgnored(text: String) {
        var registry = FleetRegistry()
        let changed = registry.feed("p1", .state, Array(text.utf8))
        #expect(!changed)
        #expect(registry.invalidMessages == 1)
        #expect(registry.panels.isEmpty)
    }

    @Test func repeatedIdenticalState_reportsNoChange() {
        var registry = FleetRegistry()
        let first = registry.feed("p1", .state, Payload.state())
        let same = registry.feed("p1", .state, Payload.state())
        let warmer = registry.feed("p1", .state, Payload.state(temperature: 32))
        #expect(first)
        #expect(!same)
        #expect(warmer)
    }
}
