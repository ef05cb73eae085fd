import ArgumentParser
import Foundation
import Gateway
import GatewayCommandLine
import Logging

/// `rlt-gateway doctor`: checks an installed panel's configuration and everything it names.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the config, password, broker, TLS files, GPIO lines, sensor, ledger and clock.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try self.options.load()
        print("ok   config: \(self.options.path ?? "built-in defaults") is valid")
        var logger = Logger(label: "rlt-gateway doctor")
        logger.logLevel = .critical
        let findings = await Doctor.examine(
            configuration, environment: ProcessInfo.processInfo.environment, logger: logger)
        for finding in findings { print(finding) }
        let failed = findings.filter { $0.verdict == .failed }.count
        if failed > 0 {
            printError("\(failed) check\(failed == 1 ? "" : "s") failed")
            throw ExitCode.failure
        }
    }
}
