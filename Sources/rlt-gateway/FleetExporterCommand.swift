import ArgumentParser
import Dispatch
import Fleet
import Foundation
import Logging
import Synchronization

/// `rlt-gateway fleet exporter`: the fleet's MQTT telemetry as Prometheus metrics over HTTP.
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
        let logger = Logger(label: "rlt-gateway.fleet-exporter")
        let monitor = try FleetMonitor(connection: connection, topics: topics, logger: logger)
        let exporter: FleetExporter
        do {
            exporter = try FleetExporter(monitor: monitor, host: self.listen, port: self.port, logger: logger)
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

/// SIGTERM/SIGINT as something to await: the default handlers would kill the process before the
/// MQTT client disconnects cleanly.
final class ShutdownSignals: Sendable {
    /// Kept alive until ``cancel()``; Dispatch's source type is not `Sendable`, the lock makes it so.
    private let sources: Mutex<[any DispatchSourceSignal]>
    private let stream: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation

    init(_ numbers: [Int32] = [SIGTERM, SIGINT]) {
        (self.stream, self.continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let continuation = self.continuation
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = Mutex(sources)
    }

    /// Returns when the first signal arrives, or when cancelled.
    func wait() async {
        for await _ in self.stream { return }
    }

    /// Forwards every signal, for loops that also wait on other things.
    var signals: AsyncStream<Int32> { self.stream }

    func cancel() {
        self.sources.withLock { sources in
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        self.continuation.finish()
    }
}
