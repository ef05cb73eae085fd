import SafetyCore

/// Bounds and cross-field rules, checked on the typed config so the file, `--set` overrides and
/// values built in code are held to the same rules.
extension GatewayConfiguration {
    /// Plausible calibrated irradiance ceiling; LED therapy panels measure well under 200 mW/cm².
    public static let maxIrradianceMWPerCm2: Double = 200

    /// Every problem with this configuration; empty when it may be used.
    public func validate() -> [ConfigProblem] {
        var check = Checker()
        self.validateDevice(&check)
        self.validateMQTT(&check)
        self.validateGPIO(&check)
        self.validateSensor(&check)
        self.validateChannels(&check)
        self.validateLimits(&check)
        self.validatePresets(&check)
        self.validateOperations(&check)
        self.validateSafetyTuning(&check)
        return check.problems
    }

    /// The warmest room a panel is expected to start in. S8's "must rise while emitting" watch counts a
    /// panel at or above `cutoff_c - heating_steady_margin_c` as near its steady state and stops
    /// watching, so that point must lie above this, or a panel at room temperature is never watched.
    public static let plausibleRoomTemperatureC: Double = 35

    /// Advice about settings that are allowed but probably not meant; never stops a start.
    ///
    /// `check-config` and the daemon's start-up log print these.
    public var warnings: [ConfigProblem] {
        var warnings: [ConfigProblem] = []
        if self.mqtt.scheme == .mqtt, !self.mqtt.url.isLoopback, self.mqtt.allowInsecure {
            warnings.append(
                ConfigProblem(
                    keyPath: "mqtt.url",
                    message: "plaintext connection to \(self.mqtt.host) allowed by mqtt.allow_insecure; "
                        + "commands and credentials travel unencrypted"
                ))
        }
        return warnings
    }

    private func validateDevice(_ check: inout Checker) {
        if !DeviceSettings.isValidIdentifier(self.device.id) {
            check.add(
                "device.id",
                "\"\(self.device.id)\" is not a valid device id; use 1–32 characters from a–z, 0–9 and -")
        }
        for (index, group) in self.device.groups.enumerated() where !DeviceSettings.isValidIdentifier(group) {
            check.add(
                "device.groups[\(index)]",
                "\"\(group)\" is not a valid group name; use 1–32 characters from a–z, 0–9 and -")
        }
        check.nonEmpty("device.name", self.device.name)
        check.nonEmpty("device.model", self.device.model)
        check.nonEmpty("device.manufacturer", self.device.manufacturer)
        check.nonEmpty("device.serial", self.device.serial)
    }

    private func validateMQTT(_ check: inout Checker) {
        let mqtt = self.mqtt
        if mqtt.scheme == .mqtt, !mqtt.url.isLoopback, !mqtt.allowInsecure {
            check.add(
                "mqtt.url",
                "plaintext mqtt:// to the non-loopback host \(mqtt.host) is refused (commands and credentials "
                    + "would travel unencrypted); use mqtts:// or set mqtt.allow_insecure: true")
        }
        check.topicPrefix("mqtt.prefix", mqtt.prefix)
        check.topicPrefix("mqtt.discovery.prefix", mqtt.discovery.prefix)
        if let url = mqtt.discovery.supportURL, !Self.isAbsoluteWebURL(url) {
            // HA refuses the whole discovery document over a malformed origin URL.
            check.add("mqtt.discovery.support_url", "'\(url)' is not an absolute http:// or https:// URL")
        }
        check.range("mqtt.keepalive_s", Double(mqtt.keepaliveSeconds), 5...65535)
        check.nonEmpty("mqtt.client_id", mqtt.clientID)
        if mqtt.certFile != nil, mqtt.keyFile == nil {
            check.add("mqtt.cert_file", "a client certificate needs its private key in mqtt.key_file")
        }
        if mqtt.keyFile != nil, mqtt.certFile == nil {
            check.add("mqtt.key_file", "a private key needs its client certificate in mqtt.cert_file")
        }
        if !mqtt.usesTLS {
            for (key, value) in [("ca_file", mqtt.caFile), ("cert_file", mqtt.certFile), ("key_file", mqtt.keyFile)]
            where value != nil {
                check.add(
                    "mqtt.\(key)",
                    "TLS files are only used with an mqtts:// URL, but mqtt.url is \(mqtt.url); use mqtts:// "
                        + "or remove mqtt.\(key)")
            }
        }
        if mqtt.passwordFile != nil, mqtt.username == nil {
            check.add("mqtt.password_file", "a password needs mqtt.username")
        }
        for (key, value) in [("username", mqtt.username), ("password_file", mqtt.passwordFile)] {
            if let value { check.nonEmpty("mqtt.\(key)", value) }
        }
    }

