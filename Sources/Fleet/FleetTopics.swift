import GatewayProtocol
import MQTT

/// The part of the topic tree a fleet tool reads: `<prefix>/<device>/<kind>` for every panel.
///
/// Fleet tools subscribe with one single-level wildcard per kind, so a new panel appears by itself
/// as soon as it publishes, and the broker ACLs that already give a dashboard read access to
/// `<prefix>/+/state` etc. are all a fleet tool needs.
public struct FleetTopics: Hashable, Sendable {
    /// What a panel topic carries: the contract's own leaves (``Topics/PanelTopic``).
    public typealias Kind = Topics.PanelTopic

    /// The leaves a fleet tool reads; the others (`cmd`, `info`, `diag`) are not classified.
    public static let kinds: [Kind] = [.status, .state, .telemetry, .event, .response]

    public let prefix: String

    /// - Throws: ``FleetError`` when the prefix is empty or holds a wildcard or an empty level.
    public init(prefix: String) throws(FleetError) {
        guard !prefix.isEmpty, !prefix.contains("+"), !prefix.contains("#"),
            !prefix.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty)
        else {
            throw FleetError.invalidPrefix(prefix)
        }
        self.prefix = prefix
    }

    /// The filter for one kind across every panel, e.g. `rlt/+/state`.
    public func filter(_ kind: Kind) -> String { "\(self.prefix)/+/\(kind.rawValue)" }

    /// The subscriptions of a monitoring tool: `status`, `state`, `tele` and `event` of every panel.
    public var monitorSubscriptions: [MQTTSubscription] {
        [
            MQTTSubscription(filter: self.filter(.status), qos: .atLeastOnce),
            MQTTSubscription(filter: self.filter(.state), qos: .atLeastOnce),
            MQTTSubscription(filter: self.filter(.telemetry), qos: .atMostOnce),
            MQTTSubscription(filter: self.filter(.event), qos: .atLeastOnce),
        ]
    }

    /// `<prefix>/_all/cmd`: every panel of the fleet.
    public var allCommand: String { Topics.fleetAll(prefix: self.prefix) }

    /// `<prefix>/_group/<group>/cmd`: the panels configured with `device.groups: [group]`.
    public func groupCommand(_ group: String) -> String { Topics.fleetGroup(group, prefix: self.prefix) }

    /// The device id and kind of a panel topic; `nil` for anything else, including the fleet
    /// command topics (`_all`, `_group`) and ids a gateway would never use.
    public func classify(_ topic: String) -> (device: String, kind: Kind)? {
        guard topic.hasPrefix(self.prefix + "/") else { return nil }
        let rest = topic.dropFirst(self.prefix.count + 1)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let kind = Kind(rawValue: String(parts[1])), Self.kinds.contains(kind) else {
            return nil
        }
        let device = String(parts[0])
        guard Self.isDeviceID(device) else { return nil }
        return (device, kind)
    }

    /// Whether `text` is a device id or group name of the contract: 1–32 of `a-z`, `0-9`, `-`.
    public static func isDeviceID(_ text: String) -> Bool {
        (1...32).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || $0 == UInt8(ascii: "-")
            }
    }
}
