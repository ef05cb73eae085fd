import ArgumentParser
import Fleet
import Gateway
import GatewayCommandLine
import GatewayConfig
import Logging
import MQTT

/// Shared broker options of the fleet tools: the same `--config`/`--set` as the daemon, plus
/// `--url` and `--prefix`; the device section of the config is ignored.
struct FleetConnection: ParsableArguments {
    @OptionGroup var options: ConfigOptions
    @Option(help: "Broker URL (overrides mqtt.url).") var url: String?
    @Option(help: "Topic prefix of the fleet (overrides mqtt.prefix).") var prefix: String?

    /// The broker connection (with a client id of its own) and the fleet's topics.
    func load(clientPrefix: String) throws -> (
        connection: MQTTClientConfiguration, topics: FleetTopics, logLevel: Logger.Level
    ) {
        var options = self.options
        if let url = self.url { options.overrides.append("mqtt.url=\(url)") }
        if let prefix = self.prefix { options.overrides.append("mqtt.prefix=\(prefix)") }
        let configuration = try options.load()
        let connection = try configuration.mqttClientConfiguration(
            forClient: "\(clientPrefix)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            return (connection, try FleetTopics(prefix: configuration.mqtt.prefix), configuration.logLevel)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

extension FleetTable.SortKey: ExpressibleByArgument {}
