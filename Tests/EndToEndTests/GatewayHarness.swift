import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import TestKit
import TestSupport
import Synchronization
import Testing

/// One broker, one daemon in simulation mode and one independent MQTT client, as a user has them.
///
/// Each harness owns its temporary directory (config, ledger, simulated chip, sensor file) and
/// normally its broker; fleet tests give several harnesses one shared broker.
final class GatewayHarness {
    /// A device id of its own for every harness: test processes of other worktrees run brokers on
    /// random ports too, and a daemon of theirs still retrying a port this harness's broker now owns
    /// must neither share a client id with ours (the broker would kick one of them) nor its topics.
    static func uniqueDeviceID() -> String { "e2e-\(UUID().uuidString.prefix(8).lowercased())" }
    static let redLine = 17
    static let nirLine = 27
    static let masterLine = 22
    static let interlockLine = 23
    static let stopButtonLine = 24

    let deviceID: String
    let broker: MosquittoBroker
    /// Whether ``shutdown()`` stops the broker (false when it is shared by a fleet).
    private let ownsBroker: Bool
    let directory: TemporaryDirectory
    let chip: SimulatedChipDirectory
    let client: TestClient
    var gateway: GatewayProcess
    let configPath: String
    let overrides: [String]
    let environment: [String: String]
    /// This panel's command key when the test turned signing on: the harness's own `get`s are signed.
    let commandKey: CommandSignature?

    var base: String { "rlt/\(self.deviceID)" }
    /// Where a `sensor.type: file` configuration reads its millidegrees (see ``writeTemperature(_:)``).
    var sensorFile: String { self.directory.file("temp") }

    /// Starts broker, daemon and client, and waits for the retained `status` online.
    ///
    /// - Parameters:
    ///   - deviceID: the panel's id (topics `rlt/<id>/…`).
    ///   - broker: a broker shared with other harnesses; `nil` starts one of its own.
    ///   - extraYAML: config text appended to the base file (use `overrides` for keys the base sets:
    ///     `presets`, `limits`, `sensor`, `gpio`, `mqtt`, `device`, `storage`).
    ///   - overrides: `--set key=value` overrides.
    ///   - brokerUpAtStart: false stops the broker before the daemon starts; the harness then does not
    ///     wait for `online` (call ``waitForOnline(timeout:)`` after starting the broker).
    ///   - fileSensor: reads the panel temperature from ``sensorFile`` (`sensor.type: file`) instead of
    ///     the simulated thermal model, so the test plays temperatures.
    ///   - initialTemperatureMilliC: written to ``sensorFile`` before the daemon starts.
    ///   - rateLimited: keeps the daemon's default command rate limit (5/s, burst 10). Off by default:
    ///     the harness raises the limit so a test's commands never get `E_RATE` however fast the machine
    ///     answers; only the rate-limit tests need the default.
    ///   - configureClient: adjusts the test client's connection (TLS, credentials) for special brokers.
    init(
        deviceID: String = GatewayHarness.uniqueDeviceID(),
        broker shared: MosquittoBroker? = nil,
        extraYAML: String = "",
        overrides extra: [String] = [],
        brokerUpAtStart: Bool = true,
        fileSensor: Bool = false,
        environment: [String: String] = [:],
        initialTemperatureMilliC: Int = 30000,
        rateLimited: Bool = false,
        commandKey: [UInt8]? = nil,
        configureClient: (inout MQTTClientConfiguration) -> Void = { _ in }
    ) async throws {
        self.deviceID = deviceID
        if let shared {
            self.broker = shared
            self.ownsBroker = false
        } else {
            self.broker = try await MosquittoBroker()
            self.ownsBroker = true
        }
        self.directory = try TemporaryDirectory(prefix: "rlt-e2e")
        self.chip = SimulatedChipDirectory(path: self.directory.file("gpio"))
        try self.directory.write("temp", "\(initialTemperatureMilliC)\n")
        // Fail-safe interlock wiring: the contact drives the line high when closed and the bias pulls
        // a broken wire low (open). The panel's door starts closed.
        try self.chip.pull(line: Self.interlockLine, up: true)
        // A stop button, where a test configures one (line 24), is normally closed: released reads high.
        try self.chip.pull(line: Self.stopButtonLine, up: true)
        let sensor =
            fileSensor
            ? "{ type: file, path: \(self.directory.file("temp")), interval_ms: 100 }"
            : "{ type: simulated, interval_ms: 100 }"
        let yaml = """
            device: { id: \(deviceID), name: "E2E panel", model: "RLT-660/850" }
            mqtt: { url: "mqtt://127.0.0.1:\(self.broker.port)", keepalive_s: 5 }
            gpio:
              backend: simulated
              sim_dir: \(self.chip.path)
              outputs:
                red: { line: \(Self.redLine) }
                nir: { line: \(Self.nirLine) }
                master: { line: \(Self.masterLine) }
              inputs:
                interlock: { line: \(Self.interlockLine), bias: pull-down }
            sensor: \(sensor)
            presets: { channels: both, intensity_pct: 100, duration_s: 60 }
            limits: { cooldown_s: 1 }
            storage: { path: \(self.directory.file("ledger.sqlite")) }
            \(rateLimited ? "" : "commands: { rate_per_s: 1000, burst: 1000 }")
            \(extraYAML)
            """
        self.configPath = try self.directory.write("gateway.yaml", yaml)
        var extra = extra
        if let commandKey {
            // `commands.signing.key_file`: a private file, as the daemon demands of a secret.
            let hex = commandKey.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            let keyFile = try self.directory.write("command.key", hex + "\n", mode: 0o600)
            extra.append("commands.signing.key_file=" + keyFile)
        }
        self.commandKey = commandKey.map { CommandSignature(key: $0) }
        self.overrides = extra
        if !brokerUpAtStart { await self.broker.stop() }
        self.client = try TestClient(
            port: self.broker.port, subscriptions: ["rlt/\(deviceID)/#"], configure: configureClient)
        self.environment = environment
        self.gateway = try GatewayProcess(configPath: self.configPath, overrides: extra, environment: environment)
        guard brokerUpAtStart else { return }
        do {
            try await self.becomeReady()
        } catch {
            await self.shutdown()
            throw error
        }
    }

