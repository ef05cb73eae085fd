import GatewayConfig
import Testing

@Suite("Warnings and broker URLs")
struct WarningsTests {
    @Test func defaultInterlockOnLibgpiod_warnsThatABrokenWireReadsClosed() {
        let warnings = ConfigLoader.default().warnings
        #expect(warnings.map(\.keyPath) == ["gpio.inputs.interlock"])
        #expect(warnings.first?.message.contains("broken wire as closed") == true)
    }

    @Test func failSafeInterlockWiring_raisesNoWarning() throws {
        let pulledUp = try ConfigLoader.parse(yaml: "gpio: {inputs: {interlock: {line: 23, active_low: true}}}")
        #expect(pulledUp.warnings == [])
        let pulledDown = try ConfigLoader.parse(yaml: "gpio: {inputs: {interlock: {line: 23, bias: pull-down}}}")
        #expect(pulledDown.warnings == [])
    }

    @Test func warnings_doNotStopALoad() throws {
        let path = repositoryRoot().appendingPathComponent("config/demo.yaml").path
        let config = try ConfigLoader.load(path: path, overrides: ["gpio.backend=libgpiod"])
        #expect(config.warnings.map(\.keyPath) == ["gpio.inputs.interlock"])
    }

    @Test func ipv6BrokerURL_isParsedAndPrintedWithBrackets() throws {
        let url = try BrokerURL(parsing: "mqtts://[fd00::5]:8884/")
        #expect(url == BrokerURL(scheme: .mqtts, host: "fd00::5", port: 8884))
        #expect(url.description == "mqtts://[fd00::5]:8884")
        #expect(!url.isLoopback)
        #expect(try BrokerURL(parsing: "MQTT://[::1]").isLoopback)
    }
}
