import GatewayConfig
import SafetyCore
import Testing

@Suite("Shipped config files")
struct ShippedConfigTests {
    @Test func exampleFile_parsesAndValidatesClean() throws {
        let path = repositoryRoot().appendingPathComponent("config/gateway.example.yaml").path
        #expect(ConfigLoader.check(path: path, overrides: []) == [])
        let config = try ConfigLoader.load(path: path)
        #expect(config.device.id == "panel-1")
        #expect(config.device.serial == "RLT-2024-00017")
        #expect(config.device.groups == ["living-room"])
        #expect(config.gpio.backend == .libgpiod)
        #expect(config.gpio.chip == "gpiochip0")
        #expect(config.gpio.inputs.interlock == InputLine(line: 23, bias: .pullUp, activeLow: true, debounceMs: 10))
        #expect(config.gpio.outputs.red.pwm == PWMSettings(chip: 0, channel: 0, frequencyHz: 1000))
        #expect(config.sensor.type == .w1)
        #expect(config.mqtt.username == config.device.id, "the example ACL names each panel's account after its device id")
        #expect(config.mqtt.passwordFile == "/etc/rlt-gateway/mqtt-password")
        #expect(config.gpio.inputs.stopButton == InputLine(line: 24, bias: .pullUp, activeLow: false, debounceMs: 20))
        #expect(config.warnings == [])
    }

    @Test func demoFile_parsesAndValidatesClean() throws {
        let path = repositoryRoot().appendingPathComponent("config/demo.yaml").path
        #expect(ConfigLoader.check(path: path, overrides: []) == [])
        let config = try ConfigLoader.load(path: path)
        #expect(config.gpio.backend == .simulated)
        #expect(config.gpio.simDir == "/tmp/rlt-demo/gpio")
        #expect(config.sensor.type == .simulated)
        #expect(config.sensor.path == nil)
        #expect(config.mqtt.url == BrokerURL(scheme: .mqtt, host: "127.0.0.1", port: 1883))
        #expect(config.presets.durationSeconds == 20)
        #expect(config.limits.cooldownSeconds == 5)
        #expect(config.gpio.inputs.interlock == InputLine(line: 23, bias: .pullDown, activeLow: false, debounceMs: 10))
        #expect(config.gpio.inputs.stopButton == InputLine(line: 24, bias: .pullDown, activeLow: true, debounceMs: 10))
        #expect(config.storage.path.hasPrefix("/tmp/"))
        #expect(config.warnings == [])
    }

    @Test func demoFile_withTheDemoScriptsOverrides_loads() throws {
        let path = repositoryRoot().appendingPathComponent("config/demo.yaml").path
        let config = try ConfigLoader.load(
            path: path,
            overrides: [
                "mqtt.url=mqtt://127.0.0.1:18830", "gpio.sim_dir=/tmp/rlt-demo-x/gpio",
                "storage.path=/tmp/rlt-demo-x/ledger.sqlite",
            ])
        #expect(config.mqtt.port == 18830)
        #expect(config.gpio.simDir == "/tmp/rlt-demo-x/gpio")
        #expect(config.storage.path == "/tmp/rlt-demo-x/ledger.sqlite")
    }

    @Test func missingFile_isOneProblemNamingTheFile() {
        let path = "/nonexistent/rlt/gateway.yaml"
        let problems = ConfigLoader.check(path: path, overrides: [])
        #expect(problems.count == 1)
        #expect(problems.first?.keyPath == path)
        #expect(problems.first?.message.contains("No such file") == true)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: path) }
    }
}