    /// Waits until client and daemon are connected, the boot `state` is consumed and the daemon
    /// reports a temperature.
    private func becomeReady() async throws {
        guard await self.client.waitForConnection() else {
            let statistics = self.client.client.statistics
            throw HarnessError(
                "test client never connected (\(statistics.failedConnects) failed connects, last error: "
                    + "\(statistics.lastError ?? "none"); broker running: \(self.broker.isRunning)); client log:\n"
                    + "\(self.client.logs.lines.suffix(10).joined(separator: "\n"))\nbroker log:\n\(self.broker.log.suffix(1500))"
            )
        }
        guard try await self.waitForOnline() else {
            throw HarnessError("gateway never published status online; log:\n\(self.gateway.log)")
        }
        // Consume the boot `state` (published right after the birth), so a test waiting for a state
        // only ever sees states caused by what it did.
        guard try await self.waitForState(where: { _ in true }) != nil else {
            throw HarnessError("gateway never published its state after connecting; log:\n\(self.gateway.log)")
        }
        // `online` can come before the first sensor sample on a loaded machine, and a start needs a
        // valid temperature (`E_STATE` otherwise): ready means the daemon reports one.
        guard try await self.waitUntilReady() else {
            throw HarnessError("gateway never reported a panel temperature; log:\n\(self.gateway.log)")
        }
    }

    /// Waits until the daemon's snapshot carries a temperature (its sensor has delivered a sample).
    func waitUntilReady(timeout: Duration = .seconds(30)) async throws -> Bool {
        do {
            try await self.waitForSnapshot("a panel temperature", timeout: timeout) { $0.temperatureC != nil }
            return true
        } catch is HarnessError {
            return false
        }
    }

    /// Waits for a `status` saying online (consumes it); gives up early when the daemon exits.
    func waitForOnline(timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.gateway.isRunning, ContinuousClock.now < deadline {
            if try await self.waitFor(StatusDocument.self, on: .status, timeout: .milliseconds(200), where: \.isOnline)
                != nil
            {
                return true
            }
        }
        return false
    }