    private func validateGPIO(_ check: inout Checker) {
        let gpio = self.gpio
        switch gpio.backend {
        case .libgpiod:
            if gpio.chip.isEmpty {
                check.add("gpio.chip", "the libgpiod backend needs a chip name, path or label, e.g. gpiochip0")
            }
        case .simulated:
            if gpio.simDir?.isEmpty ?? true {
                check.add("gpio.sim_dir", "the simulated backend needs a directory, e.g. /tmp/rlt-gpio-sim")
            }
        }

        var lines: [(keyPath: String, line: Int)] = []
        func output(_ name: String, _ line: OutputLine?) {
            guard let line else { return }
            lines.append(("gpio.outputs.\(name).line", line.line))
        }
        output("red", gpio.outputs.red.output)
        output("nir", gpio.outputs.nir.output)
        output("master", gpio.outputs.master)
        output("indicator", gpio.outputs.indicator)
        output("heartbeat", gpio.outputs.heartbeat)
        for (name, input) in [
            ("interlock", gpio.inputs.interlock), ("stop_button", gpio.inputs.stopButton),
            ("emission_sense", gpio.inputs.emissionSense),
        ] {
            guard let input else { continue }
            lines.append(("gpio.inputs.\(name).line", input.line))
            check.range("gpio.inputs.\(name).debounce_ms", Double(input.debounceMs), 0...1000)
        }
        for (index, entry) in lines.enumerated() {
            check.range(entry.keyPath, Double(entry.line), 0...1023)
            if let first = lines[..<index].first(where: { $0.line == entry.line }) {
                check.add(entry.keyPath, "line \(entry.line) is already used by \(first.keyPath)")
            }
        }

        if let interlock = gpio.inputs.interlock {
            Self.checkFailSafe(interlock, keyPath: "gpio.inputs.interlock", brokenWireMustRead: false, &check)
        }
        if let stopButton = gpio.inputs.stopButton {
            Self.checkFailSafe(stopButton, keyPath: "gpio.inputs.stop_button", brokenWireMustRead: true, &check)
        }

        var pwms: [(keyPath: String, pwm: PWMSettings)] = []
        for channel in Channel.allCases {
            let output = channel == .red ? gpio.outputs.red : gpio.outputs.nir
            guard let pwm = output.pwm else { continue }
            let path = "gpio.outputs.\(channel.rawValue).pwm"
            check.range("\(path).chip", Double(pwm.chip), 0...1023)
            check.range("\(path).channel", Double(pwm.channel), 0...1023)
            check.range("\(path).frequency_hz", Double(pwm.frequencyHz), 1...100_000)
            if let first = pwms.first(where: { $0.pwm.chip == pwm.chip && $0.pwm.channel == pwm.channel }) {
                check.add(path, "PWM chip \(pwm.chip) channel \(pwm.channel) is already used by \(first.keyPath)")
            }
            pwms.append((path, pwm))
        }
    }

    /// Refuses input wiring on which a broken wire would read as the *safe-looking* state.
    ///
    /// A broken wire leaves the line floating at its bias: `pull-up` reads physical 1, `pull-down`
    /// physical 0, and the logical value is that level inverted when `active_low` (logical 1 = active:
    /// interlock closed, stop button pressed). The interlock must read **open** (logical 0) on a broken
    /// wire, or emission could go on with it disconnected; the stop button must read **pressed**
    /// (logical 1: a normally-closed button), or a broken wire would silently disable it. With
    /// `bias: disabled` the level of a broken wire is undefined, so no wiring can be shown fail-safe.
    private static func checkFailSafe(
        _ input: InputLine, keyPath: String, brokenWireMustRead active: Bool, _ check: inout Checker
    ) {
        let name = active ? "stop button" : "interlock"
        let safeReading = active ? "pressed" : "open"
        let unsafeReading = active ? "released" : "closed"
        let rightWiring =
            active
            ? "bias: pull-up with active_low: false (normally-closed button to GND), or bias: pull-down with "
                + "active_low: true (normally-closed button to 3.3 V)"
            : "bias: pull-up with active_low: true (normally-closed contact to GND), or bias: pull-down with "
                + "active_low: false (normally-closed contact to 3.3 V)"
        let floatsHigh: Bool
        switch input.bias {
        case .pullUp: floatsHigh = true
        case .pullDown: floatsHigh = false
        case .disabled:
            check.add(
                keyPath,
                "bias: disabled leaves a broken \(name) wire floating, so it may read \(unsafeReading); "
                    + "set the bias to match the wiring: \(rightWiring)")
            return
        }
        let brokenWireReadsActive = floatsHigh != input.activeLow
        guard brokenWireReadsActive != active else { return }
        check.add(
            keyPath,
            "bias: \(input.bias.rawValue) with active_low: \(input.activeLow) reads a broken \(name) wire as "
                + "\(unsafeReading) (the line floats \(floatsHigh ? "high" : "low")); it must read \(safeReading): "
                + "use \(rightWiring)")
    }

