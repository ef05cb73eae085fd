import Foundation
import GPIO
import GatewayConfig
import Logging
import MQTT
import Synchronization

/// `rlt-gateway doctor`: everything an installed panel needs, checked one by one the way the daemon
/// will use it, each with what to do when it is not right. Read-only for everything the daemon owns:
/// it never creates or migrates the ledger and never drives a line a running daemon holds.
public enum Doctor {
    public struct Finding: Sendable, CustomStringConvertible {
        public enum Verdict: String, Sendable {
            case ok = "ok  "
            case warning = "warn"
            case failed = "FAIL"
        }

        public var verdict: Verdict
        public var subject: String
        public var detail: String

        public var description: String { "\(self.verdict.rawValue) \(self.subject): \(self.detail)" }
    }

    /// Every check, in the order the daemon meets them at start.
    public static func examine(
        _ configuration: GatewayConfiguration, environment: [String: String], logger: Logger
    ) async -> [Finding] {
        var findings = [Self.password(configuration, environment: environment)]
        findings.append(Self.commandKey(configuration, environment: environment))
        findings += Self.tlsFiles(configuration)
        findings.append(await Self.broker(configuration, logger: logger))
        findings.append(Self.gpio(configuration, logger: logger))
        findings.append(Self.sensor(configuration))
        findings.append(Self.ledger(configuration))
        findings.append(Self.clock())
        return findings
    }

    static func password(_ configuration: GatewayConfiguration, environment: [String: String]) -> Finding {
        do {
            let password = try configuration.resolvedPassword(environment: environment)
            switch (configuration.mqtt.username, password) {
            case (nil, _): return Finding(verdict: .ok, subject: "password", detail: "none needed (anonymous broker)")
            case (let user?, nil):
                return Finding(verdict: .warning, subject: "password", detail: "user \(user) connects without a password")
            case (let user?, _?): return Finding(verdict: .ok, subject: "password", detail: "found for user \(user)")
            }
        } catch let error as ConfigError {
            return Finding(verdict: .failed, subject: "password", detail: error.problems.map(\.description).joined(separator: "; "))
        } catch {
            return Finding(verdict: .failed, subject: "password", detail: "\(error)")
        }
    }

    /// `commands.signing`: the key read the way the daemon reads it, and whether commands must be signed.
    static func commandKey(_ configuration: GatewayConfiguration, environment: [String: String]) -> Finding {
        do {
            let signing = try configuration.resolvedSigning(environment: environment)
            switch (signing.key, signing.rule.required) {
            case (nil, _): return Finding(verdict: .ok, subject: "command key", detail: "none; commands are not signed")
            case (_?, true):
                return Finding(
                    verdict: .ok, subject: "command key",
                    detail: "found; signed commands required (stop excepted), replay window "
                        + "\(Int(signing.rule.replayWindowSeconds)) s")
            case (_?, false):
                return Finding(
                    verdict: .warning, subject: "command key",
                    detail: "found, but commands.signing.required is false: unsigned commands still act")
            }
        } catch let error as ConfigError {
            return Finding(
                verdict: .failed, subject: "command key",
                detail: error.problems.map(\.description).joined(separator: "; "))
        } catch {
            return Finding(verdict: .failed, subject: "command key", detail: "\(error)")
        }
    }

    static func tlsFiles(_ configuration: GatewayConfiguration) -> [Finding] {
        let files = [
            ("mqtt.ca_file", configuration.mqtt.caFile), ("mqtt.cert_file", configuration.mqtt.certFile),
            ("mqtt.key_file", configuration.mqtt.keyFile),
        ]
        return files.compactMap { key, path in
            guard let path else { return nil }
            return FileManager.default.isReadableFile(atPath: path)
                ? Finding(verdict: .ok, subject: key, detail: "\(path) readable")
                : Finding(verdict: .failed, subject: key, detail: "\(path) is missing or not readable by this user")
        }
    }

