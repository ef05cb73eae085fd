import GatewayConfig
import Testing

@Suite("--set overrides")
struct ConfigOverrideTests {
    @Test func numberOverride_replacesTheFilesValue() throws {
        let config = try ConfigLoader.parse(
            yaml: "limits: {max_session_s: 1200}", overrides: ["limits.max_session_s=900"])
        #expect(config.limits.maxSessionSeconds == 900)
    }

    @Test func stringOverride_setsTheURL() throws {
        let config = try ConfigLoader.parse(yaml: "", overrides: ["mqtt.url=mqtt://127.0.0.1:18830", "device.id=t1"])
        #expect(config.mqtt.url == BrokerURL(scheme: .mqtt, host: "127.0.0.1", port: 18830))
        #expect(config.device.id == "t1")
        #expect(config.baseTopic == "rlt/t1")
        #expect(config.mqtt.clientID == "rlt-t1")
    }

    @Test func nullOverride_clearsAnOptionalValue() throws {
        let config = try ConfigLoader.parse(yaml: "presets: {dose_j_cm2: 30}", overrides: ["presets.dose_j_cm2=null"])
        #expect(config.presets.doseJPerCm2 == nil)
    }

    @Test func emptyValue_isNull() throws {
        let config = try ConfigLoader.parse(
            yaml: "gpio: {outputs: {master: {line: 22}}}", overrides: ["gpio.outputs.master="])
        #expect(config.gpio.outputs.master == nil)
    }

    @Test func nestedOverride_changesOneKeyAndKeepsItsSiblings() throws {
        let config = try ConfigLoader.parse(
            yaml: "gpio: {outputs: {red: {line: 17, active_low: true}}}", overrides: ["gpio.outputs.red.line=5"])
        #expect(config.gpio.outputs.red == ChannelOutput(line: 5, activeLow: true))
    }

    @Test func overrideIntoAMissingMapping_createsIt() throws {
        let config = try ConfigLoader.parse(
            yaml: "device: {id: x}",
            overrides: [
                "gpio.outputs.heartbeat.line=6", "gpio.outputs.red.pwm.channel=1", "sensor.simulated.rise_c.red=20",
            ]
        )
        #expect(config.gpio.outputs.heartbeat == OutputLine(line: 6))
        #expect(config.gpio.outputs.red.pwm == PWMSettings(chip: 0, channel: 1, frequencyHz: 1000))
        #expect(config.sensor.simulated.riseC.red == 20)
    }

    @Test func overrideIntoANullMapping_createsIt() throws {
        let config = try ConfigLoader.parse(
            yaml: "gpio: {outputs: {indicator: null}}", overrides: ["gpio.outputs.indicator.line=5"])
        #expect(config.gpio.outputs.indicator == OutputLine(line: 5))
    }

    @Test func laterOverride_winsOverEarlierOne() throws {
        let config = try ConfigLoader.parse(yaml: "", overrides: ["limits.cooldown_s=10", "limits.cooldown_s=20"])
        #expect(config.limits.cooldownSeconds == 20)
    }

    @Test func overrideValues_areValidatedLikeTheFile() {
        let found = problems(
            "", overrides: ["limits.max_session_s=7200", "limits.max_sesion_s=1", "gpio.outputs.red.line=x"])
        #expect(messages(found, at: "limits.max_session_s") == ["7200 is above the hard limit 3600"])
        #expect(messages(found, at: "limits.max_sesion_s") == ["unknown key; did you mean max_session_s?"])
        #expect(messages(found, at: "gpio.outputs.red.line") == ["expected an integer, got the string \"x\""])
    }

    @Test func quotedOverride_isAString_andFlowListIsAList() throws {
        let config = try ConfigLoader.parse(yaml: "", overrides: ["device.name=\"5\"", "device.groups=[a, b]"])
        #expect(config.device.name == "5")
        #expect(config.device.groups == ["a", "b"])
        #expect(
            messages(problems("", overrides: ["mqtt.keepalive_s='10'"]), at: "mqtt.keepalive_s") == [
                "expected an integer, got the string \"10\""
            ])
    }

    @Test(arguments: [
        ("limits.max_session_s", "\"limits.max_session_s\" has no =; write --set key.path=value"),
        ("=5", "\"=5\" has an empty key path; write --set key.path=value"),
        ("limits..cooldown_s=5", "\"limits..cooldown_s\" has an empty key; separate keys with single dots"),
        ("device.name=[a", "the value of device.name is not valid YAML: [a"),
    ])
    func malformedOverride_isAProblem(override: String, message: String) {
        #expect(problems("", overrides: [override]) == [ConfigProblem(keyPath: "--set", message: message)])
    }

    @Test func overrideThroughAScalar_isAProblem() {
        #expect(
            problems("limits: {cooldown_s: 120}", overrides: ["limits.cooldown_s.x=1"]) == [
                ConfigProblem(
                    keyPath: "--set",
                    message: "cannot set limits.cooldown_s.x: limits.cooldown_s is the number 120, not a mapping")
            ])
    }

    @Test func malformedOverride_isReportedAlongsideFileProblems() {
        let found = problems("limits: {cutoff_c: 99}", overrides: ["oops"])
        #expect(Set(found.map(\.keyPath)) == ["--set", "limits.cutoff_c"])
    }
}
