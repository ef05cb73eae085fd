import GatewayConfig
import Testing

@Suite("Problems reported with their key paths")
struct ConfigProblemTests {
    @Test func unknownKey_isReportedWithASuggestion() {
        let found = problems("limits: {max_sesion_s: 900}")
        #expect(
            found == [
                ConfigProblem(keyPath: "limits.max_sesion_s", message: "unknown key; did you mean max_session_s?")
            ])
        #expect(found.first?.description == "limits.max_sesion_s: unknown key; did you mean max_session_s?")
    }

    /// HA refuses a whole discovery document over a bad origin URL, so the config refuses it first.
    @Test func supportURL_mustBeAnAbsoluteWebURL_andManufacturerNonEmpty() throws {
        for bad in ["ftp://example.org", "example.org/help", "https://", "https://exa mple.org"] {
            #expect(
                messages(problems("mqtt: {discovery: {support_url: '\(bad)'}}"), at: "mqtt.discovery.support_url")
                    == ["'\(bad)' is not an absolute http:// or https:// URL"])
        }
        #expect(problems("mqtt: {discovery: {support_url: 'https://example.org/rlt/help'}}").isEmpty)
        #expect(messages(problems("device: {manufacturer: ''}"), at: "device.manufacturer").count == 1)
        let config = try ConfigLoader.parse(yaml: "device: {manufacturer: Acme Light}")
        #expect(config.device.manufacturer == "Acme Light")
        #expect(try ConfigLoader.parse(yaml: "{}").device.manufacturer == "rlt")
    }

    @Test func unknownKeyFarFromAnyKnownKey_listsTheKnownKeys() {
        let found = problems("telemetry: {frobnicate: 1}")
        #expect(
            messages(found, at: "telemetry.frobnicate") == [
                "unknown key; expected one of: running_interval_s, idle_interval_s"
            ])
    }

    @Test func unknownTopLevelSection_isReported() {
        #expect(messages(problems("limit: {}"), at: "limit") == ["unknown key; did you mean limits?"])
    }

    @Test func unknownKeyInNestedOutput_isReported() {
        #expect(
            messages(problems("gpio: {outputs: {red: {lien: 5}}}"), at: "gpio.outputs.red.lien") == [
                "unknown key; did you mean line?"
            ])
    }

    @Test func wrongType_namesTheKeyAndTheExpectedType() {
        let found = problems(
            """
            limits: {max_session_s: ten}
            gpio: {outputs: {red: {line: 5.5}}}
            mqtt: {allow_insecure: maybe, keepalive_s: "10"}
            device: {groups: oops}
            presets: {channels: blue}
            """)
        #expect(messages(found, at: "limits.max_session_s") == ["expected a number, got the string \"ten\""])
        #expect(messages(found, at: "gpio.outputs.red.line") == ["expected an integer, got the number 5.5"])
        #expect(messages(found, at: "mqtt.allow_insecure") == ["expected true or false, got the string \"maybe\""])
        #expect(messages(found, at: "mqtt.keepalive_s") == ["expected an integer, got the string \"10\""])
        #expect(messages(found, at: "device.groups") == ["expected a list of strings, got the string \"oops\""])
        #expect(messages(found, at: "presets.channels") == ["\"blue\" is not one of red, nir, both"])
        #expect(found.count == 6)
    }

    @Test func sectionThatIsNotAMapping_isReported() {
        #expect(messages(problems("limits: 5"), at: "limits") == ["expected a mapping, got the number 5"])
    }

    @Test func misspelledChoice_isReportedWithASuggestion() {
        #expect(
            messages(problems("gpio: {backend: simulate}"), at: "gpio.backend") == [
                "\"simulate\" is not one of libgpiod, simulated; did you mean simulated?"
            ])
    }

    @Test func limitAboveHardLimit_isRefused() {
        let found = problems("limits: {max_session_s: 7200, max_daily_sessions: 11, cutoff_c: 90}")
        #expect(found.map(\.description).contains("limits.max_session_s: 7200 is above the hard limit 3600"))
        #expect(messages(found, at: "limits.max_daily_sessions") == ["11 is above the hard limit 10"])
        #expect(messages(found, at: "limits.cutoff_c") == ["90 is above the hard limit 85"])
    }

    @Test func nonPositiveLimits_areRefused() {
        let found = problems("limits: {max_session_dose_j_cm2: 0, cooldown_s: -1}")
        #expect(messages(found, at: "limits.max_session_dose_j_cm2") == ["0 must be above 0"])
        #expect(messages(found, at: "limits.cooldown_s") == ["-1 is below the hard limit 0"])
    }

    @Test func warnAtOrAboveCutoff_isRefused() {
        #expect(
            messages(problems("limits: {warn_c: 65, cutoff_c: 65}"), at: "limits.warn_c") == [
                "65 must be below cutoff_c 65"
            ])
    }

    @Test func resumeAtOrAboveCutoff_isRefused() {
        #expect(
            messages(problems("limits: {resume_c: 70, warn_c: 50, cutoff_c: 60}"), at: "limits.resume_c") == [
                "70 must be below cutoff_c 60"
            ])
    }

    @Test func presetAboveLimits_isRefused() {
        let found = problems(
            "limits: {max_session_s: 300, max_session_dose_j_cm2: 10}\npresets: {duration_s: 600, dose_j_cm2: 20}")
        #expect(messages(found, at: "presets.duration_s") == ["600 is above limits.max_session_s 300"])
        #expect(messages(found, at: "presets.dose_j_cm2") == ["20 is above limits.max_session_dose_j_cm2 10"])
    }

    @Test func intensityBelow100WithoutPWM_isRefusedPerChannel() {
        let found = problems("presets: {intensity_pct: 50}")
        #expect(
            messages(found, at: "presets.intensity_pct") == [
                "50 needs PWM on the red channel (gpio.outputs.red.pwm); without PWM only 100 is possible",
                "50 needs PWM on the nir channel (gpio.outputs.nir.pwm); without PWM only 100 is possible",
            ])
    }

    @Test func intensityBelow100WithPWMOnThePresetsChannel_isAccepted() throws {
        let config = try ConfigLoader.parse(
            yaml: "presets: {channels: red, intensity_pct: 50}\ngpio: {outputs: {red: {pwm: {channel: 0}}}}")
        #expect(config.presets.intensityPercent == 50)
        #expect(config.safety.dimmable.red)
        #expect(!config.safety.dimmable.nir)
    }

    @Test func intensityOutside1To100_isRefused() {
        #expect(
            messages(problems("presets: {intensity_pct: 0}"), at: "presets.intensity_pct").first == "0 is outside 1…100"
        )
        #expect(
            messages(problems("presets: {intensity_pct: 150}"), at: "presets.intensity_pct") == ["150 is outside 1…100"]
        )
    }

    @Test func implausibleIrradiance_isRefused() {
        let found = problems("channels: {red: {irradiance_mw_cm2: 500}, nir: {irradiance_mw_cm2: 0}}")
        #expect(
            messages(found, at: "channels.red.irradiance_mw_cm2") == [
                "500 mW/cm² is not plausible for an LED panel (at most 200); check the calibration"
            ])
        #expect(messages(found, at: "channels.nir.irradiance_mw_cm2") == ["0 must be above 0"])
    }

    @Test(arguments: ["Panel-1", "panel 1", "", "a234567890123456789012345678901234", "panel/1", "pänel"])
    func badDeviceID_isRefused(id: String) {
        let found = problems("device: {id: '\(id)'}")
        #expect(
            messages(found, at: "device.id") == [
                "\"\(id)\" is not a valid device id; use 1–32 characters from a–z, 0–9 and -"
            ])
    }

    @Test func badGroupName_isRefusedByIndex() {
        #expect(
            messages(problems("device: {groups: [ok, Not-Ok]}"), at: "device.groups[1]") == [
                "\"Not-Ok\" is not a valid group name; use 1–32 characters from a–z, 0–9 and -"
            ])
    }

    @Test func passwordKey_isRefusedPointingToFileAndEnvironment() {
        let found = problems("mqtt: {username: u, password: hunter2}")
        #expect(
            messages(found, at: "mqtt.password") == [
                "secrets are not accepted in the config file; put the password in a file named by "
                    + "mqtt.password_file or in the RLT_MQTT_PASSWORD environment variable"
            ])
        #expect(found.count == 1)
    }

    @Test func plaintextURLToRemoteHost_isRefused() {
        #expect(
            messages(problems("mqtt: {url: 'mqtt://broker.lan:1883'}"), at: "mqtt.url") == [
                "plaintext mqtt:// to the non-loopback host broker.lan is refused (commands and credentials would "
                    + "travel unencrypted); use mqtts:// or set mqtt.allow_insecure: true"
            ])
    }

    @Test func plaintextURLToRemoteHost_isAllowedWithAllowInsecure() throws {
        let config = try ConfigLoader.parse(yaml: "mqtt: {url: 'mqtt://192.168.1.10', allow_insecure: true}")
        #expect(config.mqtt.host == "192.168.1.10")
        #expect(config.mqtt.port == 1883)
        #expect(config.warnings.map(\.keyPath).contains("mqtt.url"))
    }

    @Test(arguments: ["mqtt://127.0.0.1:1883", "mqtt://127.8.9.10", "mqtt://localhost:18830", "mqtt://[::1]:1883"])
    func plaintextURLToLoopback_isAccepted(url: String) {
        #expect(problems("mqtt: {url: '\(url)'}") == [])
    }

    @Test(arguments: [
        ("http://127.0.0.1:1883", "scheme \"http\" is not supported; use mqtt:// or mqtts://"),
        ("mqtt://:1883", "\"mqtt://:1883\" has no host"),
        ("mqtt://127.0.0.1:0", "port \"0\" is not a number in 1…65535"),
        ("mqtt://127.0.0.1:65536", "port \"65536\" is not a number in 1…65535"),
        ("127.0.0.1:1883", "\"127.0.0.1:1883\" is not a broker URL; write mqtt://host:port or mqtts://host:port"),
        (
            "mqtt://u:p@127.0.0.1",
            "credentials in the URL are refused; use mqtt.username and mqtt.password_file or RLT_MQTT_PASSWORD"
        ),
    ])
    func malformedURL_isRefused(url: String, message: String) {
        #expect(messages(problems("mqtt: {url: '\(url)'}"), at: "mqtt.url") == [message])
    }

    @Test func tlsFilesWithPlaintextURL_andCertWithoutKey_areRefused() {
        let found = problems("mqtt: {ca_file: /ca.crt, cert_file: /c.crt}")
        #expect(
            messages(found, at: "mqtt.ca_file") == [
                "TLS files are only used with an mqtts:// URL, but mqtt.url is mqtt://127.0.0.1:1883; use mqtts:// "
                    + "or remove mqtt.ca_file"
            ])
        #expect(
            messages(found, at: "mqtt.cert_file").contains(
                "a client certificate needs its private key in mqtt.key_file"))
    }

    @Test func passwordFileWithoutUsername_isRefused() {
        #expect(
            messages(problems("mqtt: {password_file: /etc/pw}"), at: "mqtt.password_file") == [
                "a password needs mqtt.username"
            ])
    }

    @Test func duplicateGPIOLines_areRefusedAtTheLaterKey() {
        let found = problems(
            "gpio: {outputs: {nir: {line: 17}}, inputs: {interlock: {line: 22}, stop_button: {line: 30}}}")
        #expect(messages(found, at: "gpio.outputs.nir.line") == ["line 17 is already used by gpio.outputs.red.line"])
        #expect(
            messages(found, at: "gpio.inputs.interlock.line") == ["line 22 is already used by gpio.outputs.master.line"]
        )
        #expect(found.count == 2)
    }

    @Test func optionalOutputWithoutLine_isRefused() {
        #expect(
            messages(problems("gpio: {outputs: {indicator: {active_low: true}}}"), at: "gpio.outputs.indicator.line")
                == ["missing; expected an integer"])
    }

    @Test func channelOutputSetToNull_isRefused() {
        #expect(
            messages(problems("gpio: {outputs: {red: null}}"), at: "gpio.outputs.red") == [
                "the red channel's output is required; give its line, e.g. {line: 17}"
            ])
    }

    @Test func libgpiodWithoutChip_isRefused() {
        #expect(
            messages(problems("gpio: {chip: null}"), at: "gpio.chip") == [
                "the libgpiod backend needs a chip name, path or label, e.g. gpiochip0"
            ])
    }

    @Test func fileSensorsWithoutPath_areRefused() {
        #expect(
            messages(problems("sensor: {type: w1}"), at: "sensor.path") == [
                "sensor.type w1 needs a file to read, e.g. /sys/bus/w1/devices/28-…/w1_slave"
            ])
        #expect(messages(problems("sensor: {type: file, path: null}"), at: "sensor.path").count == 1)
        #expect(problems("sensor: {type: file, path: /tmp/t}") == [])
    }

    @Test func sensorIntervalOutOfRange_isRefused() {
        #expect(messages(problems("sensor: {interval_ms: 10}"), at: "sensor.interval_ms") == ["10 is outside 50…10000"])
    }

    @Test func telemetryAndStorage_areChecked() {
        let found = problems("telemetry: {running_interval_s: 0}\nstorage: {path: '', retention_days: 0}")
        #expect(messages(found, at: "telemetry.running_interval_s") == ["0 must be above 0"])
        #expect(messages(found, at: "storage.path") == ["must not be empty"])
        #expect(messages(found, at: "storage.retention_days") == ["0 is outside 1…36500"])
    }

    @Test func yamlSyntaxError_isOneProblemWithItsPosition() {
        let found = problems("limits: {max_session_s: 900\n")
        #expect(found.count == 1)
        #expect(found.first?.keyPath == "<yaml>")
        #expect(found.first?.message.hasPrefix("YAML syntax error at line") == true)
    }

    @Test func duplicateYAMLKey_isAProblem() {
        let found = problems("limits:\n  cooldown_s: 5\n  cooldown_s: 6\n")
        #expect(found.count == 1)
        #expect(found.first?.message.contains("duplicate key cooldown_s") == true)
    }

    @Test func topLevelNotAMapping_isAProblem() {
        #expect(
            problems("- a\n- b") == [
                ConfigProblem(
                    keyPath: "<yaml>",
                    message: "the top level must be a mapping of sections (device:, mqtt:, …), not a list")
            ])
    }

    @Test func severalProblems_areAllReportedAtOnce() {
        let found = problems(
            """
            device: {id: "Bad ID"}
            mqtt: {url: "mqtt://broker.lan", password: x}
            limits: {max_session_s: 7200, warn_c: 70, max_sesion_dose_j_cm2: 1}
            gpio: {outputs: {nir: {line: 17}}}
            presets: {intensity_pct: 50, channels: red}
            """)
        let paths = Set(found.map(\.keyPath))
        #expect(
            paths == [
                "device.id", "mqtt.url", "mqtt.password", "limits.max_session_s", "limits.warn_c",
                "limits.max_sesion_dose_j_cm2", "gpio.outputs.nir.line", "presets.intensity_pct",
            ])
        do {
            _ = try ConfigLoader.parse(yaml: "limits: {max_session_s: 7200, cutoff_c: 99}")
            Issue.record("expected a ConfigError")
        } catch let error as ConfigError {
            #expect(error.problems.count == 2)
            #expect(error.description.contains("limits.max_session_s: 7200 is above the hard limit 3600"))
            #expect(error.description.contains("limits.cutoff_c: 99 is above the hard limit 85"))
        } catch {
            Issue.record("expected a ConfigError, got \(error)")
        }
    }
}
