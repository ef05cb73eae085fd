/// Home Assistant MQTT discovery documents for one panel.
///
/// Device-based discovery (one retained `homeassistant/device/<node>/config` holding every
/// component, HA ≥ 2024.11) is the default; ``perEntityMessages`` produces the older one-topic-per-
/// entity form for installations that have not upgraded. Both describe the same entities, so an
/// automation written against one keeps working with the other.
public struct HomeAssistantDiscovery: Sendable {
    public struct Device: Hashable, Sendable {
        public var name: String
        public var model: String
        public var serial: String
        public var softwareVersion: String
        public var manufacturer: String

        public init(name: String, model: String, serial: String, softwareVersion: String, manufacturer: String = "rlt")
        {
            self.name = name
            self.model = model
            self.serial = serial
            self.softwareVersion = softwareVersion
            self.manufacturer = manufacturer
        }
    }

    public let topics: Topics
    public let device: Device
    /// Largest duration the Duration number offers, in minutes: the config's `max_session_s`
    /// rounded down to 0.1 min, as the number's state is, so the largest preset stays in range.
    public let maxDurationMinutes: Double
    public let maxDose: Double
    /// Seconds after which the temperature goes unavailable without fresh telemetry.
    public let temperatureExpireAfter: Int
    /// Where a Home Assistant user gets help with this gateway: HA shows it with the origin in its
    /// log and its MQTT device info. Omitted when nil (HA accepts only an absolute http(s) URL).
    public let supportURL: String?
    /// What the panel has: discovery offers only the entities that work on it.
    public let hardware: Hardware

    /// The parts of a panel that decide whether an entity makes sense.
    public struct Hardware: Hashable, Sendable {
        /// A channel has PWM: without it every intensity below 100 % is refused, so no Intensity.
        public var dimmable: Bool
        /// An interlock input is wired: without one an Interlock sensor would show "safe" for nothing.
        public var interlock: Bool
        /// An indicator output is wired: `identify` blinks it, so only then an Identify button.
        public var indicator: Bool

        public init(dimmable: Bool, interlock: Bool, indicator: Bool) {
            self.dimmable = dimmable
            self.interlock = interlock
            self.indicator = indicator
        }

        /// Everything wired: the largest entity set.
        public static let complete = Hardware(dimmable: true, interlock: true, indicator: true)
    }

    public init(
        topics: Topics, device: Device, maxDurationMinutes: Double, maxDose: Double, temperatureExpireAfter: Int,
        supportURL: String? = nil, hardware: Hardware = .complete
    ) {
        self.topics = topics
        self.device = device
        self.maxDurationMinutes = maxDurationMinutes
        self.maxDose = maxDose
        self.temperatureExpireAfter = temperatureExpireAfter
        self.supportURL = supportURL
        self.hardware = hardware
    }

    /// One entity: its platform, a stable object id and its platform-specific fields.
    public struct Component: Sendable {
        public var platform: String
        public var objectID: String
        public var fields: [(String, JSONValue)]
    }

    /// The entities this panel offers.
    public var components: [Component] {
        self.catalogue.filter { self.offers($0.objectID) }
    }

    /// Entities a gateway may have published before and no longer does here: those the hardware
    /// lacks, and those an earlier version had (`uptime`, replaced by `started`). Discovery removes
    /// them, so HA drops an entity as soon as the config no longer gives the panel what it needs.
    public var removedComponents: [(platform: String, objectID: String)] {
        self.catalogue.filter { !self.offers($0.objectID) }.map { ($0.platform, $0.objectID) } + Self.retired
    }

    /// Components of earlier versions, still removed on every start for installations that had them.
    static let retired: [(platform: String, objectID: String)] = [("sensor", "uptime")]

    private func offers(_ objectID: String) -> Bool {
        switch objectID {
        case "intensity": self.hardware.dimmable
        case "interlock": self.hardware.interlock
        case "identify": self.hardware.indicator
        default: true
        }
    }

