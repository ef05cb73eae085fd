import ArgumentParser
import Gateway
import GatewayCommandLine
import Logging

/// `rlt-gateway outputs-off`: every output line OFF and released (the unit's `ExecStopPost=`).
struct OutputsOffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outputs-off",
        abstract: "Drive every configured output line OFF and release it (run by systemd after the daemon exits).")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let configuration = try self.options.load()
        let failures = OutputsOff.drive(configuration, logger: Logger(label: "rlt-gateway outputs-off"))
        guard failures.isEmpty else {
            for failure in failures { printError("outputs-off: \(failure)") }
            throw ExitCode.failure
        }
        print("outputs-off: every output is OFF and released")
    }
}
