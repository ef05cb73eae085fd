import ArgumentParser
import Gateway
import GatewayCommandLine
import Foundation
import GatewayConfig
import Logging

/// `rlt-gateway outputs-off`: every output line OFF and released (the unit's `ExecStopPost=`).
struct OutputsOffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outputs-off",
        abstract: "Drive every configured output line OFF and release it (run by systemd after the daemon exits).")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let logger = Logger(label: "rlt-gateway outputs-off")
        let environment = ProcessInfo.processInfo.environment
        // The lines the daemon started with first: the file may have been edited or broken since
        // (StartedConfiguration). Then the file as it is, which also covers a daemon that never recorded.
        var wirings: [(name: String, configuration: GatewayConfiguration)] = []
        if let path = StartedConfiguration.path(environment: environment),
            let started = StartedConfiguration.read(from: path), let configuration = try? started.configuration()
        {
            wirings.append(("the configuration the daemon started with", configuration))
        }
        do {
            let file = try self.options.load()
            // Unchanged since the start (the usual case): one pass, not the same lines twice.
            if !wirings.contains(where: { OutputsOff.sameOutputs($0.configuration, file) }) {
                wirings.append(("the config file", file))
            }
        } catch {
            guard !wirings.isEmpty else { throw error }
            printError("outputs-off: the config file has problems; driving off the lines the daemon started with")
        }
        var failures: [String] = []
        for wiring in wirings {
            failures += OutputsOff.drive(wiring.configuration, logger: logger).map { "\(wiring.name): \($0)" }
        }
        guard failures.isEmpty else {
            for failure in failures { printError("outputs-off: \(failure)") }
            throw ExitCode.failure
        }
        print("outputs-off: every output is OFF and released")
    }
}