    /// Every component this version can publish, whatever the panel has.
    private var catalogue: [Component] {
        let state = self.topics.state
        func button(_ id: String, _ name: String, _ command: String, icon: String, args: String = "") -> Component {
            let payload = args.isEmpty ? #"{"cmd":"\#(command)"}"# : #"{"cmd":"\#(command)","args":\#(args)}"#
            return Component(
                platform: "button", objectID: id,
                fields: [
                    ("name", .string(name)), ("command_topic", .string(self.topics.command)),
                    ("payload_press", .string(payload)), ("icon", .string(icon)),
                ])
        }
        func sensor(
            _ id: String, _ name: String, _ template: String, topic: String? = nil, extra: [(String, JSONValue)]
        ) -> Component {
            Component(
                platform: "sensor", objectID: id,
                fields: [
                    ("name", .string(name)), ("state_topic", .string(topic ?? state)),
                    ("value_template", .string(template)),
                ]
                    + extra)
        }
        // Session progress reads `tele`: every second while emitting and on every change, where the
        // retained `state` moves only on changes and the idle heartbeat.
        let live = self.topics.telemetry
        func setTemplate(_ key: String, _ value: String) -> String {
            #"{"cmd":"set","args":{"\#(key)":\#(value)}}"#
        }
        return [
            button("start", "Start", "start", icon: "mdi:play"),
            button("pause", "Pause", "pause", icon: "mdi:pause"),
            button("resume", "Resume", "resume", icon: "mdi:play-pause"),
            button("stop", "Stop", "stop", icon: "mdi:stop"),
            button("ack", "Acknowledge fault", "ack", icon: "mdi:alert-remove", args: #"{"fault":"all"}"#),
            button("identify", "Identify", "identify", icon: "mdi:lightbulb-on-outline"),
            Component(
                platform: "select", objectID: "channels",
                fields: [
                    ("name", "Channels"), ("command_topic", .string(self.topics.command)),
                    ("command_template", .string(setTemplate("channels", #""{{ value }}""#))),
                    ("state_topic", .string(state)), ("value_template", "{{ value_json.presets.channels }}"),
                    ("options", .array(["red", "nir", "both"])), ("icon", "mdi:led-on"),
                ]),
            Component(
                platform: "number", objectID: "duration",
                fields: [
                    ("name", "Duration"), ("command_topic", .string(self.topics.command)),
                    (
                        "command_template",
                        .string(setTemplate("duration_s", "{{ (value | float * 60) | round(0) | int }}"))
                    ),
                    ("state_topic", .string(state)),
                    ("value_template", "{{ (value_json.presets.duration_s / 60) | round(1, 'floor') }}"),
                    // HA drops a state outside min…max with an error, so the range must admit any preset
                    // the gateway accepts: min is the template's 0.1 min resolution (20 s shows as 0.3),
                    // and the template rounds down like maxDurationMinutes (100 s shows as 1.6, not 1.7).
                    ("min", 0.1), ("max", .number(self.maxDurationMinutes)), ("step", 0.1), ("mode", "box"),
                    ("unit_of_measurement", "min"), ("icon", "mdi:timer-outline"),
                ]),
            Component(
                platform: "number", objectID: "intensity",
                fields: [
                    ("name", "Intensity"), ("command_topic", .string(self.topics.command)),
                    ("command_template", .string(setTemplate("intensity_pct", "{{ value | int }}"))),
                    ("state_topic", .string(state)), ("value_template", "{{ value_json.presets.intensity_pct }}"),
                    ("min", 1), ("max", 100), ("step", 1), ("unit_of_measurement", "%"), ("icon", "mdi:brightness-6"),
                ]),
            Component(
                platform: "number", objectID: "dose_target",
                fields: [
                    ("name", "Dose target"), ("command_topic", .string(self.topics.command)),
                    // 0 means "no target" both ways: shown for a null target, sent as null to clear it
                    // (HA rejects a state below min, and a number cannot send null otherwise).
                    (
                        "command_template",
                        .string(setTemplate("dose_j_cm2", "{{ value | float if value | float > 0 else 'null' }}"))
                    ),
                    ("state_topic", .string(state)),
                    (
                        "value_template",
                        "{{ value_json.presets.dose_j_cm2 if value_json.presets.dose_j_cm2 is not none else 0 }}"
                    ),
                    ("min", 0), ("max", .number(self.maxDose)), ("step", 0.5), ("mode", "box"),
                    ("unit_of_measurement", "J/cm²"), ("icon", "mdi:target"),
                ]),
            sensor(
                "state", "State", "{{ value_json.state }}",
                extra: [
                    ("device_class", "enum"), ("options", .array(["idle", "running", "paused", "cooldown", "fault"])),
                    ("icon", "mdi:state-machine"),
                ]),
            Component(
                platform: "sensor", objectID: "temperature",
                fields: [
                    ("name", "Temperature"), ("state_topic", .string(self.topics.telemetry)),
                    ("value_template", "{{ value_json.temperature_c }}"), ("device_class", "temperature"),
                    ("state_class", "measurement"), ("unit_of_measurement", "°C"),
                    ("expire_after", .number(Double(self.temperatureExpireAfter))),
                ]),
            sensor(
                "elapsed", "Elapsed", "{{ value_json.elapsed_s | round(0) }}", topic: live,
                extra: [("device_class", "duration"), ("unit_of_measurement", "s"), ("icon", "mdi:timer-sand")]),
            sensor(
                "remaining", "Remaining", "{{ value_json.remaining_s | round(0) }}", topic: live,
                extra: [
                    ("device_class", "duration"), ("unit_of_measurement", "s"), ("icon", "mdi:timer-sand-complete"),
                ]),
            // When the running session ends at this pace: the publish time plus what remains, to the
            // second; unknown while nothing runs (a paused session has no end time yet).
            sensor(
                "ends_at", "Session ends at",
                "{{ ((value_json.ts / 1000 + value_json.remaining_s) | round(0)) | timestamp_custom('%Y-%m-%dT%H:%M:%S+00:00', false) if value_json.state == 'running' else None }}",
                topic: live, extra: [("device_class", "timestamp"), ("icon", "mdi:timer-check-outline")]),
            // Grows through a session and starts again at 0 with the next: HA's `total_increasing`,
            // so long-term statistics sum sessions instead of averaging them.
            sensor(
                "session_dose", "Session dose", "{{ value_json.dose_j_cm2.total }}", topic: live,
                extra: [
                    ("unit_of_measurement", "J/cm²"), ("state_class", "total_increasing"), ("icon", "mdi:sun-wireless"),
                ]),
            sensor(
                "dose_24h", "24 h dose", "{{ value_json.dose_24h_j_cm2 }}",
                extra: [("unit_of_measurement", "J/cm²"), ("state_class", "measurement"), ("icon", "mdi:sun-clock")]),
            sensor(
                "sessions_24h", "Sessions in 24 h", "{{ value_json.sessions_24h }}",
                extra: [("state_class", "measurement"), ("icon", "mdi:counter")]),
            // The ledger's lifetime totals: they only grow (retention never reduces them), so
            // `total_increasing` lets long-term statistics sum light and LED hours over any period.
            // Read from the retained `state`: they move when the ledger writes, not every second.
            sensor(
                "lifetime_dose", "Lifetime dose", "{{ value_json.lifetime.dose_j_cm2 }}",
                extra: [
                    ("unit_of_measurement", "J/cm²"), ("state_class", "total_increasing"), ("icon", "mdi:sigma"),
                ]),
            sensor(
                "lifetime_on_time", "LED on-time", "{{ value_json.lifetime.emitting_s }}",
                extra: [
                    ("device_class", "duration"), ("unit_of_measurement", "s"), ("state_class", "total_increasing"),
                    ("icon", "mdi:timer-play-outline"),
                ]),
            Component(
                platform: "binary_sensor", objectID: "emitting",
                fields: [
                    ("name", "Emitting"), ("state_topic", .string(state)),
                    ("value_template", "{{ 'ON' if value_json.emitting else 'OFF' }}"), ("device_class", "light"),
                ]),
            Component(
                platform: "binary_sensor", objectID: "fault",
                fields: [
                    ("name", "Fault"), ("state_topic", .string(state)),
                    ("value_template", "{{ 'ON' if value_json.faults | length > 0 else 'OFF' }}"),
                    ("device_class", "problem"), ("json_attributes_topic", .string(state)),
                    ("json_attributes_template", "{{ {'faults': value_json.faults} | tojson }}"),
                ]),
            Component(
                platform: "binary_sensor", objectID: "interlock",
                fields: [
                    ("name", "Interlock"), ("state_topic", .string(state)),
                    // HA's `safety` class: ON means unsafe, i.e. the interlock is open.
                    ("value_template", "{{ 'ON' if value_json.interlock == 'open' else 'OFF' }}"),
                    ("device_class", "safety"),
                ]),
            Component(
                platform: "sensor", objectID: "software_version",
                fields: [
                    ("name", "Software version"), ("state_topic", .string(self.topics.info)),
                    ("value_template", "{{ value_json.sw_version }}"), ("entity_category", "diagnostic"),
                    ("icon", "mdi:information-outline"),
                ]),
            // A timestamp, as HA wants for "since when": an uptime in seconds would write a new state
            // (and a recorder row) on every diagnostics message. `diag`'s own `ts` minus its uptime,
            // to the second, is the same instant each time.
            Component(
                platform: "sensor", objectID: "started",
                fields: [
                    ("name", "Started"), ("state_topic", .string(self.topics.diagnostics)),
                    (
                        "value_template",
                        "{{ ((value_json.ts / 1000 - value_json.uptime_s) | round(0)) | timestamp_custom('%Y-%m-%dT%H:%M:%S+00:00', false) }}"
                    ),
                    ("device_class", "timestamp"), ("entity_category", "diagnostic"), ("icon", "mdi:restart"),
                ]),
            // Counters for troubleshooting: registered but disabled until a user turns them on, as HA
            // asks of noisy diagnostics.
            Component(
                platform: "sensor", objectID: "reconnects",
                fields: [
                    ("name", "MQTT reconnects"), ("state_topic", .string(self.topics.diagnostics)),
                    ("value_template", "{{ value_json.reconnects }}"), ("state_class", "total_increasing"),
                    ("entity_category", "diagnostic"), ("enabled_by_default", false), ("icon", "mdi:lan-disconnect"),
                ]),
            Component(
                platform: "sensor", objectID: "dropped_messages",
                fields: [
                    ("name", "Dropped messages"), ("state_topic", .string(self.topics.diagnostics)),
                    ("value_template", "{{ value_json.dropped_messages }}"), ("state_class", "total_increasing"),
                    ("entity_category", "diagnostic"), ("enabled_by_default", false),
                    ("icon", "mdi:email-remove-outline"),
                ]),
            // Everything `<base>/event` reports, refusals included (their code and message become the
            // event's attributes), so automations trigger on an HA event entity, not on raw MQTT.
            Component(
                platform: "event", objectID: "event",
                fields: [
                    ("name", "Event"), ("state_topic", .string(self.topics.event)),
                    ("event_types", .array(EventDocument.Kind.allCases.map { .string($0.rawValue) })),
                    ("value_template", "{{ dict(value_json, event_type=value_json.event) | tojson }}"),
                    ("icon", "mdi:bell-ring-outline"),
                ]),
        ]
    }

    private var availability: [(String, JSONValue)] {
        [
            ("availability_topic", .string(self.topics.status)),
            ("availability_template", "{{ value_json.state }}"),
            ("payload_available", "online"), ("payload_not_available", "offline"),
        ]
    }

    private var deviceBlock: JSONValue {
        .object([
            ("identifiers", .array([.string(self.topics.nodeID)])), ("name", .string(self.device.name)),
            ("manufacturer", .string(self.device.manufacturer)), ("model", .string(self.device.model)),
            ("serial_number", .string(self.device.serial)), ("sw_version", .string(self.device.softwareVersion)),
        ])
    }

    private var originBlock: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("name", "rlt-gateway"), ("sw_version", .string(self.device.softwareVersion)),
        ]
        if let supportURL = self.supportURL { fields.append(("support_url", .string(supportURL))) }
        return .object(fields)
    }

    private func uniqueID(_ component: Component) -> String { "\(self.topics.nodeID)_\(component.objectID)" }

    /// The entity id a component gets in a Home Assistant that has not registered it yet:
    /// `<platform>.<unique id as an HA slug>`, e.g. `sensor.rlt_panel_1_temperature`. It follows the
    /// device id, never the friendly name, so renaming a panel or switching discovery modes does not
    /// change the ids automations use. (HA keeps the id it registered for a unique id, whatever the
    /// document says later.)
    public func defaultEntityID(_ component: Component) -> String {
        "\(component.platform).\(Self.slug(self.uniqueID(component)))"
    }

    /// HA's slug of an id: lowercase ASCII letters and digits, every other run of characters one `_`,
    /// none at either end.
    static func slug(_ text: String) -> String {
        var slug = ""
        var pendingSeparator = false
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                if pendingSeparator && !slug.isEmpty { slug.append("_") }
                pendingSeparator = false
                slug.unicodeScalars.append(scalar)
            } else {
                pendingSeparator = true
            }
        }
        return slug
    }

