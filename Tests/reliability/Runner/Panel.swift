import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import TestKit
import TestSupport

/// One panel as a user has it: a real mosquitto, the built daemon in simulation (simulated chip,
/// `sensor.type: file`), and an independent MQTT client process-side observer.
///
/// Every scenario repetition builds a fresh panel and tears it down, so one failure cannot leak
/// into the next repetition.
final class Panel {
    static let deviceID = "rel-panel"
    static let red = 17
    static let nir = 27
    static let master = 22
    static let interlock = 23
    /// Both channels at 100 %: 50 + 40 mW/cm² = 0.09 J/cm² per emitting second.
    static let dosePerSecond = 0.09

    let broker: MosquittoBroker
    let directory: TemporaryDirectory
    let chip: SimulatedChipDirectory
    let client: TestClient
    var gateway: GatewayProcess?
    let configPath: String
    let temperatureFile: String
    var storagePath: String
    var base: String { "rlt/\(Self.deviceID)" }
    private var nextID = 0

    /// - Parameters:
    ///   - extraYAML: appended to the generated config (later keys win over earlier ones).
    ///   - brokerOptions: users, ACL, TLS or extra lines for the broker.
    ///   - clientSetup: changes to the observer client's configuration (credentials, TLS).
    init(
        extraYAML: String = "", storagePath: String? = nil, brokerOptions: MosquittoBroker.Options = .init(),
        clientSetup: (inout MQTTClientConfiguration) -> Void = { _ in }
    ) async throws {
        self.broker = try await MosquittoBroker(options: brokerOptions)
        self.directory = try TemporaryDirectory(prefix: "rlt-rel")
        self.chip = SimulatedChipDirectory(path: self.directory.file("gpio"))
        self.temperatureFile = self.directory.file("temp")
        self.storagePath = storagePath ?? self.directory.file("ledger.sqlite")
        try "30000\n".write(toFile: self.temperatureFile, atomically: true, encoding: .utf8)
        // Fail-safe wiring (a normally-closed contact to 3.3 V): an unconnected line reads open, so the
        // simulated contact is closed before the first start; scenarios pull it down to open it.
        try self.chip.pull(line: Self.interlock, up: true)
        let yaml = """
            device: { id: \(Self.deviceID), name: "Reliability panel" }
            mqtt: { url: "mqtt://127.0.0.1:\(self.broker.port)", keepalive_s: 5 }
            gpio:
              backend: simulated
              sim_dir: \(self.chip.path)
              outputs:
                red: { line: \(Self.red) }
                nir: { line: \(Self.nir) }
                master: { line: \(Self.master) }
              inputs:
                interlock: { line: \(Self.interlock), bias: pull-down }
            sensor: { type: file, path: \(self.temperatureFile), interval_ms: 100 }
            presets: { channels: both, intensity_pct: 100, duration_s: 60 }
            limits: { cooldown_s: 1, max_daily_sessions: 10, max_daily_dose_j_cm2: 400, max_session_dose_j_cm2: 200 }
            storage: { path: \(self.storagePath) }
            telemetry: { running_interval_s: 1, idle_interval_s: 5 }
            \(extraYAML)
            """
        self.configPath = try self.directory.write("gateway.yaml", yaml)
        self.client = try TestClient(
            port: self.broker.port, subscriptions: ["rlt/\(Self.deviceID)/#"], configure: clientSetup)
        guard await self.client.waitForConnection() else { throw Failure("observer client never connected") }
    }

    /// Starts the daemon and waits for its retained `status` online.
    func startGateway(overrides: [String] = [], environment: [String: String] = [:]) async throws {
        self.client.clearMessages()
        let gateway = try GatewayProcess(configPath: self.configPath, overrides: overrides, environment: environment)
        self.gateway = gateway
        guard await self.waitForOnline() else {
            throw Failure("gateway never published status online; log tail:\n\(self.logTail)")
        }
        // Online comes before the first sensor sample on a loaded machine; a start needs a valid
        // temperature (E_STATE otherwise), so wait until the daemon reports one.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if gateway.isRunning == false { break }
            if try await self.snapshot()?.temperatureC != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("gateway never reported a panel temperature; log tail:\n\(self.logTail)")
    }

