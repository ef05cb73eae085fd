import GatewayConfig
import Testing

@Suite("Warnings and broker URLs")
struct WarningsTests {
    @Test func defaultConfig_raisesNoWarning() {
        #expect(ConfigLoader.default().warnings == [])
    }

    @Test func ipv6BrokerURL_isParsedAndPrintedWithBrackets() throws {
        let url = try BrokerURL(parsing: "mqtts://[fd00::5]:8884/")
        #expect(url == BrokerURL(scheme: .mqtts, host: "fd00::5", port: 8884))
        #expect(url.description == "mqtts://[fd00::5]:8884")
        #expect(!url.isLoopback)
        #expect(try BrokerURL(parsing: "MQTT://[::1]").isLoopback)
    }
}
