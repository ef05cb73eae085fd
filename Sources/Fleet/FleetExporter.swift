import FlyingFox
import Foundation
import Logging
import Synchronization

/// Serves the fleet as Prometheus metrics over HTTP: `GET /metrics`, plus `GET /` pointing there.
///
/// The HTTP side is FlyingFox (swhitty/FlyingFox): an HTTP/1.1 server on non-blocking sockets
/// and Swift concurrency with no dependencies of its own, so it adds seconds, not minutes, to a clean
/// build; one GET route is all an exporter needs (docs/FLEET.md compares the alternatives).
public final class FleetExporter: Sendable {
    private let monitor: FleetMonitor
    private let server: HTTPServer
    private let startedAt: Double
    private let version: String
    private let logger: Logger
    /// Set by ``stop()``: closing the listening socket makes FlyingFox's `run()` throw, which is then
    /// the expected end, not a failure.
    private let stopping = Mutex(false)

    /// - Parameters:
    ///   - host: IPv4 address to listen on (`127.0.0.1` keeps it local, `0.0.0.0` for a Prometheus elsewhere).
    ///   - port: TCP port; 0 picks a free one (see ``listeningPort()``).
    ///   - version: the program's version for `rlt_exporter_build_info`; passed in because `Fleet`
    ///     does not link the gateway module that defines it.
    /// - Throws: ``FleetError`` when the address is not an IPv4 address.
    public init(
        monitor: FleetMonitor, host: String, port: UInt16, version: String, logger: Logger
    ) throws(FleetError) {
        let address: sockaddr_in
        do {
            address = try .inet(ip4: host, port: port)
        } catch {
            throw FleetError.invalidListenAddress(host)
        }
        self.monitor = monitor
        self.logger = logger
        self.version = version
        self.startedAt = Date().timeIntervalSince1970
        self.server = HTTPServer(
            address: address, timeout: 15, pool: NoDelaySocketPool(base: HTTPServer.defaultPool()), logger: .disabled)
    }

    /// The metrics page as it would be served now.
    public func metricsText() -> String {
        let facts = PrometheusExposition.ExporterFacts(
            mqttConnected: self.monitor.isConnected, mqttReconnects: self.monitor.reconnects,
            startedAt: self.startedAt, version: self.version)
        return PrometheusExposition.render(self.monitor.snapshot(), exporter: facts, now: Date().timeIntervalSince1970)
    }

    /// Serves until the task is cancelled or ``stop()`` is called.
    ///
    /// - Throws: ``FleetError`` when the port cannot be bound or the server fails.
    public func run() async throws {
        await self.server.appendRoute("GET /metrics") { [self] _ in
            HTTPResponse(
                statusCode: .ok, headers: [.contentType: PrometheusExposition.contentType],
                body: Data(self.metricsText().utf8))
        }
        await self.server.appendRoute("GET /") { _ in
            HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: Data("rlt-fleet exporter: metrics at /metrics\n".utf8))
        }
        do {
            try await self.server.run()
        } catch {
            if error is CancellationError || self.stopping.withLock({ $0 }) { return }
            throw FleetError.server("\(error)")
        }
    }

    /// Waits until the server accepts connections and returns its port.
    public func listeningPort() async throws -> UInt16? {
        try await self.server.waitUntilListening()
        guard case .ip4(_, let port)? = await self.server.listeningAddress else { return nil }
        return port
    }

    /// Closes the listening socket and gives open connections half a second to finish.
    public func stop() async {
        self.stopping.withLock { $0 = true }
        await self.server.stop(timeout: 0.5)
    }
}