    private func validateSensor(_ check: inout Checker) {
        let sensor = self.sensor
        switch sensor.type {
        case .sysfs, .w1, .file:
            if sensor.path?.isEmpty ?? true {
                let example =
                    switch sensor.type {
                    case .w1: "/sys/bus/w1/devices/28-…/w1_slave"
                    case .file: "/tmp/rlt-demo/temp"
                    case .sysfs, .simulated: SensorSettings.defaultSysfsPath
                    }
                check.add("sensor.path", "sensor.type \(sensor.type.rawValue) needs a file to read, e.g. \(example)")
            }
        case .simulated:
            break
        }
        check.range("sensor.interval_ms", Double(sensor.intervalMs), 50...10_000)
        check.range("sensor.simulated.ambient_c", sensor.simulated.ambientC, -20...60)
        check.positive("sensor.simulated.time_constant_s", sensor.simulated.timeConstantSeconds)
        check.range("sensor.simulated.time_constant_s", sensor.simulated.timeConstantSeconds, 0...86_400)
        check.range("sensor.simulated.rise_c.red", sensor.simulated.riseC.red, 0...100)
        check.range("sensor.simulated.rise_c.nir", sensor.simulated.riseC.nir, 0...100)
    }

    private func validateChannels(_ check: inout Checker) {
        for channel in Channel.allCases {
            let calibration = self.channels[channel]
            let path = "channels.\(channel.rawValue)"
            check.range("\(path).wavelength_nm", Double(calibration.wavelengthNm), 380...1100)
            check.positive("\(path).irradiance_mw_cm2", calibration.irradianceMWPerCm2)
            if calibration.irradianceMWPerCm2 > Self.maxIrradianceMWPerCm2 {
                check.add(
                    "\(path).irradiance_mw_cm2",
                    "\(formatNumber(calibration.irradianceMWPerCm2)) mW/cm² is not plausible for an LED panel "
                        + "(at most \(formatNumber(Self.maxIrradianceMWPerCm2))); check the calibration")
            }
        }
    }

    private func validateLimits(_ check: inout Checker) {
        let limits = self.limits
        check.positive("limits.max_session_s", limits.maxSessionSeconds)
        check.hardLimit("limits.max_session_s", limits.maxSessionSeconds, HardLimits.maxSessionSeconds)
        check.positive("limits.max_session_dose_j_cm2", limits.maxSessionDoseJPerCm2)
        check.hardLimit(
            "limits.max_session_dose_j_cm2", limits.maxSessionDoseJPerCm2, HardLimits.maxSessionDose.joulesPerCm2)
        check.positive("limits.max_daily_dose_j_cm2", limits.maxDailyDoseJPerCm2)
        check.hardLimit(
            "limits.max_daily_dose_j_cm2", limits.maxDailyDoseJPerCm2, HardLimits.maxDailyDose.joulesPerCm2)
        check.positive("limits.max_daily_sessions", Double(limits.maxDailySessions))
        check.hardLimit(
            "limits.max_daily_sessions", Double(limits.maxDailySessions), Double(HardLimits.maxDailySessions))
        if limits.cooldownSeconds < HardLimits.minCooldownSeconds {
            check.add(
                "limits.cooldown_s",
                "\(formatNumber(limits.cooldownSeconds)) is below the hard limit "
                    + formatNumber(HardLimits.minCooldownSeconds))
        }
        check.hardLimit("limits.cooldown_s", limits.cooldownSeconds, 86_400)
        check.positive("limits.warn_c", limits.warnC)
        check.positive("limits.cutoff_c", limits.cutoffC)
        check.positive("limits.resume_c", limits.resumeC)
        check.hardLimit("limits.cutoff_c", limits.cutoffC, HardLimits.maxCutoff.value)
        if limits.warnC >= limits.cutoffC {
            check.add(
                "limits.warn_c",
                "\(formatNumber(limits.warnC)) must be below cutoff_c \(formatNumber(limits.cutoffC))")
        }
        if limits.maxSessionDoseJPerCm2 > limits.maxDailyDoseJPerCm2 {
            check.add(
                "limits.max_session_dose_j_cm2",
                "\(formatNumber(limits.maxSessionDoseJPerCm2)) is above limits.max_daily_dose_j_cm2 "
                    + "\(formatNumber(limits.maxDailyDoseJPerCm2)); one session may not exceed the daily limit, use "
                    + "at most \(formatNumber(limits.maxDailyDoseJPerCm2))")
        }
        if limits.resumeC >= limits.cutoffC {
            check.add(
                "limits.resume_c",
                "\(formatNumber(limits.resumeC)) must be below cutoff_c \(formatNumber(limits.cutoffC))")
        }
    }