    /// How a component names its entity id for every HA the README supports. `default_entity_id`
    /// is what HA reads since 2025.10; HA before 2025.10 drops it and reads `object_id` (the part
    /// after the dot) instead. HA 2025.10–2026.3 warns about `object_id` only when
    /// `default_entity_id` is missing, and 2026.4+ drops `object_id` silently, so carrying both
    /// gives every version the same id without a warning. `object_id` can go once the oldest HA
    /// supported is 2025.10 or later.
    private func entityIDFields(_ component: Component) -> [(String, JSONValue)] {
        let entityID = self.defaultEntityID(component)
        let objectID = String(entityID.drop(while: { $0 != "." }).dropFirst())
        return [("default_entity_id", .string(entityID)), ("object_id", .string(objectID))]
    }

    /// The device-based discovery document (HA ≥ 2024.11).
    public var deviceDocument: JSONValue {
        let components = self.components.map { component -> (String, JSONValue) in
            (
                component.objectID,
                .object(
                    [("platform", .string(component.platform)), ("unique_id", .string(self.uniqueID(component)))]
                        + self.entityIDFields(component) + component.fields)
            )
        }
        // A component holding nothing but its platform is HA's removal: the entity goes, if it was there.
        let removals = self.removedComponents.map { removed -> (String, JSONValue) in
            (removed.objectID, .object([("platform", .string(removed.platform))]))
        }
        return .object(
            [("dev", self.deviceBlock), ("o", self.originBlock)] + self.availability + [
                ("qos", 1), ("cmps", .object(components + removals)),
            ])
    }

    /// Per-entity discovery messages (topic, document) for Home Assistant before 2024.11.
    public var perEntityMessages: [(topic: String, document: JSONValue)] {
        self.components.map { component in
            (
                self.topics.entityDiscovery(component: component.platform, objectID: component.objectID),
                .object(
                    [("unique_id", .string(self.uniqueID(component)))] + self.entityIDFields(component)
                        + component.fields + self.availability + [
                            ("qos", 1), ("device", self.deviceBlock), ("origin", self.originBlock),
                        ])
            )
        }
    }
}

extension HomeAssistantDiscovery {
    /// Whether a message on Home Assistant's status topic is its birth, which asks every integration to
    /// publish its discovery again: exactly `online` (HA's `birth_message` default); its will
    /// `offline`, and anything else a client may publish there, asks for nothing. `public` so that the
    /// loop and Fuzz/HomeAssistant judge a payload with the same function.
    public static func isBirth(_ payload: [UInt8]) -> Bool {
        String(decoding: payload, as: UTF8.self) == "online"
    }
}