    /// Connects as the daemon would (same credentials and TLS), under a client id of its own so a
    /// running daemon keeps its connection.
    static func broker(_ configuration: GatewayConfiguration, logger: Logger) async -> Finding {
        let address = "\(configuration.mqtt.host):\(configuration.mqtt.port)"
        let outcome = Mutex<Bool?>(nil)
        let client: MQTTClient
        do {
            var connection = try configuration.mqttClientConfiguration(forClient: configuration.mqtt.clientID + "-doctor")
            connection.subscriptions = []
            client = try MQTTClient(configuration: connection, logger: logger) { event in
                if case .connected = event { outcome.withLock { $0 = true } }
            }
        } catch {
            return Finding(verdict: .failed, subject: "broker", detail: "\(address): \(error)")
        }
        client.start()
        let deadline = ContinuousClock.now + .seconds(10)
        while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let connected = outcome.withLock { $0 } == true
        let reason = client.statistics.lastError
        await client.stop()
        return connected
            ? Finding(verdict: .ok, subject: "broker", detail: "\(address) accepted the connection")
            : Finding(
                verdict: .failed, subject: "broker",
                detail: "\(address) did not accept a connection within 10 s (\(reason ?? "no answer"))")
    }

    /// Opens every configured line as the daemon does. Outputs are requested at their OFF level, so
    /// on an idle panel this changes nothing; lines a running daemon holds are reported busy, untouched.
    static func gpio(_ configuration: GatewayConfiguration, logger: Logger) -> Finding {
        if case .simulated(let directory) = configuration.gpioBackend,
            !FileManager.default.fileExists(atPath: directory)
        {
            return Finding(verdict: .warning, subject: "gpio", detail: "simulated chip \(directory) not created yet")
        }
        let count = configuration.gpioOutputs.count + configuration.gpioInputs.count
        do {
            let controller = try GPIOController.open(
                backend: configuration.gpioBackend, outputs: configuration.gpioOutputs,
                inputs: configuration.gpioInputs, consumer: "rlt-gateway-doctor", logger: logger)
            controller.close()
            return Finding(verdict: .ok, subject: "gpio", detail: "\(controller.chipName): all \(count) lines can be requested")
        } catch where error.code == .lineBusy {
            return Finding(verdict: .warning, subject: "gpio", detail: "\(error.message) (the daemon running holds its lines)")
        } catch {
            return Finding(verdict: .failed, subject: "gpio", detail: error.message)
        }
    }

    static func sensor(_ configuration: GatewayConfiguration) -> Finding {
        switch configuration.makeSensor().read() {
        case .celsius(let value):
            return Finding(verdict: .ok, subject: "sensor", detail: String(format: "%.1f °C", value))
        case .invalid(let reason):
            return Finding(verdict: .failed, subject: "sensor", detail: reason)
        }
    }

    /// Whether the daemon can write its ledger there, without creating or opening it.
    static func ledger(_ configuration: GatewayConfiguration) -> Finding {
        let path = configuration.storage.path
        let directory = (path as NSString).deletingLastPathComponent
        if FileManager.default.fileExists(atPath: path) {
            return FileManager.default.isWritableFile(atPath: path)
                ? Finding(verdict: .ok, subject: "ledger", detail: "\(path) writable")
                : Finding(verdict: .failed, subject: "ledger", detail: "\(path) is not writable by this user")
        }
        return FileManager.default.isWritableFile(atPath: directory.isEmpty ? "." : directory)
            ? Finding(verdict: .ok, subject: "ledger", detail: "\(path) will be created at first start")
            : Finding(verdict: .failed, subject: "ledger", detail: "\(directory) is missing or not writable by this user")
    }

    static func clock() -> Finding {
        WallClockTrust.isTrusted
            ? Finding(verdict: .ok, subject: "clock", detail: "synchronised")
            : Finding(
                verdict: .warning, subject: "clock",
                detail: "not synchronised (no NTP sync, no RTC): ledger times stay provisional and nothing is purged")
    }
}
