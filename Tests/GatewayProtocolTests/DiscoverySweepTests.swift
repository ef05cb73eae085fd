import GatewayProtocol
import SafetyCore
import Testing

/// The sweep decides from what the broker holds: nothing is cleared that was not there (HA warns
/// about an empty config for an entity another topic made), stale configs of entities that live on
/// are migrated before they are cleared, and today's documents go out last.
struct DiscoverySweepTests {
    let device = "homeassistant/device/rlt_p/config"
    let start = "homeassistant/button/rlt_p/start/config"
    let interlock = "homeassistant/binary_sensor/rlt_p/interlock/config"
    let probeTopic = "homeassistant/device/rlt_p/sweep"

    func deviceModeSweep() -> DiscoverySweep {
        DiscoverySweep(documents: [(self.device, Array("{}".utf8))], migratable: [self.start], probeTopic: self.probeTopic)
    }

    func text(_ publications: [DiscoverySweep.Publication]) -> [String] {
        publications.map { "\($0.topic) \(String(decoding: $0.payload, as: UTF8.self))\($0.retain ? " retained" : "")" }
    }

    @Test func nothingRetained_publishesOnlyTheDocuments_afterTheProbe() throws {
        var sweep = self.deviceModeSweep()
        let probe = sweep.begin(tag: "boot", at: .seconds(0))
        #expect(probe.topic == self.probeTopic && !probe.retain)
        #expect(sweep.isCollecting)
        // A live copy of its own document (no retain flag) is no stale config.
        sweep.observed(topic: self.start, payload: Array("{}".utf8), retained: false)
        let plan = sweep.probeReturned(payload: probe.payload)
        #expect(self.text(try #require(plan)) == ["\(self.device) {} retained"])
        #expect(!sweep.isCollecting)
    }