    private func validatePresets(_ check: inout Checker) {
        let presets = self.presets
        check.range("presets.intensity_pct", presets.intensityPercent, 1...100)
        if presets.intensityPercent < 100 {
            for channel in presets.channels.channels {
                let output = channel == .red ? self.gpio.outputs.red : self.gpio.outputs.nir
                if output.pwm == nil {
                    check.add(
                        "presets.intensity_pct",
                        "\(formatNumber(presets.intensityPercent)) needs PWM on the \(channel.rawValue) channel "
                            + "(gpio.outputs.\(channel.rawValue).pwm); without PWM only 100 is possible")
                }
            }
        }
        check.positive("presets.duration_s", presets.durationSeconds)
        if presets.durationSeconds > self.limits.maxSessionSeconds {
            check.add(
                "presets.duration_s",
                "\(formatNumber(presets.durationSeconds)) is above limits.max_session_s "
                    + formatNumber(self.limits.maxSessionSeconds))
        }
        if let dose = presets.doseJPerCm2 {
            check.positive("presets.dose_j_cm2", dose)
            if dose > self.limits.maxSessionDoseJPerCm2 {
                check.add(
                    "presets.dose_j_cm2",
                    "\(formatNumber(dose)) is above limits.max_session_dose_j_cm2 "
                        + formatNumber(self.limits.maxSessionDoseJPerCm2))
            }
        }
    }

    /// Bounds that keep every sensor-health and admission rule meaningful: a stale timeout of an
    /// hour or a 1 MiB command would each switch a protection off in all but name.
    private func validateSafetyTuning(_ check: inout Checker) {
        let t = self.safetyTuning
        check.range("safety.sensor_invalid_readings", Double(t.sensorInvalidReadings), 1...10)
        check.range("safety.sensor_stale_s", t.sensorStaleSeconds, 0.5...HardLimits.maxStaleAfterSeconds)
        check.range("safety.heating_watch_s", t.heatingWatchSeconds, 10...600)
        check.range("safety.heating_min_rise_c", t.heatingMinimumRiseC, 0.1...10)
        check.range("safety.heating_steady_margin_c", t.heatingSteadyMarginC, 0...50)
        check.range("safety.runaway_c_per_s", t.runawayCPerSecond, 0.1...10)
        check.range("safety.output_mismatch_s", t.outputMismatchSeconds, 0.2...5)
        // S8 counts a panel at or above `cutoff - margin` as near its steady state and stops watching
        // for a rise. Every start happens below resume_c, and a panel must be able to start cold: the
        // point must lie at or above resume_c and above a warm room, or S8 is off in all but name.
        let cutoff = self.limits.cutoffC
        let room = Self.plausibleRoomTemperatureC
        let steadyFrom = cutoff - t.heatingSteadyMarginC
        if steadyFrom < self.limits.resumeC || steadyFrom <= room {
            let largest = min(cutoff - self.limits.resumeC, cutoff - room - 1)
            let fix =
                largest >= 0
                ? "use at most \(formatNumber(largest))" : "raise limits.cutoff_c above \(formatNumber(room + 1))"
            check.add(
                "safety.heating_steady_margin_c",
                "\(formatNumber(t.heatingSteadyMarginC)) with limits.cutoff_c \(formatNumber(cutoff)) stops the "
                    + "heating watch (S8) from \(formatNumber(steadyFrom)) °C, which must be at least limits.resume_c "
                    + "\(formatNumber(self.limits.resumeC)) and above a warm room (\(formatNumber(room)) °C), or S8 "
                    + "never fires; \(fix)")
        }
        if t.heatingWatchSeconds > self.limits.maxSessionSeconds {
            check.add(
                "safety.heating_watch_s",
                "\(formatNumber(t.heatingWatchSeconds)) is above limits.max_session_s "
                    + "\(formatNumber(self.limits.maxSessionSeconds)): no session would run long enough for the "
                    + "heating watch (S8) to fire; use at most \(formatNumber(self.limits.maxSessionSeconds))")
        }
        if t.sensorStaleSeconds * 1000 <= Double(self.sensor.intervalMs) {
            check.add(
                "safety.sensor_stale_s",
                "\(t.sensorStaleSeconds) s is not longer than sensor.interval_ms \(self.sensor.intervalMs) ms; "
                    + "every sample would arrive stale")
        }
        let c = self.commands
        check.range("commands.max_bytes", Double(c.maxBytes), 256...65536)
        check.range("commands.rate_per_s", c.ratePerSecond, 0.1...1000)
        check.range("commands.burst", Double(c.burst), 1...1000)
        check.range(
            "commands.signing.replay_window_s", c.signing.replayWindowSeconds, SigningSettings.replayWindowBounds)
        if let path = c.signing.keyFile, path.isEmpty {
            check.add("commands.signing.key_file", "is empty; name the key file or leave the key out")
        }
    }

