import Foundation
import MQTT
import TestSupport
import Testing

/// One broker, one daemon in simulation mode and one independent MQTT client, as a user has them.
final class GatewayHarness {
    static let deviceID = "e2e-panel"
    static let redLine = 17
    static let nirLine = 27
    static let masterLine = 22
    static let interlockLine = 23

    let broker: MosquittoBroker
    let directory: TemporaryDirectory
    let chip: SimulatedChipDirectory
    let client: TestClient
    var gateway: GatewayProcess
    let configPath: String
    let overrides: [String]

    var base: String { "rlt/\(Self.deviceID)" }

    /// Starts broker, daemon and client, and waits for the retained `status` online.
    init(
        extraYAML: String = "", overrides extra: [String] = [], environment: [String: String] = [:]
    ) async throws {
        self.broker = try await MosquittoBroker()
        self.directory = try TemporaryDirectory(prefix: "rlt-e2e")
        self.chip = SimulatedChipDirectory(path: self.directory.file("gpio"))
        let yaml = """
            device: { id: \(Self.deviceID), name: "E2E panel", model: "RLT-660/850" }
            mqtt: { url: "mqtt://127.0.0.1:\(self.broker.port)", keepalive_s: 5 }
            gpio:
              backend: simulated
              sim_dir: \(self.chip.path)
              outputs:
                red: { line: \(Self.redLine) }
                nir: { line: \(Self.nirLine) }
                master: { line: \(Self.masterLine) }
              inputs:
                interlock: { line: \(Self.interlockLine), bias: pull-up }
            sensor: { type: simulated, interval_ms: 100 }
            presets: { channels: both, intensity_pct: 100, duration_s: 60 }
            limits: { cooldown_s: 1 }
            storage: { path: \(self.directory.file("ledger.sqlite")) }
            \(extraYAML)
            """
        self.configPath = try self.directory.write("gateway.yaml", yaml)
        self.overrides = extra
        self.client = try TestClient(port: self.broker.port, subscriptions: ["rlt/\(Self.deviceID)/#"])
        self.gateway = try GatewayProcess(configPath: self.configPath, overrides: extra, environment: environment)
        guard await self.client.waitForConnection() else { throw HarnessError("test client never connected") }
        var online = false
        let deadline = ContinuousClock.now + .seconds(30)
        while !online, self.gateway.isRunning, ContinuousClock.now < deadline {
            online =
                await self.client.waitForMessage(topic: "\(self.base)/status", timeout: .milliseconds(200), where: {
                    $0.payloadText.contains(#""online""#)
                }) != nil
        }
        guard online else {
            await self.shutdown()
            throw HarnessError("gateway never published status online; log:\n\(self.gateway.log)")
        }
    }

    /// Sends a command and returns its response (matched by id).
    func command(_ json: String, id: String, retain: Bool = false) async throws -> [String: Any] {
        self.client.publish(topic: "\(self.base)/cmd", text: json, retain: retain)
        guard
            let message = await self.client.waitForMessage(topic: "\(self.base)/res", where: {
                $0.payloadText.contains(#""id":"\#(id)""#)
            })
        else {
            throw HarnessError("no response to \(id); gateway log:\n\(self.gateway.log)")
        }
        return try Self.object(message)
    }

    /// Waits for a retained/heartbeat `state` whose `state` field is `expected`.
    func waitForState(_ expected: String, timeout: Duration = .seconds(10)) async -> [String: Any]? {
        guard
            let message = await self.client.waitForMessage(topic: "\(self.base)/state", timeout: timeout, where: {
                $0.payloadText.contains(#""state":"\#(expected)""#)
            })
        else { return nil }
        return try? Self.object(message)
    }

    static func object(_ message: MQTTMessage) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any] else {
            throw HarnessError("not a JSON object: \(message.payloadText)")
        }
        return object
    }

    /// Runs `body` with a fresh harness and always tears it down (processes, broker, files) after.
    static func with(
        extraYAML: String = "", overrides: [String] = [], environment: [String: String] = [:],
        _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        let harness = try await GatewayHarness(extraYAML: extraYAML, overrides: overrides, environment: environment)
        do {
            try await body(harness)
        } catch {
            await harness.shutdown()
            throw error
        }
        await harness.shutdown()
    }

    func shutdown() async {
        await self.gateway.terminate()
        await self.client.stop()
        await self.broker.stop()
        self.directory.remove()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
