import ArgumentParser
import Foundation
import Gateway
import GatewayCommandLine
import GatewayConfig
import GatewayProtocol
import Logging

/// `rlt-gateway session start|stop|pause|resume|status|ack|identify`: a terminal client for one panel.
struct Session: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start, stop, pause or watch a session on a panel over MQTT.",
        subcommands: [
            Start.self, Stop.self, Pause.self, Resume.self, Status.self, Acknowledge.self, Identify.self,
        ])

    struct Connection: ParsableArguments {
        @OptionGroup var options: ConfigOptions
        @Option(help: "Broker URL (overrides mqtt.url).") var url: String?
        @Option(help: "Panel device id (overrides device.id).") var device: String?
        @Option(help: "Seconds to wait for the panel's response.") var timeout: Double = 10
        @Option(
            name: .customLong("key-file"),
            help: "Sign commands with this key file (overrides commands.signing.key_file; hex or base64, private).")
        var keyFile: String?

        /// Sends `name`, prints the answer (and follows the session with `watch`) and exits with the
        /// console's status when it is not 0.
        func send(_ name: String, arguments: JSONValue? = nil, watch: Bool = false, json: Bool = false) async throws {
            let client = try self.client()
            let code = await SessionConsole(client: client, timeout: self.timeout, json: json)
                .command(name, arguments: arguments, watch: watch)
            await client.stop()
            if code != 0 { throw ExitCode(code) }
        }

        func client() throws -> GatewayClient {
            var options = self.options
            if let url = self.url { options.overrides.append("mqtt.url=\(url)") }
            if let device = self.device { options.overrides.append("device.id=\(device)") }
            if let keyFile = self.keyFile { options.overrides.append("commands.signing.key_file=\(keyFile)") }
            let configuration = try options.load()
            var logger = Logger(label: "rlt-gateway.client")
            logger.logLevel = .error
            // The panel's own key, read as the daemon reads it (a key the config names but this user may not
            // read is an error, not a silently unsigned command the panel would refuse).
            let signing: ResolvedSigning
            do {
                signing = try configuration.resolvedSigning(environment: ProcessInfo.processInfo.environment)
            } catch let error as ConfigError {
                ConfigOptions.report(error.problems, file: self.options.path ?? "defaults")
                throw ExitCode(ConfigOptions.configurationProblemExitCode)
            }
            return try GatewayClient(
                connection: try configuration.mqttClientConfiguration(forClient: "rlt-cli-\(UInt16.random(in: 0...UInt16.max))"),
                topics: configuration.topics, logger: logger, commandKey: signing.key.map { CommandSignature(key: $0) })
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a session (missing values come from the panel's presets).")

        @OptionGroup var connection: Connection
        @Option(help: "Duration, e.g. 10m, 90s, 1m30s.") var duration: String?
        @Option(help: "red, nir or both.") var channels: String?
        @Option(help: "Intensity in percent (below 100 needs PWM).") var intensity: Double?
        @Option(help: "Dose target in J/cm².") var dose: Double?
        @Flag(help: "Follow the session with a live progress bar until it ends.") var watch = false

        func run() async throws {
            var arguments: [(String, JSONValue)] = []
            if let text = self.duration {
                guard let seconds = DurationText.seconds(text) else {
                    throw ValidationError("--duration \(text): use a number of seconds or forms like 10m, 90s, 1m30s")
                }
                arguments.append(("duration_s", .number(seconds)))
            }
            if let channels = self.channels { arguments.append(("channels", .string(channels))) }
            if let intensity = self.intensity { arguments.append(("intensity_pct", .number(intensity))) }
            if let dose = self.dose { arguments.append(("dose_j_cm2", .number(dose))) }
            try await self.connection.send("start", arguments: .object(arguments), watch: self.watch)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the running session (always accepted).")
        @OptionGroup var connection: Connection

        func run() async throws {
            try await self.connection.send("stop")
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause the running session (light off, time kept).")
        @OptionGroup var connection: Connection

        func run() async throws {
            try await self.connection.send("pause")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume the paused session.")
        @OptionGroup var connection: Connection
        @Flag(help: "Follow the session with a live progress bar until it ends.") var watch = false

        func run() async throws {
            try await self.connection.send("resume", watch: self.watch)
        }
    }

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ack", abstract: "Acknowledge a latched fault whose condition is gone (never starts light).")
        @OptionGroup var connection: Connection
        @Argument(help: "The fault code (F_OVERTEMP, F_SENSOR_STALE, …) or all.") var fault = "all"

        func run() async throws {
            try await self.connection.send("ack", arguments: .object([("fault", .string(self.fault))]))
        }
    }

    struct Identify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Blink the panel's indicator so it can be found.")
        @OptionGroup var connection: Connection

        func run() async throws {
            try await self.connection.send("identify")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the panel's state; --watch follows it.")
        @OptionGroup var connection: Connection
        @Flag(help: "Follow the running session with a live progress bar.") var watch = false
        @Flag(help: "Print the panel's state document (the contract's JSON) instead of a summary.") var json = false

        func validate() throws {
            if self.watch && self.json { throw ValidationError("--watch and --json: choose one") }
        }

        func run() async throws {
            try await self.connection.send("get", watch: self.watch, json: self.json)
        }
    }
}

/// Parses `10m`, `90s`, `1m30s`, `1h`, or plain seconds.
enum DurationText {
    static func seconds(_ text: String) -> Double? {
        if let plain = Double(text) { return plain > 0 ? plain : nil }
        var total = 0.0
        var number = ""
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            guard let value = Double(number) else { return nil }
            switch character {
            case "h": total += value * 3600
            case "m": total += value * 60
            case "s": total += value
            default: return nil
            }
            number = ""
        }
        return number.isEmpty && total > 0 ? total : nil
    }
}
