import GatewayProtocol
import Testing

/// The Home Assistant discovery documents as HA reads them: every component identifiable, available
/// only while the gateway is online, wired to the contract's topics, and the same entities in both
/// discovery modes. (Tests/homeassistant/run.sh checks the same documents in a real Home Assistant.)
struct HomeAssistantDiscoveryTests {
    let topics = Topics(prefix: "rlt", deviceID: "panel-1")

    var discovery: HomeAssistantDiscovery {
        HomeAssistantDiscovery(
            topics: self.topics,
            device: .init(name: "Panel 1", model: "RLT-660/850", serial: "SN1", softwareVersion: "0.1.0"),
            maxDurationMinutes: 2, maxDose: 60, temperatureExpireAfter: 15)
    }

    /// The document as the broker carries it, parsed back by the strict parser (which also rejects
    /// duplicate keys).
    var deviceDocument: JSONValue {
        get throws { try JSONValue.parse(self.discovery.deviceDocument.bytes) }
    }

    /// The components HA sets up: everything in `cmps` but the removals.
    func components(of document: JSONValue) -> [(String, JSONValue)] {
        guard case .object(let members) = document["cmps"] else { return [] }
        return members.filter { !self.isRemoval($0.1) }
    }

    /// `cmps` entries holding nothing but a platform: HA's removal of a component.
    func removals(of document: JSONValue) -> [String: String] {
        guard case .object(let members) = document["cmps"] else { return [:] }
        return Dictionary(
            uniqueKeysWithValues: members.filter { self.isRemoval($0.1) }.map { ($0.0, self.string($0.1["platform"]) ?? "?") })
    }

    func isRemoval(_ component: JSONValue) -> Bool {
        if case .object(let fields) = component { return fields.count == 1 && fields[0].0 == "platform" }
        return false
    }

    func string(_ value: JSONValue?) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    func number(_ value: JSONValue?) -> Double? {
        if case .number(let value) = value { return value }
        return nil
    }

    @Test func deviceDocument_holdsEveryEntityThePanelOffers() throws {
        let found = Set(
            self.components(of: try self.deviceDocument).map { "\(self.string($0.1["platform"]) ?? "?")/\($0.0)" })
        let expected: Set<String> = [
            "button/start", "button/pause", "button/resume", "button/stop", "button/ack", "button/identify",
            "select/channels", "number/duration", "number/intensity", "number/dose_target", "sensor/state",
            "sensor/temperature", "sensor/elapsed", "sensor/remaining", "sensor/ends_at", "sensor/session_dose",
            "sensor/dose_24h", "sensor/sessions_24h", "sensor/lifetime_dose", "sensor/lifetime_on_time",
            "binary_sensor/emitting", "binary_sensor/fault",
            "binary_sensor/interlock", "event/event", "sensor/software_version", "sensor/started",
            "sensor/reconnects", "sensor/dropped_messages",
        ]
        #expect(found == expected)
        // The retired uptime counter is removed on every start, for installations that had it.
        #expect(self.removals(of: try self.deviceDocument) == ["uptime": "sensor"])
    }

