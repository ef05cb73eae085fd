import SafetyCore

/// Builds the JSON payloads of the contract that are not yet document types: `event`, `diag`,
/// `info`. `state`/`tele`, `res`, `status` and `cmd` are ``StateDocument``, ``ResponseDocument``,
/// ``StatusDocument`` and ``CommandRequest``.
public enum Payloads {
    /// `event`. `outputsOffAt` is the monotonic time the shell drove the outputs off after a fault,
    /// so the fault's reaction time is observable from outside.
    public static func event(
        _ notice: SafetyNotice, unixMs: Int64, outputsOffAt: Instant? = nil
    ) -> JSONValue {
        var members: [(String, JSONValue)]
        switch notice {
        case .sessionStarted(let plan):
            members = [
                ("event", "session_started"), ("session_id", .string(plan.sessionID)),
                ("channels", .string(plan.channels.rawValue)), ("intensity_pct", .number(plan.intensityPercent)),
                ("planned_s", .number(plan.plannedSeconds)),
                ("dose_target_j_cm2", plan.doseTarget.map { .number($0.joulesPerCm2) } ?? .null),
            ]
        case .paused(let sessionID, let reason):
            members = [("event", "paused"), ("session_id", .string(sessionID)), ("reason", .string(reason.rawValue))]
        case .resumed(let sessionID):
            members = [("event", "resumed"), ("session_id", .string(sessionID))]
        case .completed(let progress, let reason):
            members = [("event", "completed")] + self.progress(progress) + [("reason", .string(reason.rawValue))]
        case .aborted(let progress, let reason):
            members = [("event", "aborted")] + self.progress(progress) + [("reason", .string(reason.rawValue))]
        case .faultRaised(let code, let detail, let detectedAt):
            members = [
                ("event", "fault_raised"), ("fault", .string(code.rawValue)), ("detail", .string(detail)),
                ("detected_mono_ns", .number(Double(detectedAt.nanoseconds))),
            ]
            if let off = outputsOffAt { members.append(("outputs_off_mono_ns", .number(Double(off.nanoseconds)))) }
        case .faultCleared(let code):
            members = [("event", "fault_cleared"), ("fault", .string(code.rawValue))]
        case .commandRejected(let name, let code, let message):
            members = [
                ("event", "command_rejected"), ("cmd", name.map(JSONValue.string) ?? .null),
                ("code", .string(code.rawValue)), ("message", .string(message)),
            ]
        case .temperatureWarning(let t):
            members = [("event", "temperature_warning"), ("temperature_c", .number(round(2, t.value)))]
        }
        members.append(("ts", .number(Double(unixMs))))
        return .object(members)
    }

    static func progress(_ p: SessionProgress) -> [(String, JSONValue)] {
        [
            ("session_id", .string(p.sessionID)), ("elapsed_s", .number(round(1, p.emittingSeconds))),
            ("dose_j_cm2", DoseDocument(p.dose).json),
        ]
    }

    /// Retained `diag`: how long this run has been up and how the MQTT link has fared.
    ///
    /// `dropped_messages` counts outgoing messages dropped while offline (queue full or telemetry)
    /// and incoming ones dropped because the loop fell behind: never silently lost.
    public static func diagnostics(
        bootID: String, uptimeSeconds: Double, reconnects: Int, droppedMessages: Int, unixMs: Int64
    ) -> JSONValue {
        .object([
            ("boot_id", .string(bootID)), ("uptime_s", .number(self.round(0, uptimeSeconds))),
            ("reconnects", .number(Double(reconnects))), ("dropped_messages", .number(Double(droppedMessages))),
            ("ts", .number(Double(unixMs))),
        ])
    }



    static func round(_ digits: Int, _ value: Double) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}

/// What `info` tells about the panel (retained).
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

    public var json: JSONValue {
        let limits = self.settings.limits
        let thermal = self.settings.thermal
        return .object([
            ("name", .string(self.name)),
            ("model", .string(self.model)),
            ("serial", .string(self.serial)),
            ("sw_version", .string(self.softwareVersion)),
            (
                "channels",
                .object(
                    Channel.allCases.map { channel in
                        (
                            channel.rawValue,
                            .object([
                                ("wavelength_nm", .number(self.wavelengthsNm[channel])),
                                ("irradiance_mw_cm2", .number(self.settings.irradianceMWPerCm2[channel])),
                                ("dimmable", .bool(self.settings.dimmable[channel])),
                            ])
                        )
                    })
            ),
            (
                "limits",
                .object([
                    ("max_session_s", .number(limits.maxSessionSeconds)),
                    ("max_session_dose_j_cm2", .number(limits.maxSessionDose.joulesPerCm2)),
                    ("max_daily_dose_j_cm2", .number(limits.maxDailyDose.joulesPerCm2)),
                    ("max_daily_sessions", .number(Double(limits.maxDailySessions))),
                    ("cooldown_s", .number(limits.cooldownSeconds)),
                    ("warn_c", .number(thermal.warn.value)),
                    ("cutoff_c", .number(thermal.cutoff.value)),
                    ("resume_c", .number(thermal.resume.value)),
                ])
            ),
        ])
    }
}