    /// Waits for a document on `<base>/<topic>` that satisfies `predicate` (consumes it, and with
    /// `consumingEarlier` the ones before): ``TestClient/waitForDocument(_:topic:timeout:consumingEarlier:where:)``.
    func waitFor<Document: ContractDocument>(
        _ type: Document.Type, on topic: Topics.PanelTopic, timeout: Duration = .seconds(30),
        consumingEarlier: Bool = false, where predicate: @Sendable (Document) -> Bool = { _ in true }
    ) async throws -> Document? {
        try await self.client.waitForDocument(
            type, topic: "\(self.base)/\(topic.rawValue)", timeout: timeout, consumingEarlier: consumingEarlier,
            where: predicate)
    }

    /// Sends `request` and returns its response (matched by id).
    func command(_ request: CommandRequest, topic: String? = nil, retain: Bool = false) async throws
        -> ResponseDocument
    {
        try await self.command(request.json.text, id: request.id, topic: topic, retain: retain)
    }

    /// Sends `json` as it is, for bytes a test writes on purpose (malformed, stale, hostile), and
    /// returns the response with `id`.
    func command(
        _ json: String, id: String, topic: String? = nil, retain: Bool = false
    ) async throws -> ResponseDocument {
        self.client.publish(topic: topic ?? "\(self.base)/cmd", text: json, retain: retain)
        return try await self.response(id: id)
    }

    /// Sends a `get` and returns its state snapshot once answered.
    ///
    /// A barrier: one client's messages on one topic reach the daemon in order and it handles them in
    /// order, so when the answer arrives every command this client sent before has been handled (its
    /// lines driven, its events published). Tests await this instead of sleeping "long enough".
    @discardableResult
    func barrier() async throws -> StateDocument {
        let id = "barrier-\(Self.barrierCount.withLock { count in count += 1; return count })"
        let answer =
            if let key = self.commandKey {
                try await self.command(self.signed(key, id: id, command: "get"), id: id)
            } else {
                try await self.command(CommandRequest(id: id, command: "get"))
            }
        guard let data = answer.data else { throw HarnessError("get without data: \(answer)") }
        return data
    }
    private static let barrierCount = Mutex(0)

    /// Waits until the daemon's own snapshot reports `celsius` (± 0.05) as the panel temperature: the
    /// played sensor file has been read and the reading has reached the core.
    func waitForTemperature(_ celsius: Double, timeout: Duration = .seconds(30)) async throws {
        try await self.waitForSnapshot("\(celsius) °C", timeout: timeout) {
            $0.temperatureC.map { abs($0 - celsius) < 0.05 } ?? false
        }
    }

    /// Waits until the running session's `elapsed_s`, as the daemon reports it, reaches `seconds`.
    func waitForElapsed(_ seconds: Double, timeout: Duration = .seconds(60)) async throws {
        try await self.waitForSnapshot("elapsed_s ≥ \(seconds)", timeout: timeout) { $0.elapsedSeconds >= seconds }
    }

    /// Asks for the daemon's snapshot (``barrier()``) until it satisfies `predicate`, and returns it.
    ///
    /// - Throws: ``HarnessError`` naming `what` when it never does within `timeout`;
    ///   ``ContractViolation`` at once when an answer is outside the contract.
    @discardableResult
    func waitForSnapshot(
        _ what: String, timeout: Duration, where predicate: (StateDocument) -> Bool
    ) async throws -> StateDocument {
        var seen: StateDocument?
        let reported = try await eventually(timeout: timeout, every: .milliseconds(50)) {
            do {
                seen = try await self.barrier()
            } catch is HarnessError {
                seen = nil  // not answered (yet): ask again
            }
            return seen.map(predicate) ?? false
        }
        guard reported, let seen else {
            throw HarnessError("the daemon never reported \(what); log:\n\(self.gateway.log)")
        }
        return seen
    }

    /// `command` signed with `key` for this panel's `cmd` topic (or `topic`), `ts` now, as the CLI sends it.
    func signed(
        _ key: CommandSignature, id: String, command: String, args: JSONValue? = nil, topic: String? = nil,
        ttlMs: Int64 = 10_000
    ) -> String {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let payload = key.signedPayload(
            topic: topic ?? "\(self.base)/cmd", id: id, command: command, args: args, ts: now, ttlMs: ttlMs)
        return String(decoding: payload, as: UTF8.self)
    }

