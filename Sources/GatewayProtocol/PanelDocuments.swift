import SafetyCore

// MARK: - diag

/// Retained `<base>/diag`: how long this run has been up and how the MQTT link has fared.
///
/// `dropped_messages` counts outgoing messages dropped while offline (queue full or telemetry)
/// and incoming ones shed because the loop fell behind: never silently lost.
public struct DiagnosticsDocument: Hashable, Sendable {
    public var bootID: String
    /// Whole seconds since the daemon started.
    public var uptimeSeconds: Double
    public var reconnects: Int
    public var droppedMessages: Int
    public var unixMs: Int64

    public init(bootID: String, uptimeSeconds: Double, reconnects: Int, droppedMessages: Int, unixMs: Int64) {
        self.bootID = bootID
        self.uptimeSeconds = rounded(uptimeSeconds, digits: 0)
        self.reconnects = reconnects
        self.droppedMessages = droppedMessages
        self.unixMs = unixMs
    }

    public var json: JSONValue {
        .object([
            ("boot_id", .string(self.bootID)), ("uptime_s", .number(self.uptimeSeconds)),
            ("reconnects", .number(Double(self.reconnects))), ("dropped_messages", .number(Double(self.droppedMessages))),
            ("ts", .number(Double(self.unixMs))),
        ])
    }

    public init(json: JSONValue) throws(ContractError) {
        let reader = try DocumentReader("diag", json)
        self.init(
            bootID: try reader.string("boot_id"), uptimeSeconds: try reader.number("uptime_s"),
            reconnects: try reader.integer("reconnects"), droppedMessages: try reader.integer("dropped_messages"),
            unixMs: try reader.integer("ts"))
    }
}

// MARK: - info

/// What the panel is, as it was built and configured: name, model, the channels' light and the
/// limits it enforces (`<base>/info`, retained).
public struct DeviceInfo: Hashable, Sendable {
    public var name: String
    public var model: String
    public var serial: String
    public var softwareVersion: String
    public var wavelengthsNm: PerChannel<Double>
    public var settings: SafetySettings

    public init(
        name: String, model: String, serial: String, softwareVersion: String, wavelengthsNm: PerChannel<Double>,
        settings: SafetySettings
    ) {
        self.name = name
        self.model = model
        self.serial = serial
        self.softwareVersion = softwareVersion
        self.wavelengthsNm = wavelengthsNm
        self.settings = settings
    }

    public var json: JSONValue { InfoDocument(self).json }
}

/// `<base>/info` as published: the part of ``DeviceInfo`` a client can see.
public struct InfoDocument: Hashable, Sendable {
    public struct ChannelInfo: Hashable, Sendable {
        public var wavelengthNm: Double
        public var irradianceMWPerCm2: Double
        public var dimmable: Bool

        public init(wavelengthNm: Double, irradianceMWPerCm2: Double, dimmable: Bool) {
            self.wavelengthNm = wavelengthNm
            self.irradianceMWPerCm2 = irradianceMWPerCm2
            self.dimmable = dimmable
        }
    }

    /// The limits the panel enforces, in the contract's units.
    public struct Limits: Hashable, Sendable {
        public var maxSessionSeconds: Double
        public var maxSessionDose: Double
        public var maxDailyDose: Double
        public var maxDailySessions: Int
        public var cooldownSeconds: Double
        public var warnC: Double
        public var cutoffC: Double
        public var resumeC: Double
    }

    public var name: String
    public var model: String
    public var serial: String
    public var softwareVersion: String
    public var channels: PerChannel<ChannelInfo>
    public var limits: Limits

    public init(_ info: DeviceInfo) {
        let settings = info.settings
        self.name = info.name
        self.model = info.model
        self.serial = info.serial
        self.softwareVersion = info.softwareVersion
        self.channels = PerChannel(
            red: ChannelInfo(
                wavelengthNm: info.wavelengthsNm.red, irradianceMWPerCm2: settings.irradianceMWPerCm2.red,
                dimmable: settings.dimmable.red),
            nir: ChannelInfo(
                wavelengthNm: info.wavelengthsNm.nir, irradianceMWPerCm2: settings.irradianceMWPerCm2.nir,
                dimmable: settings.dimmable.nir))
        self.limits = Limits(
            maxSessionSeconds: settings.limits.maxSessionSeconds,
            maxSessionDose: settings.limits.maxSessionDose.joulesPerCm2,
            maxDailyDose: settings.limits.maxDailyDose.joulesPerCm2,
            maxDailySessions: settings.limits.maxDailySessions, cooldownSeconds: settings.limits.cooldownSeconds,
            warnC: settings.thermal.warn.value, cutoffC: settings.thermal.cutoff.value,
            resumeC: settings.thermal.resume.value)
    }

    public var json: JSONValue {
        .object([
            ("name", .string(self.name)),
            ("model", .string(self.model)),
            ("serial", .string(self.serial)),
            ("sw_version", .string(self.softwareVersion)),
            (
                "channels",
                .object(
                    Channel.allCases.map { channel in
                        let info = self.channels[channel]
                        return (
                            channel.rawValue,
                            .object([
                                ("wavelength_nm", .number(info.wavelengthNm)),
                                ("irradiance_mw_cm2", .number(info.irradianceMWPerCm2)),
                                ("dimmable", .bool(info.dimmable)),
                            ])
                        )
                    })
            ),
            (
                "limits",
                .object([
                    ("max_session_s", .number(self.limits.maxSessionSeconds)),
                    ("max_session_dose_j_cm2", .number(self.limits.maxSessionDose)),
                    ("max_daily_dose_j_cm2", .number(self.limits.maxDailyDose)),
                    ("max_daily_sessions", .number(Double(self.limits.maxDailySessions))),
                    ("cooldown_s", .number(self.limits.cooldownSeconds)),
                    ("warn_c", .number(self.limits.warnC)),
                    ("cutoff_c", .number(self.limits.cutoffC)),
                    ("resume_c", .number(self.limits.resumeC)),
                ])
            ),
        ])
    }

    public init(json: JSONValue) throws(ContractError) {
        let reader = try DocumentReader("info", json)
        self.name = try reader.string("name")
        self.model = try reader.string("model")
        self.serial = try reader.string("serial")
        self.softwareVersion = try reader.string("sw_version")
        let channels = try reader.object("channels")
        func channel(_ key: Channel) throws(ContractError) -> ChannelInfo {
            let member = try channels.object(key.rawValue)
            return ChannelInfo(
                wavelengthNm: try member.number("wavelength_nm"),
                irradianceMWPerCm2: try member.number("irradiance_mw_cm2"), dimmable: try member.bool("dimmable"))
        }
        self.channels = PerChannel(red: try channel(.red), nir: try channel(.nir))
        let limits = try reader.object("limits")
        self.limits = Limits(
            maxSessionSeconds: try limits.number("max_session_s"),
            maxSessionDose: try limits.number("max_session_dose_j_cm2"),
            maxDailyDose: try limits.number("max_daily_dose_j_cm2"),
            maxDailySessions: try limits.integer("max_daily_sessions"),
            cooldownSeconds: try limits.number("cooldown_s"), warnC: try limits.number("warn_c"),
            cutoffC: try limits.number("cutoff_c"), resumeC: try limits.number("resume_c"))
    }
}