    private func validateOperations(_ check: inout Checker) {
        check.positive("telemetry.running_interval_s", self.telemetry.runningIntervalSeconds)
        check.hardLimit("telemetry.running_interval_s", self.telemetry.runningIntervalSeconds, 3600)
        check.positive("telemetry.idle_interval_s", self.telemetry.idleIntervalSeconds)
        check.hardLimit("telemetry.idle_interval_s", self.telemetry.idleIntervalSeconds, 3600)
        check.nonEmpty("storage.path", self.storage.path)
        check.range("storage.retention_days", Double(self.storage.retentionDays), 1...36_500)
    }
}

/// Accumulates validation problems with uniform wording.
extension GatewayConfiguration {
    /// `http(s)://host…` with a host and no whitespace: what HA's `origin.support_url` accepts.
    static func isAbsoluteWebURL(_ text: String) -> Bool {
        guard let scheme = ["https://", "http://"].first(where: { text.hasPrefix($0) }) else { return false }
        let rest = text.dropFirst(scheme.count)
        let host = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        return !host.isEmpty && !text.contains(where: { $0.isWhitespace })
    }
}

private struct Checker {
    var problems: [ConfigProblem] = []

    mutating func add(_ keyPath: String, _ message: String) {
        self.problems.append(ConfigProblem(keyPath: keyPath, message: message))
    }

    mutating func positive(_ keyPath: String, _ value: Double) {
        if value <= 0 {
            self.add(keyPath, "\(formatNumber(value)) must be above 0")
        }
    }

    /// `limits.max_session_s: 7200 is above the hard limit 3600`.
    mutating func hardLimit(_ keyPath: String, _ value: Double, _ limit: Double) {
        if value > limit {
            self.add(keyPath, "\(formatNumber(value)) is above the hard limit \(formatNumber(limit))")
        }
    }

    mutating func range(_ keyPath: String, _ value: Double, _ bounds: ClosedRange<Double>) {
        if !bounds.contains(value) {
            let bounds = "\(formatNumber(bounds.lowerBound))…\(formatNumber(bounds.upperBound))"
            self.add(keyPath, "\(formatNumber(value)) is outside \(bounds)")
        }
    }

    mutating func nonEmpty(_ keyPath: String, _ value: String) {
        if value.trimmingCharacters(in: .whitespaces).isEmpty {
            self.add(keyPath, "must not be empty")
        }
    }

    /// A topic prefix is one or more topic levels with no wildcard and no leading `$` (broker-reserved).
    mutating func topicPrefix(_ keyPath: String, _ value: String) {
        if value.isEmpty || value.hasPrefix("/") || value.hasSuffix("/") || value.contains("//") {
            self.add(keyPath, "\"\(value)\" must be one or more topic levels like rlt or home/rlt")
        } else if value.contains("+") || value.contains("#") || value.hasPrefix("$") || value.contains("\u{0}") {
            self.add(keyPath, "\"\(value)\" must not hold +, #, NUL or start with $")
        }
    }
}
