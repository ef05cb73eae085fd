import SafetyCore
import Yams

/// Turns the YAML node tree into typed settings: types and key names only; bounds and cross-field
/// rules are ``GatewayConfiguration/problems``'s job, so each is checked once whatever the source.
extension GatewayConfiguration {
    static func decode(_ root: MappingReader) -> GatewayConfiguration {
        let device = root.section("device", Self.decodeDevice)
        let config = GatewayConfiguration(
            device: device,
            mqtt: root.section("mqtt") { Self.decodeMQTT($0, deviceID: device.id) },
            gpio: root.section("gpio") { Self.decodeGPIO($0, deviceID: device.id) },
            sensor: root.section("sensor", Self.decodeSensor),
            channels: root.section("channels", Self.decodeChannels),
            presets: root.section("presets", Self.decodePresets),
            limits: root.section("limits", Self.decodeLimits),
            policy: root.section("policy", Self.decodePolicy),
            telemetry: root.section("telemetry", Self.decodeTelemetry),
            storage: root.section("storage", Self.decodeStorage),
            logging: root.section("logging", Self.decodeLogging),
            safetyTuning: root.section("safety", Self.decodeSafetyTuning),
            commands: root.section("commands", Self.decodeCommands)
        )
        root.finish()
        return config
    }

    private static func decodeSafetyTuning(_ r: MappingReader) -> SafetyTuningSettings {
        let d = SafetyTuningSettings()
        return SafetyTuningSettings(
            sensorInvalidReadings: r.int("sensor_invalid_readings", default: d.sensorInvalidReadings),
            sensorStaleSeconds: r.double("sensor_stale_s", default: d.sensorStaleSeconds),
            heatingWatchSeconds: r.double("heating_watch_s", default: d.heatingWatchSeconds),
            heatingMinimumRiseC: r.double("heating_min_rise_c", default: d.heatingMinimumRiseC),
            heatingSteadyMarginC: r.double("heating_steady_margin_c", default: d.heatingSteadyMarginC),
            runawayCPerSecond: r.double("runaway_c_per_s", default: d.runawayCPerSecond),
            outputMismatchSeconds: r.double("output_mismatch_s", default: d.outputMismatchSeconds)
        )
    }

    private static func decodeCommands(_ r: MappingReader) -> CommandSettings {
        let d = CommandSettings()
        return CommandSettings(
            maxBytes: r.int("max_bytes", default: d.maxBytes),
            ratePerSecond: r.double("rate_per_s", default: d.ratePerSecond),
            burst: r.int("burst", default: d.burst),
            signing: r.section("signing", Self.decodeSigning)
        )
    }

    private static func decodeSigning(_ r: MappingReader) -> SigningSettings {
        let d = SigningSettings()
        r.refuse(
            "key",
            "secrets are not accepted in the config file; put the key in a file named by commands.signing.key_file "
                + "or in the systemd credential \(SigningSettings.keyCredential)")
        var required = d.required
        if let node = r.node("required"), !node.isNull {
            required = r.bool("required", default: false)
        }
        return SigningSettings(
            keyFile: r.optionalString("key_file", default: d.keyFile),
            required: required,
            replayWindowSeconds: r.double("replay_window_s", default: d.replayWindowSeconds)
        )
    }

    private static func decodeDevice(_ r: MappingReader) -> DeviceSettings {
        let defaults = DeviceSettings()
        let id = r.string("id", default: defaults.id)
        return DeviceSettings(
            id: id,
            name: r.string("name", default: id),
            model: r.string("model", default: defaults.model),
            manufacturer: r.string("manufacturer", default: defaults.manufacturer),
            serial: r.string("serial", default: id),
            groups: r.stringList("groups", default: [])
        )
    }