    /// Waits for the response with `id` on `<base>/res`.
    func response(id: String, timeout: Duration = .seconds(30)) async throws -> ResponseDocument {
        guard
            let response = try await self.waitFor(
                ResponseDocument.self, on: .response, timeout: timeout, where: { $0.id == id })
        else {
            throw HarnessError("no response to \(id); gateway log:\n\(self.gateway.log)")
        }
        return response
    }

    /// Waits for a retained/heartbeat `state` in `expected`.
    func waitForState(_ expected: SessionState, timeout: Duration = .seconds(30)) async throws -> StateDocument? {
        try await self.waitForState(timeout: timeout) { $0.state == expected }
    }

    /// Waits for a `state` that satisfies `predicate` (consumes the ones before).
    func waitForState(
        timeout: Duration = .seconds(30), where predicate: @Sendable (StateDocument) -> Bool
    ) async throws -> StateDocument? {
        try await self.waitFor(
            StateDocument.self, on: .state, timeout: timeout, consumingEarlier: true, where: predicate)
    }

    /// Waits for an `event` of `kind` (and matching `predicate`); consumes it.
    func waitForEvent(
        _ kind: EventDocument.Kind, timeout: Duration = .seconds(30),
        where predicate: @Sendable (EventDocument) -> Bool = { _ in true }
    ) async throws -> EventDocument? {
        try await self.waitFor(EventDocument.self, on: .event, timeout: timeout) { $0.kind == kind && predicate($0) }
    }

    /// The newest `state` received and not consumed yet, without consuming it.
    var latestState: StateDocument? {
        get throws(ContractViolation) {
            try self.client.messages(topic: "\(self.base)/state").last.map { message throws(ContractViolation) in
                try StateDocument(message)
            }
        }
    }

    /// Every `event` received and not consumed yet, oldest first, without consuming them.
    func events() throws -> [EventDocument] {
        try self.client.messages(topic: "\(self.base)/event").map { try EventDocument($0) }
    }

    /// Whether red, nir and master all read `level` (waits up to `timeout`).
    func linesRead(_ level: Int, timeout: Duration = .seconds(30)) async -> Bool {
        for line in [Self.redLine, Self.nirLine, Self.masterLine] {
            guard await self.chip.waitForValue(line: line, level, timeout: timeout) else { return false }
        }
        return true
    }

    /// Plays a panel temperature for `sensor.type: file` (millidegrees, as sysfs writes them).
    func writeTemperature(milliC: Int) throws {
        try "\(milliC)\n".write(toFile: self.sensorFile, atomically: true, encoding: .utf8)
    }

    /// Starts a new daemon process with the same config and overrides (after a crash or stop).
    func restartGateway() async throws {
        await self.gateway.terminate()
        self.gateway = try GatewayProcess(
            configPath: self.configPath, overrides: self.overrides, environment: self.environment)
    }

    /// Runs `body` with a fresh harness and always tears it down (processes, broker, files) after.
    ///
    /// Holds one permit of the shared ``ProcessBudget`` throughout, so only a few daemons run at once.
    static func with(
        extraYAML: String = "", overrides: [String] = [], brokerUpAtStart: Bool = true, fileSensor: Bool = false,
        initialTemperatureMilliC: Int = 30000, environment: [String: String] = [:], rateLimited: Bool = false,
        commandKey: [UInt8]? = nil, _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        try await ProcessBudget.shared.withPermits(1) {
            let harness = try await GatewayHarness(
                extraYAML: extraYAML, overrides: overrides, brokerUpAtStart: brokerUpAtStart, fileSensor: fileSensor,
                environment: environment, initialTemperatureMilliC: initialTemperatureMilliC,
                rateLimited: rateLimited, commandKey: commandKey)
            do {
                try await body(harness)
            } catch {
                await harness.shutdown()
                throw error
            }
            await harness.shutdown()
        }
    }

    func shutdown() async {
        await self.gateway.terminate()
        await self.client.stop()
        if self.ownsBroker { await self.broker.stop() }
        self.directory.remove()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
