/// Who this panel is: its MQTT identity and what it reports about itself.
public struct DeviceSettings: Sendable, Hashable {
    /// Stable id in every topic (`<prefix>/<id>`); `[a-z0-9-]{1,32}`.
    public var id: String
    /// Friendly name, in payloads only, so renaming never breaks automations.
    public var name: String
    public var model: String
    /// Who made the panel, as Home Assistant's device page shows it; defaults to `rlt`.
    public var manufacturer: String
    /// Defaults to ``id`` when the config gives none.
    public var serial: String
    /// Fleet groups this panel answers on `<prefix>/_group/<g>/cmd`; same charset as ``id``.
    public var groups: [String]

    public init(
        id: String = "panel-1", name: String? = nil, model: String = "RLT-660/850", manufacturer: String = "rlt",
        serial: String? = nil, groups: [String] = []
    ) {
        self.id = id
        self.name = name ?? id
        self.model = model
        self.manufacturer = manufacturer
        self.serial = serial ?? id
        self.groups = groups
    }

    /// Whether `text` may be a device id or a group name: 1–32 characters from `a-z`, `0-9`, `-`.
    ///
    /// The id is a topic level, so it must never hold `/`, `+`, `#` or anything a shell or an HA
    /// entity id would mangle.
    public static func isValidIdentifier(_ text: String) -> Bool {
        guard (1...32).contains(text.unicodeScalars.count) else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