    /// A panel without PWM, interlock input or indicator gets no Intensity, Interlock or Identify, in
    /// both modes, and both modes remove them from an HA that has them from an earlier config.
    @Test func entitySet_followsTheHardware_andRemovesWhatThePanelLacks() throws {
        let bare = HomeAssistantDiscovery(
            topics: self.topics,
            device: .init(name: "Panel 1", model: "RLT-660/850", serial: "SN1", softwareVersion: "0.1.0"),
            maxDurationMinutes: 2, maxDose: 60, temperatureExpireAfter: 15,
            hardware: .init(dimmable: false, interlock: false, indicator: false))
        let document = try JSONValue.parse(bare.deviceDocument.bytes)
        let offered = Set(self.components(of: document).map(\.0))
        for missing in ["intensity", "interlock", "identify"] {
            #expect(!offered.contains(missing), "\(missing) offered without the hardware")
        }
        #expect(offered.count == self.discovery.components.count - 3)
        #expect(
            self.removals(of: document)
                == ["intensity": "number", "interlock": "binary_sensor", "identify": "button", "uptime": "sensor"])
        #expect(!bare.perEntityMessages.contains { $0.topic.contains("/interlock/") })
    }

    /// HA's event entity needs `event_type` in what the template renders, and every type listed.
    @Test func eventEntity_listsEveryEventKind_andRendersItsType() throws {
        let components = Dictionary(uniqueKeysWithValues: self.components(of: try self.deviceDocument))
        let event = try #require(components["event"])
        #expect(self.string(event["state_topic"]) == "rlt/panel-1/event")
        #expect(event["event_types"] == .array(EventDocument.Kind.allCases.map { .string($0.rawValue) }))
        #expect(self.string(event["value_template"])?.contains("event_type=value_json.event") == true)
    }

    @Test func diagnosticCounters_areDisabledByDefault_andTheStartIsATimestamp() throws {
        let components = Dictionary(uniqueKeysWithValues: self.components(of: try self.deviceDocument))
        for objectID in ["reconnects", "dropped_messages"] {
            #expect(components[objectID]?["enabled_by_default"] == false, "\(objectID)")
            #expect(self.string(components[objectID]?["entity_category"]) == "diagnostic")
        }
        #expect(self.string(components["started"]?["device_class"]) == "timestamp")
        #expect(self.string(components["ends_at"]?["device_class"]) == "timestamp")
        #expect(self.string(components["session_dose"]?["state_class"]) == "total_increasing")
    }

    /// The lifetime totals are HA long-term statistics that only grow, read from `state`'s
    /// `lifetime` member (added in 0.2).
    @Test func lifetimeSensors_areTotalIncreasing_andReadStatesLifetime() throws {
        let components = Dictionary(uniqueKeysWithValues: self.components(of: try self.deviceDocument))
        let dose = try #require(components["lifetime_dose"])
        let onTime = try #require(components["lifetime_on_time"])
        for sensor in [dose, onTime] {
            #expect(self.string(sensor["state_class"]) == "total_increasing")
            #expect(self.string(sensor["state_topic"]) == "rlt/panel-1/state")
            #expect(sensor["entity_category"] == nil)
        }
        #expect(self.string(dose["unit_of_measurement"]) == "J/cm²")
        #expect(self.string(dose["value_template"]) == "{{ value_json.lifetime.dose_j_cm2 }}")
        #expect(self.string(onTime["device_class"]) == "duration")
        #expect(self.string(onTime["unit_of_measurement"]) == "s")
        #expect(self.string(onTime["value_template"]) == "{{ value_json.lifetime.emitting_s }}")
    }

    /// Two gateways with one device id under different prefixes must not share unique ids; the
    /// default prefix keeps the ids installations have.
    @Test func nodeID_includesAnyPrefixButTheDefault_withoutCollisions() {
        #expect(Topics(prefix: "rlt", deviceID: "panel-1").nodeID == "rlt_panel-1")
        #expect(Topics(prefix: "site-b", deviceID: "panel-1").nodeID == "rlt_site-b_panel-1")
        #expect(Topics(prefix: "home/rlt", deviceID: "panel-1").nodeID == "rlt_home_2f_rlt_panel-1")
        let prefixes = ["rlt", "site-b", "site_b", "site/b", "site_2f_b", "rlt_x", "rlt/x", "a", "a_", "é"]
        let ids = ["panel-1", "x-panel-1", "b-panel-1", "1"]
        var seen: [String: String] = [:]
        for prefix in prefixes {
            for id in ids {
                let node = Topics(prefix: prefix, deviceID: id).nodeID
                #expect(node.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
                #expect(seen[node] == nil, "\(prefix)/\(id) and \(seen[node] ?? "") share \(node)")
                seen[node] = "\(prefix)/\(id)"
            }
        }
    }

    @Test func deviceDocument_everyComponentHasPlatformAndNodeScopedUniqueID() throws {
        for (objectID, component) in self.components(of: try self.deviceDocument) {
            #expect(self.string(component["platform"]) != nil, "\(objectID) has no platform")
            #expect(self.string(component["unique_id"]) == "rlt_panel-1_\(objectID)")
            #expect(self.string(component["name"])?.isEmpty == false, "\(objectID) has no name")
        }
    }

    @Test func deviceDocument_sharesAvailabilityOnTheStatusTopicWithEveryComponent() throws {
        let document = try self.deviceDocument
        #expect(self.string(document["availability_topic"]) == "rlt/panel-1/status")
        #expect(self.string(document["availability_template"]) == "{{ value_json.state }}")
        #expect(self.string(document["payload_available"]) == "online")
        #expect(self.string(document["payload_not_available"]) == "offline")
        // A component's own availability would override the shared one: none may have it.
        for (objectID, component) in self.components(of: document) {
            #expect(component["availability_topic"] == nil, "\(objectID) overrides availability")
        }
    }

    @Test func deviceDocument_namesTheDeviceAndOriginHAGroupsBy() throws {
        let document = try self.deviceDocument
        #expect(document["dev"]?["identifiers"] == .array(["rlt_panel-1"]))
        #expect(self.string(document["dev"]?["name"]) == "Panel 1")
        #expect(self.string(document["dev"]?["sw_version"]) == "0.1.0")
        #expect(self.string(document["o"]?["name"]) == "rlt-gateway")
        #expect(self.topics.deviceDiscovery == "homeassistant/device/rlt_panel-1/config")
    }

    /// Today's HA (2025.10+) takes a fresh entity's id from `default_entity_id`; HA before 2025.10
    /// drops that key and reads `object_id`. Both must name the same id, made from the device id, in
    /// both discovery modes, so automations see one set of entity ids on every supported HA.
    @Test func everyComponent_namesItsEntityIDAfterTheDeviceID_forOldAndNewHomeAssistant() throws {
        let perEntity = Dictionary(
            uniqueKeysWithValues: try self.discovery.perEntityMessages.map {
                ($0.topic, try JSONValue.parse($0.document.bytes))
            })
        for (objectID, component) in self.components(of: try self.deviceDocument) {
            let platform = try #require(self.string(component["platform"]))
            let entity = try #require(perEntity[self.topics.entityDiscovery(component: platform, objectID: objectID)])
            for document in [component, entity] {
                #expect(self.string(document["default_entity_id"]) == "\(platform).rlt_panel_1_\(objectID)")
                #expect(self.string(document["object_id"]) == "rlt_panel_1_\(objectID)")
            }
        }
    }

    @Test func defaultEntityIDs_areUniqueAndHomeAssistantSlugs() throws {
        let ids = self.components(of: try self.deviceDocument).compactMap { self.string($0.1["default_entity_id"]) }
        #expect(ids.count == self.discovery.components.count)
        #expect(Set(ids).count == ids.count)
        // HA slugs an id itself: lowercase letters, digits and single underscores between them.
        let odd = HomeAssistantDiscovery(
            topics: Topics(prefix: "rlt", deviceID: "Bath--2-"),
            device: .init(name: "Bath", model: "M", serial: "S", softwareVersion: "1"),
            maxDurationMinutes: 2, maxDose: 60, temperatureExpireAfter: 15)
        let state = try #require(odd.components.first { $0.objectID == "state" })
        #expect(odd.defaultEntityID(state) == "sensor.rlt_bath_2_state")
    }

    @Test func origin_carriesTheSupportURLOnlyWhenGiven() throws {
        let withURL = HomeAssistantDiscovery(
            topics: self.topics,
            device: .init(name: "Panel 1", model: "RLT-660/850", serial: "SN1", softwareVersion: "0.1.0"),
            maxDurationMinutes: 2, maxDose: 60, temperatureExpireAfter: 15,
            supportURL: "https://example.org/rlt-gateway/support")
        let document = try JSONValue.parse(withURL.deviceDocument.bytes)
        #expect(self.string(document["o"]?["support_url"]) == "https://example.org/rlt-gateway/support")
        let entity = try JSONValue.parse(try #require(withURL.perEntityMessages.first).document.bytes)
        #expect(self.string(entity["origin"]?["support_url"]) == "https://example.org/rlt-gateway/support")
        #expect(try self.deviceDocument["o"]?["support_url"] == nil)
    }

    @Test func uniqueIDs_areUniqueAcrossTheDocument() throws {
        let ids = self.components(of: try self.deviceDocument).compactMap { self.string($0.1["unique_id"]) }
        #expect(ids.count == self.discovery.components.count)
        #expect(Set(ids).count == ids.count)
    }

    @Test func controls_publishToTheCommandTopic_andReadersListenToContractTopics() throws {
        let readable: Set<String> = [
            "rlt/panel-1/state", "rlt/panel-1/tele", "rlt/panel-1/info", "rlt/panel-1/diag", "rlt/panel-1/event",
        ]
        for (objectID, component) in self.components(of: try self.deviceDocument) {
            let platform = self.string(component["platform"])
            if ["button", "select", "number"].contains(platform) {
                #expect(self.string(component["command_topic"]) == "rlt/panel-1/cmd", "\(objectID)")
            } else {
                #expect(component["command_topic"] == nil, "\(objectID) is read-only")
            }
            if platform != "button" {
                #expect(readable.contains(self.string(component["state_topic"]) ?? ""), "\(objectID)")
            }
        }
    }

    /// HA refuses a number whose min is not below max and drops every state outside the range, so
    /// the range must admit what the gateway publishes: a null dose target shows as 0, and a
    /// sub-minute preset (the demo's 20 s) as 0.3 min.
    @Test func numbers_haveARangeThatAdmitsEveryPublishedPreset() throws {
        let components = Dictionary(uniqueKeysWithValues: self.components(of: try self.deviceDocument))
        for objectID in ["duration", "intensity", "dose_target"] {
            let min = try #require(self.number(components[objectID]?["min"]))
            let max = try #require(self.number(components[objectID]?["max"]))
            #expect(min < max, "\(objectID): min \(min) max \(max)")
        }
        #expect(self.number(components["dose_target"]?["min"]) == 0)
        #expect(try #require(self.number(components["duration"]?["min"])) <= 20.0 / 60)
        #expect(self.number(components["duration"]?["max"]) == 2)
    }

    @Test func doseTargetZero_clearsTheTarget() throws {
        let components = Dictionary(uniqueKeysWithValues: self.components(of: try self.deviceDocument))
        let template = try #require(self.string(components["dose_target"]?["command_template"]))
        #expect(template.contains("'null'"))
        #expect(template.hasPrefix(#"{"cmd":"set","args":{"dose_j_cm2":"#))
    }

    @Test func perEntityMode_publishesOneMessagePerComponentOnItsOwnTopic() throws {
        let messages = self.discovery.perEntityMessages
        let components = self.discovery.components
        #expect(messages.count == components.count)
        #expect(Set(messages.map(\.topic)).count == messages.count)
        for (message, component) in zip(messages, components) {
            #expect(message.topic == "homeassistant/\(component.platform)/rlt_panel-1/\(component.objectID)/config")
            let document = try JSONValue.parse(message.document.bytes)
            #expect(self.string(document["unique_id"]) == "rlt_panel-1_\(component.objectID)")
            #expect(self.string(document["availability_topic"]) == "rlt/panel-1/status")
            #expect(document["device"]?["identifiers"] == .array(["rlt_panel-1"]))
            #expect(document["platform"] == nil, "per-entity topics carry the platform in the topic")
        }
    }

    @Test func bothModes_describeTheSameEntities() throws {
        let device = try self.deviceDocument
        let byObjectID = Dictionary(uniqueKeysWithValues: self.components(of: device))
        for (message, component) in zip(self.discovery.perEntityMessages, self.discovery.components) {
            let entity = try JSONValue.parse(message.document.bytes)
            let shared = try #require(byObjectID[component.objectID])
            for (key, value) in component.fields {
                #expect(entity[key] == value, "\(component.objectID).\(key) per entity")
                #expect(shared[key] == value, "\(component.objectID).\(key) in the device document")
            }
        }
    }
}