    @Test func perEntityLeftovers_areMigratedThenCleared_andDroppedEntitiesOnlyCleared() throws {
        var sweep = self.deviceModeSweep()
        let probe = sweep.begin(tag: "boot", at: .seconds(0))
        for topic in [self.start, self.interlock, self.device] {
            sweep.observed(topic: topic, payload: Array("{\"x\":1}".utf8), retained: true)
        }
        sweep.observed(topic: self.start, payload: Array("{\"x\":1}".utf8), retained: true)  // once only
        let plan = sweep.probeReturned(payload: probe.payload)
        #expect(
            self.text(try #require(plan)) == [
                #"\#(self.start) {"migrate_discovery":true}"#,
                "\(self.start)  retained",
                "\(self.interlock)  retained",
                "\(self.device) {} retained",
            ])
    }

    @Test func emptyRetainedConfigs_areNotStale() throws {
        var sweep = self.deviceModeSweep()
        let probe = sweep.begin(tag: "boot", at: .seconds(0))
        sweep.observed(topic: self.start, payload: [], retained: true)
        let plan = sweep.probeReturned(payload: probe.payload)
        #expect(self.text(try #require(plan)) == ["\(self.device) {} retained"])
    }

    /// A probe from an earlier connection must not end this sweep before its retained configs are in.
    @Test func anOldProbe_doesNotEndANewSweep() throws {
        var sweep = self.deviceModeSweep()
        let old = sweep.begin(tag: "boot", at: .seconds(0))
        let new = sweep.begin(tag: "boot", at: .seconds(0))
        #expect(old.payload != new.payload)
        let early = sweep.probeReturned(payload: old.payload)
        #expect(early == nil)
        #expect(sweep.isCollecting)
        let ended = sweep.probeReturned(payload: new.payload)
        #expect(ended != nil)
        let late = sweep.giveUpIfOverdue(now: .seconds(60))
        #expect(late == nil, "a sweep that ended does not give up later")
        let again = sweep.probeReturned(payload: new.payload)
        #expect(again == nil, "a sweep ends once")
    }

    @Test func withoutTheProbe_theDocumentsStillGoOut_unswept() throws {
        var sweep = self.deviceModeSweep()
        _ = sweep.begin(tag: "boot", at: .seconds(0))
        sweep.observed(topic: self.interlock, payload: Array("{}".utf8), retained: true)
        let early = sweep.giveUpIfOverdue(now: .seconds(DiscoverySweep.patienceSeconds))
        #expect(early == nil, "the probe still has time")
        let unswept = sweep.giveUpIfOverdue(now: .seconds(DiscoverySweep.patienceSeconds + 0.1))
        #expect(self.text(try #require(unswept)) == ["\(self.device) {} retained"])
        #expect(!sweep.isCollecting)
        let again = sweep.giveUpIfOverdue(now: .seconds(60))
        #expect(again == nil, "a sweep gives up once")
    }

    @Test func discoveryOff_clearsWhateverIsLeft() throws {
        var sweep = DiscoverySweep(documents: [], migratable: [], probeTopic: self.probeTopic)
        let probe = sweep.begin(tag: "boot", at: .seconds(0))
        sweep.observed(topic: self.device, payload: Array("{}".utf8), retained: true)
        let plan = sweep.probeReturned(payload: probe.payload)
        #expect(self.text(try #require(plan)) == ["\(self.device)  retained"])
    }

    @Test func topics_classifyTheNodesDiscoveryConfigsAndProbe_only() {
        let topics = Topics(prefix: "rlt", deviceID: "p")
        #expect(topics.classify(self.device) == .discoveryConfig)
        #expect(topics.classify(self.start) == .discoveryConfig)
        #expect(topics.classify(topics.discoverySweepProbe) == .discoverySweepProbe)
        #expect(topics.discoverySweepProbe == self.probeTopic)
        for other in [
            "homeassistant/button/rlt_q/start/config", "homeassistant/button/rlt_p/start/state",
            "homeassistant/device/rlt_pp/config", "homeassistant//rlt_p/x/config", "ha/button/rlt_p/start/config",
        ] {
            #expect(topics.classify(other) == .other, "\(other)")
        }
        #expect(topics.legacyNodeID == nil, "the default prefix kept its node id")
        let nested = Topics(prefix: "rlt", deviceID: "p", discoveryPrefix: "site/ha")
        #expect(nested.classify("site/ha/sensor/rlt_p/state/config") == .discoveryConfig)
        #expect(nested.discoveryConfigFilters == ["site/ha/device/rlt_p/config", "site/ha/+/rlt_p/+/config"])
    }

    /// Under a non-default prefix 0.1 used the node id `rlt_<id>`, which another gateway with the
    /// default prefix and the same id also uses: its configs are swept only when they name this
    /// panel's status topic.
    @Test func legacyNodeConfigs_areSweptOnlyWhenTheyAreThisPanels() {
        let topics = Topics(prefix: "site-b", deviceID: "p")
        #expect(topics.nodeID == "rlt_site-b_p")
        #expect(topics.legacyNodeID == "rlt_p")
        #expect(
            topics.discoveryConfigFilters == [
                "homeassistant/device/rlt_site-b_p/config", "homeassistant/+/rlt_site-b_p/+/config",
                "homeassistant/device/rlt_p/config", "homeassistant/+/rlt_p/+/config",
            ])
        let legacy = "homeassistant/sensor/rlt_p/state/config"
        #expect(topics.classify(legacy) == .discoveryConfig)
        let ours = Array(#"{"availability_topic":"site-b/p/status","name":"State"}"#.utf8)
        let theirs = Array(#"{"availability_topic":"rlt/p/status","name":"State"}"#.utf8)
        #expect(topics.ownsDiscoveryConfig(topic: legacy, payload: ours))
        #expect(!topics.ownsDiscoveryConfig(topic: legacy, payload: theirs))
        #expect(!topics.ownsDiscoveryConfig(topic: "homeassistant/device/rlt_p/config", payload: Array("{}".utf8)))
        #expect(topics.ownsDiscoveryConfig(topic: "homeassistant/device/rlt_site-b_p/config", payload: theirs))
    }
}