    private static func decodeMQTT(_ r: MappingReader, deviceID: String) -> MQTTSettings {
        let defaults = MQTTSettings()
        var url = defaults.url
        if let node = r.node("url") {
            if case .scalar(let scalar) = node, !node.isNull {
                do {
                    url = try BrokerURL(parsing: scalar.string)
                } catch {
                    r.problem("url", error.message)
                }
            } else {
                r.problem("url", "expected a broker URL like mqtt://127.0.0.1:1883, got \(describe(node))")
            }
        }
        r.refuse(
            "password",
            "secrets are not accepted in the config file; put the password in a file named by mqtt.password_file "
                + "or in the RLT_MQTT_PASSWORD environment variable"
        )
        return MQTTSettings(
            url: url,
            allowInsecure: r.bool("allow_insecure", default: defaults.allowInsecure),
            protocolVersion: r.choice("protocol", default: defaults.protocolVersion),
            prefix: r.string("prefix", default: defaults.prefix),
            username: r.optionalString("username", default: nil),
            passwordFile: r.optionalString("password_file", default: nil),
            caFile: r.optionalString("ca_file", default: nil),
            certFile: r.optionalString("cert_file", default: nil),
            keyFile: r.optionalString("key_file", default: nil),
            keepaliveSeconds: r.int("keepalive_s", default: defaults.keepaliveSeconds),
            discovery: r.section("discovery") { d in
                DiscoverySettings(
                    enabled: d.bool("enabled", default: defaults.discovery.enabled),
                    prefix: d.string("prefix", default: defaults.discovery.prefix),
                    mode: d.choice("mode", default: defaults.discovery.mode),
                    supportURL: d.optionalString("support_url", default: nil)
                )
            },
            clientID: r.optionalString("client_id", default: nil) ?? "rlt-\(deviceID)"
        )
    }

    private static func decodeGPIO(_ r: MappingReader, deviceID: String) -> GPIOSettings {
        let defaults = GPIOSettings()
        let backend = r.choice("backend", default: defaults.backend)
        let chip = r.optionalString("chip", default: defaults.chip) ?? ""
        let simDir = r.optionalString("sim_dir", default: nil)
        let outputs = r.section("outputs") { o in
            GPIOSettings.Outputs(
                red: Self.decodeChannelOutput(o, "red", default: defaults.outputs.red),
                nir: Self.decodeChannelOutput(o, "nir", default: defaults.outputs.nir),
                master: Self.decodeOutputLine(o, "master", default: defaults.outputs.master),
                indicator: Self.decodeOutputLine(o, "indicator", default: defaults.outputs.indicator),
                heartbeat: Self.decodeOutputLine(o, "heartbeat", default: defaults.outputs.heartbeat)
            )
        }
        let inputs = r.section("inputs") { i in
            GPIOSettings.Inputs(
                interlock: Self.decodeInputLine(i, "interlock", default: defaults.inputs.interlock),
                stopButton: Self.decodeInputLine(i, "stop_button", default: defaults.inputs.stopButton),
                emissionSense: Self.decodeInputLine(i, "emission_sense", default: defaults.inputs.emissionSense)
            )
        }
        return GPIOSettings(
            backend: backend,
            chip: chip,
            simDir: backend == .simulated ? (simDir ?? GPIOSettings.defaultSimDir(deviceID: deviceID)) : simDir,
            outputs: outputs,
            inputs: inputs
        )
    }

    /// A channel output is required: `null` is a problem and keeps the default.
    private static func decodeChannelOutput(_ r: MappingReader, _ key: String, default defaults: ChannelOutput)
        -> ChannelOutput
    {
        let value = r.optionalSection(key, default: defaults) { c in
            ChannelOutput(
                line: c.int("line", default: defaults.line),
                activeLow: c.bool("active_low", default: defaults.activeLow),
                pwm: c.optionalSection("pwm", default: nil) { p in
                    let pwmDefaults = PWMSettings()
                    return PWMSettings(
                        chip: p.int("chip", default: pwmDefaults.chip),
                        channel: p.int("channel", default: pwmDefaults.channel),
                        frequencyHz: p.int("frequency_hz", default: pwmDefaults.frequencyHz)
                    )
                }
            )
        }
        guard let value else {
            r.problem(key, "the \(key) channel's output is required; give its line, e.g. {line: \(defaults.line)}")
            return defaults
        }
        return value
    }

    private static func decodeOutputLine(_ r: MappingReader, _ key: String, default defaults: OutputLine?)
        -> OutputLine?
    {
        r.optionalSection(key, default: defaults) { o in
            let line = defaults.map { o.int("line", default: $0.line) } ?? o.requiredInt("line")
            let activeLow = o.bool("active_low", default: defaults?.activeLow ?? false)
            return line.map { OutputLine(line: $0, activeLow: activeLow) }
        }
    }

    private static func decodeInputLine(_ r: MappingReader, _ key: String, default defaults: InputLine?)
        -> InputLine?
    {
        r.optionalSection(key, default: defaults) { i in
            let fallback = InputLine(line: 0)
            let line = defaults.map { i.int("line", default: $0.line) } ?? i.requiredInt("line")
            let bias = i.choice("bias", default: defaults?.bias ?? fallback.bias)
            let activeLow = i.bool("active_low", default: defaults?.activeLow ?? fallback.activeLow)
            let debounce = i.int("debounce_ms", default: defaults?.debounceMs ?? fallback.debounceMs)
            return line.map { InputLine(line: $0, bias: bias, activeLow: activeLow, debounceMs: debounce) }
        }
    }