    /// Waits for a `status` message saying online (consumes it).
    func waitForOnline(timeout: Duration = .seconds(60)) async -> Bool {
        await self.client.waitForOnline(base: self.base, timeout: timeout) { self.gateway?.isRunning ?? true }
    }

    var logTail: String {
        String((self.gateway?.log ?? "").suffix(1500))
    }

    /// Sends a command (QoS 1) with a fresh id and returns its response; `nil` when none comes in time.
    ///
    /// - Throws: ``Failure`` when the response is outside the contract.
    func command(
        _ cmd: String, arguments: JSONValue? = nil, timeout: Duration = .seconds(30)
    ) async throws(Failure) -> ResponseDocument? {
        self.nextID += 1
        let request = CommandRequest(id: "rel-\(self.nextID)", command: cmd, arguments: arguments)
        self.client.publish(topic: "\(self.base)/cmd", text: request.json.text)
        // Picked by its id's bytes, then read strictly: after a flood the inbox holds tens of thousands
        // of answers, and decoding every one on every poll would take the CPU the daemon needs.
        let marker = #""id":"\#(request.id)""#
        guard
            let message = await self.client.waitForMessage(
                topic: "\(self.base)/res", timeout: timeout,
                where: {
                    $0.payloadText.contains(marker)
                })
        else { return nil }
        return try Self.read(message, ResponseDocument.init(json:))
    }

    /// The state snapshot from a `get` response.
    func snapshot(timeout: Duration = .seconds(30)) async throws(Failure) -> StateDocument? {
        try await self.command("get", timeout: timeout)?.data
    }

    func start(duration: Double) async throws(Failure) -> ResponseDocument? {
        try await self.command("start", arguments: .object([("duration_s", .number(duration))]))
    }

    /// Reads one of the daemon's messages with its document's strict decoder.
    ///
    /// - Throws: ``Failure`` with the ``ContractError`` text when the daemon wrote something outside
    ///   the contract: a failed repetition, never a message that merely did not match.
    static func read<Document>(
        _ message: MQTTMessage, _ decode: (JSONValue) throws(ContractError) -> Document
    ) throws(Failure) -> Document {
        do {
            return try decode(try JSONValue.parse(message.payload))
        } catch {
            throw Failure("\(message.topic) outside the contract: \(error) in \(message.payloadText.prefix(300))")
        }
    }

    /// Whether a `status` saying online has arrived (not consumed).
    func hasSeenOnline() throws(Failure) -> Bool {
        for message in self.client.messages(topic: "\(self.base)/status") {
            if try Self.read(message, StatusDocument.init(json:)).isOnline { return true }
        }
        return false
    }

    /// Whether any LED line (red, nir, master) is physically on.
    var anyLineOn: Bool {
        [Self.red, Self.nir, Self.master].contains { self.chip.value(line: $0) == 1 }
    }

    var linesOff: Bool {
        [Self.red, Self.nir, Self.master].allSatisfy { (self.chip.value(line: $0) ?? 0) == 0 }
    }

    /// Polls until every LED line is off; returns the seconds it took, or nil after `timeout`.
    func secondsUntilLinesOff(timeout: Double) async -> Double? {
        let start = ContinuousClock.now
        while (ContinuousClock.now - start) < .milliseconds(Int(timeout * 1000)) {
            if self.linesOff { return Self.seconds(ContinuousClock.now - start) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return self.linesOff ? timeout : nil
    }

    func setTemperature(_ text: String) {
        try? text.write(toFile: self.temperatureFile, atomically: true, encoding: .utf8)
    }

    func setInterlock(closed: Bool) {
        try? self.chip.pull(line: Self.interlock, up: closed)
    }

    /// Resident set size of the daemon in KiB (from /proc), nil when it is gone.
    var rssKiB: Int? {
        guard let pid = self.gateway?.pid,
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    func shutdown() async {
        await self.gateway?.terminate()
        await self.client.stop()
        await self.broker.stop()
        self.directory.remove()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Why a repetition did not survive; printed under the scenario.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Throws ``Failure`` with `message` unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw Failure(message()) }
}

func sleep(_ seconds: Double) async {
    try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
}

/// Runs a shell command and returns its exit status and combined output.
func shell(_ command: String) async -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
