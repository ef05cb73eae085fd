import Testing

@testable import Fleet

@Suite struct FleetTopicsTests {
    let topics: FleetTopics

    init() throws {
        self.topics = try FleetTopics(prefix: "rlt")
    }

    @Test(arguments: [
        ("rlt/panel-1/status", "panel-1", FleetTopics.Kind.status),
        ("rlt/p2/state", "p2", .state),
        ("rlt/p2/tele", "p2", .telemetry),
        ("rlt/p2/event", "p2", .event),
        ("rlt/p2/res", "p2", .response),
    ])
    func panelTopic_isClassifiedByDeviceAndKind(topic: String, device: String, kind: FleetTopics.Kind) {
        let classified = self.topics.classify(topic)
        #expect(classified?.device == device)
        #expect(classified?.kind == kind)
    }

    @Test(arguments: [
        "rlt/_all/cmd", "rlt/_all/status", "rlt/_group/g/cmd", "rlt/p1/cmd", "rlt/p1/info", "other/p1/state",
        "rlt/P1/state", "rlt/p1/state/x", "rlt//state", "rlt/\(String(repeating: "a", count: 33))/state",
    ])
    func nonPanelTopic_isIgnored(topic: String) {
        #expect(self.topics.classify(topic) == nil)
    }

    @Test func filtersAndCommandTopics_followTheContract() throws {
        let topics = try FleetTopics(prefix: "clinic/rlt")
        #expect(
            topics.monitorSubscriptions.map(\.filter) == [
                "clinic/rlt/+/status", "clinic/rlt/+/state", "clinic/rlt/+/tele", "clinic/rlt/+/event",
            ])
        #expect(topics.allCommand == "clinic/rlt/_all/cmd")
        #expect(topics.groupCommand("ward-a") == "clinic/rlt/_group/ward-a/cmd")
        #expect(topics.classify("clinic/rlt/p1/state")?.device == "p1")
    }

    @Test(arguments: ["", "rlt/+", "rlt/#", "rlt//x", "/rlt", "rlt/"])
    func unusablePrefix_isRefusedWithTheReason(prefix: String) {
        #expect {
            try FleetTopics(prefix: prefix)
        } throws: { error in
            "\(error)".contains("'\(prefix)' is not usable")
        }
    }

    @Test func groupName_outsideTheCharset_isRefused() {
        #expect(throws: FleetError.self) { try FleetTarget.named(group: "Ward A") }
        #expect(throws: Never.self) { try FleetTarget.named(group: "ward-a") }
    }
}
