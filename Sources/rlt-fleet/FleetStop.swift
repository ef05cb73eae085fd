import ArgumentParser
import Fleet
import GatewayConfig
import GatewayProtocol
import Logging

/// `rlt-fleet stop --all | --group G`: the emergency stop for many panels, with every
/// panel's answer printed.
struct FleetStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop every session on all panels (--all) or on one group (--group G), and list the answers.",
        discussion: """
            Publishes {"cmd":"stop"} on <prefix>/_all/cmd or <prefix>/_group/<G>/cmd and prints each panel's \
            answer from its res topic. Exit status: 0 every answer ok (and, with --all, every online panel \
            answered), 1 a panel refused or an online panel stayed silent, 3 no answer at all.
            """)

    @OptionGroup var connection: FleetConnection
    @Flag(help: "Stop every panel under the prefix.") var all = false
    @Option(help: "Stop the panels of this group (device.groups in their config).") var group: String?
    @Option(help: "Seconds to wait for answers.") var timeout: Double = 5
    @Option(
        name: .customLong("key-file"),
        help: "Sign the stop with this command key (hex or base64, private), for fleets that sign every command.")
    var keyFile: String?

    func validate() throws {
        guard self.all != (self.group != nil) else {
            throw ValidationError("give exactly one of --all or --group G")
        }
        guard self.timeout > 0 else { throw ValidationError("--timeout must be above 0 seconds") }
    }

    func run() async throws {
        let (connection, topics, _) = try self.connection.load(clientPrefix: "rlt-fleet-stop")
        let target: FleetTarget
        do {
            target = try self.group.map { group throws(FleetError) in try FleetTarget.named(group: group) } ?? .all
        } catch {
            throw ValidationError(error.description)
        }
        var key: CommandSignature?
        if let path = self.keyFile {
            do {
                key = CommandSignature(key: try SigningSettings.readKey(path: path))
            } catch let error as ConfigError {
                throw ValidationError("--key-file: " + error.problems.map(\.message).joined(separator: "; "))
            }
        }
        var logger = Logger(label: "rlt-fleet")
        logger.logLevel = .critical
        let report = try await FleetCommander(connection: connection, topics: topics, logger: logger)
            .send("stop", to: target, timeout: .milliseconds(Int(self.timeout * 1000)), key: key)
        guard report.sent else {
            print("stop NOT sent: no connection to the broker within \(Self.seconds(self.timeout)) s")
            throw ExitCode(3)
        }
        print("stop sent to \(report.topic) (id \(report.commandID))")
        print(Self.pad("DEVICE", 22) + Self.pad("RESULT", 14) + Self.pad("STATE", 10) + "MESSAGE")
        for answer in report.answers {
            let result = answer.ok ? "ok" : "REFUSED " + (answer.code ?? "")
            print(
                Self.pad(answer.device, 22) + Self.pad(result, 14) + Self.pad(answer.state ?? "-", 10) + answer.message)
        }
        for device in report.silent {
            print(
                Self.pad(device, 22) + Self.pad("SILENT", 14) + Self.pad("-", 10)
                    + "online, but no answer within \(Self.seconds(self.timeout)) s")
        }
        let refused = report.answers.filter { !$0.ok }.count
        print(
            "\(report.answers.count) answered (\(report.answers.count - refused) ok, \(refused) refused)"
                + (target == .all ? ", \(report.silent.count) silent" : ""))
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
