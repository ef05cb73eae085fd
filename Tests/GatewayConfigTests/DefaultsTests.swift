import GatewayConfig
import SafetyCore
import Testing

@Suite("Defaults")
struct DefaultsTests {
    @Test func emptyFile_givesTheDesignDefaults() throws {
        let config = try ConfigLoader.parse(yaml: "")
        #expect(config == ConfigLoader.default())
        #expect(config.device.id == "panel-1")
        #expect(config.device.model == "RLT-660/850")
        #expect(config.mqtt.url == BrokerURL(scheme: .mqtt, host: "127.0.0.1", port: 1883))
        #expect(config.mqtt.allowInsecure == false)
        #expect(config.mqtt.protocolVersion == .v5)
        #expect(config.mqtt.prefix == "rlt")
        #expect(config.mqtt.username == nil)
        #expect(config.mqtt.passwordFile == nil)
        #expect(config.mqtt.keepaliveSeconds == 10)
        #expect(config.mqtt.discovery == DiscoverySettings(enabled: true, prefix: "homeassistant", mode: .device))
        #expect(config.mqtt.clientID == "rlt-panel-1")
        #expect(config.gpio.backend == .libgpiod)
        #expect(config.gpio.chip == "gpiochip0")
        #expect(config.gpio.simDir == nil)
        #expect(config.gpio.outputs.red == ChannelOutput(line: 17))
        #expect(config.gpio.outputs.nir == ChannelOutput(line: 27))
        #expect(config.gpio.outputs.master == OutputLine(line: 22))
        #expect(config.gpio.outputs.indicator == nil)
        #expect(config.gpio.outputs.heartbeat == nil)
        #expect(config.gpio.inputs.interlock == InputLine(line: 23, bias: .pullDown))
        #expect(config.gpio.inputs.stopButton == nil)
        #expect(config.gpio.inputs.emissionSense == nil)
        #expect(config.sensor.type == .sysfs)
        #expect(config.sensor.path == "/sys/class/thermal/thermal_zone0/temp")
        #expect(config.sensor.intervalMs == 250)
        #expect(config.channels.red == ChannelCalibration(wavelengthNm: 660, irradianceMWPerCm2: 50))
        #expect(config.channels.nir == ChannelCalibration(wavelengthNm: 850, irradianceMWPerCm2: 40))
        #expect(config.presets == PresetSettings(channels: .both, intensityPercent: 100, durationSeconds: 600))
        #expect(
            config.limits
                == LimitSettings(
                    maxSessionSeconds: 1200, maxSessionDoseJPerCm2: 60, maxDailyDoseJPerCm2: 120, maxDailySessions: 3,
                    cooldownSeconds: 120, warnC: 55, cutoffC: 65, resumeC: 50))
        #expect(config.policy == PolicySettings(onLinkLoss: .continue, latchOnUncleanRestart: true))
        #expect(config.telemetry == TelemetrySettings(runningIntervalSeconds: 1, idleIntervalSeconds: 30))
        #expect(config.storage == StorageSettings(path: "/var/lib/rlt-gateway/ledger.sqlite", retentionDays: 365))
        #expect(config.logging.level == .info)
        #expect(config.baseTopic == "rlt/panel-1")
    }

    @Test func defaults_validateClean() {
        #expect(ConfigLoader.default().validate() == [])
    }

    @Test func onlyDeviceID_derivesNameSerialClientIDAndTopic() throws {
        let config = try ConfigLoader.parse(yaml: "device: {id: x}")
        #expect(config.device.id == "x")
        #expect(config.device.name == "x")
        #expect(config.device.serial == "x")
        #expect(config.mqtt.clientID == "rlt-x")
        #expect(config.baseTopic == "rlt/x")
    }

    @Test func simulatedBackendWithoutSimDir_defaultsPerDevice() throws {
        let config = try ConfigLoader.parse(yaml: "device: {id: bench-2}\ngpio: {backend: simulated}")
        #expect(config.gpio.simDir == "/tmp/rlt-gpio-sim/bench-2")
    }

    @Test func simulatedThermal_defaultsSettleNear52WithBothChannels() throws {
        let thermal = try ConfigLoader.parse(yaml: "sensor: {type: simulated}").sensor.simulated
        #expect(thermal.ambientC == 25)
        #expect(thermal.timeConstantSeconds == 300)
        #expect(thermal.riseC == PerChannel(red: 15, nir: 12))
        #expect(thermal.ambientC + thermal.riseC.red + thermal.riseC.nir == 52)
    }

    @Test func nullOptionalOutputsAndInputs_turnThemOff() throws {
        let config = try ConfigLoader.parse(
            yaml: """
                gpio:
                  outputs: {master: null}
                  inputs: {interlock: null}
                """)
        #expect(config.gpio.outputs.master == nil)
        #expect(config.gpio.inputs.interlock == nil)
        #expect(config.safety.inputs.interlock == false)
    }

    @Test func partialOutput_keepsTheDefaultLine() throws {
        let config = try ConfigLoader.parse(yaml: "gpio: {outputs: {red: {active_low: true}}}")
        #expect(config.gpio.outputs.red == ChannelOutput(line: 17, activeLow: true))
    }

    @Test func protocol311AndEntityDiscovery_areRead() throws {
        let config = try ConfigLoader.parse(
            yaml: "mqtt: {protocol: 3.1.1, discovery: {mode: entity}, client_id: my-panel}")
        #expect(config.mqtt.protocolVersion == .v311)
        #expect(config.mqtt.discovery.mode == .entity)
        #expect(config.mqtt.clientID == "my-panel")
    }

    @Test func tlsURLWithoutPort_usesPort8883() throws {
        let config = try ConfigLoader.parse(
            yaml: "mqtt: {url: 'mqtts://broker.example.net', ca_file: /etc/rlt/ca.crt}")
        #expect(config.mqtt.url == BrokerURL(scheme: .mqtts, host: "broker.example.net", port: 8883))
        #expect(config.mqtt.usesTLS)
    }
}
