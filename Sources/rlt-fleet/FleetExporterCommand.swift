import ArgumentParser
import Fleet
import Gateway
import Logging

/// `rlt-fleet exporter`: the fleet's MQTT telemetry as Prometheus metrics over HTTP.
struct FleetExporterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exporter",
        abstract: "Serve the fleet's telemetry as Prometheus metrics (GET /metrics) until SIGTERM/SIGINT.")

    @OptionGroup var connection: FleetConnection
    @Option(help: "IPv4 address to listen on (0.0.0.0 for a Prometheus on another host).") var listen = "127.0.0.1"
    @Option(help: "TCP port of the metrics endpoint.") var port: UInt16 = 9474

    func run() async throws {
        let (connection, topics, logLevel) = try self.connection.load(clientPrefix: "rlt-fleet-exporter")
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "rlt-fleet.exporter")
        let monitor = try FleetMonitor(connection: connection, topics: topics, logger: logger)
        let exporter: FleetExporter
        do {
            exporter = try FleetExporter(
                monitor: monitor, host: self.listen, port: self.port, version: GatewayVersion.current, logger: logger)
        } catch {
            throw ValidationError(error.description)
        }
        let signals = ShutdownSignals()
        let monitorTask = Task { await monitor.run() }
        let (listen, filter) = (self.listen, topics.filter(.status))
        let announce = Task {
            let port = try? await exporter.listeningPort()
            logger.info(
                "serving fleet metrics",
                metadata: [
                    "http.url": "http://\(listen):\(port.map(String.init) ?? "?")/metrics",
                    "mqtt.filter": "\(filter), state, tele, event",
                ])
        }
        let failed: Bool = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await signals.wait()
                return false
            }
            group.addTask {
                do {
                    try await exporter.run()
                    return false
                } catch {
                    logger.critical("fleet exporter stopped", metadata: ["error": "\(error)"])
                    return true
                }
            }
            let result = await group.next() ?? false
            // The children must all end before the group returns: stop the server and the signal wait.
            signals.cancel()
            await exporter.stop()
            group.cancelAll()
            return result
        }
        announce.cancel()
        await monitor.stop()
        await monitorTask.value
        if failed { throw ExitCode.failure }
    }
}