    private static func decodeSensor(_ r: MappingReader) -> SensorSettings {
        let defaults = SensorSettings()
        let type = r.choice("type", default: defaults.type)
        // Only sysfs has a path every board offers; the other file sensors must name theirs.
        let path = r.optionalString("path", default: type == .sysfs ? SensorSettings.defaultSysfsPath : nil)
        return SensorSettings(
            type: type,
            path: type == .simulated ? nil : path,
            intervalMs: r.int("interval_ms", default: defaults.intervalMs),
            simulated: r.section("simulated") { s in
                let thermal = defaults.simulated
                return SimulatedThermal(
                    ambientC: s.double("ambient_c", default: thermal.ambientC),
                    timeConstantSeconds: s.double("time_constant_s", default: thermal.timeConstantSeconds),
                    riseC: s.section("rise_c") { rise in
                        PerChannel(
                            red: rise.double("red", default: thermal.riseC.red),
                            nir: rise.double("nir", default: thermal.riseC.nir)
                        )
                    }
                )
            }
        )
    }

    private static func decodeChannels(_ r: MappingReader) -> ChannelsSettings {
        let defaults = ChannelsSettings()
        func calibration(_ key: String, _ fallback: ChannelCalibration) -> ChannelCalibration {
            r.section(key) { c in
                ChannelCalibration(
                    wavelengthNm: c.int("wavelength_nm", default: fallback.wavelengthNm),
                    irradianceMWPerCm2: c.double("irradiance_mw_cm2", default: fallback.irradianceMWPerCm2)
                )
            }
        }
        return ChannelsSettings(red: calibration("red", defaults.red), nir: calibration("nir", defaults.nir))
    }

    private static func decodePresets(_ r: MappingReader) -> PresetSettings {
        let defaults = PresetSettings()
        return PresetSettings(
            channels: r.choice("channels", default: defaults.channels),
            intensityPercent: r.double("intensity_pct", default: defaults.intensityPercent),
            durationSeconds: r.double("duration_s", default: defaults.durationSeconds),
            doseJPerCm2: r.optionalDouble("dose_j_cm2", default: defaults.doseJPerCm2)
        )
    }

    private static func decodeLimits(_ r: MappingReader) -> LimitSettings {
        let defaults = LimitSettings()
        return LimitSettings(
            maxSessionSeconds: r.double("max_session_s", default: defaults.maxSessionSeconds),
            maxSessionDoseJPerCm2: r.double("max_session_dose_j_cm2", default: defaults.maxSessionDoseJPerCm2),
            maxDailyDoseJPerCm2: r.double("max_daily_dose_j_cm2", default: defaults.maxDailyDoseJPerCm2),
            maxDailySessions: r.int("max_daily_sessions", default: defaults.maxDailySessions),
            cooldownSeconds: r.double("cooldown_s", default: defaults.cooldownSeconds),
            warnC: r.double("warn_c", default: defaults.warnC),
            cutoffC: r.double("cutoff_c", default: defaults.cutoffC),
            resumeC: r.double("resume_c", default: defaults.resumeC)
        )
    }

    private static func decodePolicy(_ r: MappingReader) -> PolicySettings {
        let defaults = PolicySettings()
        return PolicySettings(
            onLinkLoss: r.choice("on_link_loss", default: defaults.onLinkLoss),
            latchOnUncleanRestart: r.bool("latch_on_unclean_restart", default: defaults.latchOnUncleanRestart)
        )
    }

    private static func decodeTelemetry(_ r: MappingReader) -> TelemetrySettings {
        let defaults = TelemetrySettings()
        return TelemetrySettings(
            runningIntervalSeconds: r.double("running_interval_s", default: defaults.runningIntervalSeconds),
            idleIntervalSeconds: r.double("idle_interval_s", default: defaults.idleIntervalSeconds)
        )
    }

    private static func decodeStorage(_ r: MappingReader) -> StorageSettings {
        let defaults = StorageSettings()
        return StorageSettings(
            path: r.string("path", default: defaults.path),
            retentionDays: r.int("retention_days", default: defaults.retentionDays)
        )
    }

    private static func decodeLogging(_ r: MappingReader) -> LoggingSettings {
        LoggingSettings(level: r.choice("level", default: LoggingSettings().level))
    }
}
