import SafetyCore

/// The topic tree of the MQTT contract (docs/DESIGN.md, "MQTT contract (v1)").
///
/// Only ids are used in topics; the friendly name lives in payloads, so renaming a panel never
/// breaks an automation.
public struct Topics: Hashable, Sendable {
    public let prefix: String
    public let deviceID: String
    public let groups: [String]
    public let discoveryPrefix: String

    public init(prefix: String, deviceID: String, groups: [String] = [], discoveryPrefix: String = "homeassistant") {
        self.prefix = prefix
        self.deviceID = deviceID
        self.groups = groups
        self.discoveryPrefix = discoveryPrefix
    }

    public var base: String { "\(self.prefix)/\(self.deviceID)" }
    public var command: String { "\(self.base)/cmd" }
    public var response: String { "\(self.base)/res" }
    public var state: String { "\(self.base)/state" }
    public var telemetry: String { "\(self.base)/tele" }
    public var event: String { "\(self.base)/event" }
    public var info: String { "\(self.base)/info" }
    public var status: String { "\(self.base)/status" }
    /// Retained diagnostics (uptime, reconnects, dropped messages); an addition to the v1 contract.
    public var diagnostics: String { "\(self.base)/diag" }
    public var fleetAll: String { "\(self.prefix)/_all/cmd" }
    public func fleetGroup(_ group: String) -> String { "\(self.prefix)/_group/\(group)/cmd" }
    /// Home Assistant's birth / last-will topic.
    public var homeAssistantStatus: String { "\(self.discoveryPrefix)/status" }
    /// Device-based discovery (HA ≥ 2024.11).
    public var deviceDiscovery: String { "\(self.discoveryPrefix)/device/\(self.nodeID)/config" }
    /// Per-entity discovery for older Home Assistant.
    public func entityDiscovery(component: String, objectID: String) -> String {
        "\(self.discoveryPrefix)/\(component)/\(self.nodeID)/\(objectID)/config"
    }

    /// HA node ids allow `[a-zA-Z0-9_-]`; device ids are `[a-z0-9-]`, prefixed to stay unique per product.
    public var nodeID: String { "rlt_\(self.deviceID)" }

    /// Every topic the gateway subscribes to for commands, with where each came from.
    public var commandSubscriptions: [(topic: String, source: CommandSource)] {
        [(self.command, .device), (self.fleetAll, .fleetAll)] + self.groups.map { (self.fleetGroup($0), .fleetGroup($0)) }
    }

    /// Classifies an incoming topic.
    public func classify(_ topic: String) -> IncomingTopic {
        if topic == self.command { return .command(.device) }
        if topic == self.fleetAll { return .command(.fleetAll) }
        for group in self.groups where topic == self.fleetGroup(group) { return .command(.fleetGroup(group)) }
        if topic == self.homeAssistantStatus { return .homeAssistantStatus }
        return .other
    }
}

/// What an incoming topic means to the gateway.
public enum IncomingTopic: Hashable, Sendable {
    /// A command topic, and which one: the core's own ``SafetyCore/CommandSource``.
    case command(CommandSource)
    case homeAssistantStatus
    case other
}
