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

    /// The topics of one panel, each `<prefix>/<device>/<leaf>`; fleet tools read the same leaves
    /// across every panel with a `+` in the device level.
    public enum PanelTopic: String, CaseIterable, Hashable, Sendable {
        case command = "cmd"
        case response = "res"
        case state
        case telemetry = "tele"
        case event
        case info
        case status
        /// Retained diagnostics (uptime, reconnects, dropped messages); an addition to the v1 contract.
        case diagnostics = "diag"
    }

    public var base: String { "\(self.prefix)/\(self.deviceID)" }
    public func panel(_ topic: PanelTopic) -> String { "\(self.base)/\(topic.rawValue)" }
    public var command: String { self.panel(.command) }
    public var response: String { self.panel(.response) }
    public var state: String { self.panel(.state) }
    public var telemetry: String { self.panel(.telemetry) }
    public var event: String { self.panel(.event) }
    public var info: String { self.panel(.info) }
    public var status: String { self.panel(.status) }
    public var diagnostics: String { self.panel(.diagnostics) }
    public var fleetAll: String { Self.fleetAll(prefix: self.prefix) }
    public func fleetGroup(_ group: String) -> String { Self.fleetGroup(group, prefix: self.prefix) }

    /// `<prefix>/_all/cmd`: every panel of the fleet.
    public static func fleetAll(prefix: String) -> String { "\(prefix)/_all/cmd" }

    /// `<prefix>/_group/<group>/cmd`: the panels configured with `device.groups: [group]`.
    public static func fleetGroup(_ group: String, prefix: String) -> String { "\(prefix)/_group/\(group)/cmd" }
    /// Home Assistant's birth / last-will topic.
    public var homeAssistantStatus: String { "\(self.discoveryPrefix)/status" }
    /// Device-based discovery (HA ≥ 2024.11).
    public var deviceDiscovery: String { "\(self.discoveryPrefix)/device/\(self.nodeID)/config" }
    /// Per-entity discovery for older Home Assistant.
    public func entityDiscovery(component: String, objectID: String) -> String {
        "\(self.discoveryPrefix)/\(component)/\(self.nodeID)/\(objectID)/config"
    }

    /// The Home Assistant node id: in the discovery topics, the device's identifier and every unique id.
    ///
    /// Where the discovery sweep sends its probe (``DiscoverySweep``): never retained, and not a
    /// `…/config` topic, so Home Assistant does not read it.
    public var discoverySweepProbe: String { "\(self.discoveryPrefix)/device/\(self.nodeID)/sweep" }

    /// The filters that bring back this node's retained discovery configs, in both forms, and those
    /// of its node id before 0.2 (``legacyNodeID``).
    public var discoveryConfigFilters: [String] {
        ([self.nodeID] + (self.legacyNodeID.map { [$0] } ?? [])).flatMap { node in
            ["\(self.discoveryPrefix)/device/\(node)/config", "\(self.discoveryPrefix)/+/\(node)/+/config"]
        }
    }

    /// The node id 0.1 used under a non-default prefix (`rlt_<device id>`, the one that could collide);
    /// `nil` under the default prefix, where it did not change.
    public var legacyNodeID: String? { self.prefix == "rlt" ? nil : "rlt_\(self.deviceID)" }

    /// Whether a retained config on `topic` is this gateway's to sweep: any config of its node, and a
    /// config of its 0.1 node id only when it names this panel's status topic as its availability
    /// (under that id another gateway, with the default prefix and the same device id, may live).
    public func ownsDiscoveryConfig(topic: String, payload: [UInt8]) -> Bool {
        if self.isDiscoveryConfig(topic, node: self.nodeID) { return true }
        guard let legacy = self.legacyNodeID, self.isDiscoveryConfig(topic, node: legacy) else { return false }
        return payload.firstRange(of: Array("\"\(self.status)\"".utf8)) != nil
    }

    /// Whether `topic` is a discovery config (device topic or per-entity topic) of `node`.
    func isDiscoveryConfig(_ topic: String, node: String) -> Bool {
        if topic == "\(self.discoveryPrefix)/device/\(node)/config" { return true }
        guard topic.hasPrefix(self.discoveryPrefix + "/") else { return false }
        let levels = topic.dropFirst(self.discoveryPrefix.count + 1).split(separator: "/", omittingEmptySubsequences: false)
        return levels.count == 4 && levels[1] == node && levels[3] == "config" && !levels[0].isEmpty
            && !levels[2].isEmpty
    }

    /// HA node ids allow `[a-zA-Z0-9_-]`. Under the default prefix it is `rlt_<device id>`, the id
    /// every installation has had since 0.1. Under any other prefix the prefix is part of it,
    /// `rlt_<prefix>_<device id>`, so two gateways with the same device id under different prefixes
    /// (two sites on one broker) never share a unique id. The prefix keeps `[a-zA-Z0-9-]` and writes
    /// every other byte as `_xx_` (hex): device ids hold no `_`, so the mapping cannot collide.
    public var nodeID: String {
        guard self.prefix != "rlt" else { return "rlt_\(self.deviceID)" }
        return "rlt_\(Self.nodeIDEscaped(self.prefix))_\(self.deviceID)"
    }

    static func nodeIDEscaped(_ text: String) -> String {
        var escaped = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || byte == 0x2D {
                escaped.unicodeScalars.append(scalar)
            } else {
                let hex = String(byte, radix: 16)
                escaped += "_" + (hex.count == 1 ? "0" + hex : hex) + "_"
            }
        }
        return escaped
    }

    /// Every topic the gateway subscribes to for commands, with where each came from.
    public var commandSubscriptions: [(topic: String, source: CommandSource)] {
        [(self.command, .device), (self.fleetAll, .fleetAll)] + self.groups.map { (self.fleetGroup($0), .fleetGroup($0)) }
    }

    /// Whether an MQTT v5 request's response topic may be honoured: only a topic in this panel's own
    /// `<base>/res/` tree (a client names its own leaf, e.g. `<base>/res/<client-id>`), never a
    /// wildcard. Anything else would let whoever may command this panel make it publish elsewhere:
    /// to another panel's `state`, or to `homeassistant/…/config`.
    public func mayAnswer(on responseTopic: String) -> Bool {
        let tree = self.response + "/"
        guard responseTopic.hasPrefix(tree), responseTopic.count > tree.count else { return false }
        return !responseTopic.contains { $0 == "+" || $0 == "#" || $0 == "\u{0}" }
    }

    /// Classifies an incoming topic.
    public func classify(_ topic: String) -> IncomingTopic {
        if topic == self.command { return .command(.device) }
        if topic == self.fleetAll { return .command(.fleetAll) }
        for group in self.groups where topic == self.fleetGroup(group) { return .command(.fleetGroup(group)) }
        if topic == self.homeAssistantStatus { return .homeAssistantStatus }
        if topic == self.discoverySweepProbe { return .discoverySweepProbe }
        if self.isDiscoveryConfig(topic, node: self.nodeID)
            || self.legacyNodeID.map({ self.isDiscoveryConfig(topic, node: $0) }) == true
        {
            return .discoveryConfig
        }
        return .other
    }
}

/// What an incoming topic means to the gateway.
public enum IncomingTopic: Hashable, Sendable {
    /// A command topic, and which one: the core's own ``SafetyCore/CommandSource``.
    case command(CommandSource)
    case homeAssistantStatus
    /// One of this node's own discovery configs, read back for the sweep.
    case discoveryConfig
    /// The sweep's probe, back from the broker.
    case discoverySweepProbe
    case other
}
