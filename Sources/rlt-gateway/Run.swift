import ArgumentParser
import Foundation
import Gateway
import GatewayCommandLine
import GatewayConfig
import Logging
import ServiceLifecycle

/// `rlt-gateway run`: the daemon.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway daemon until SIGTERM/SIGINT.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let (configuration, started) = try self.options.loadRecording()
        // What outputs-off drives off after this process is gone, whatever the file says by then.
        if let path = StartedConfiguration.path(environment: environment) {
            do { try started.write(to: path) } catch { printError("rlt-gateway: could not record \(path): \(error)") }
        }
        // The password and the command key are part of the configuration: a missing, empty or public
        // file is a configuration problem (exit 2, no restart loop), found before any line is touched,
        // and these values, read once, are the ones the service uses.
        let secrets: GatewaySecrets
        do {
            secrets = try configuration.resolvedSecrets(environment: environment)
        } catch let error as ConfigError {
            ConfigOptions.report(error.problems, file: self.options.path ?? "defaults")
            throw ExitCode(ConfigOptions.configurationProblemExitCode)
        }
        let underJournal = JournalLogHandler.isJournal(environment)
        LoggingSystem.bootstrap { label in
            if underJournal {
                var handler = JournalLogHandler(label: label)
                handler.logLevel = configuration.logLevel
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        let logger = Logger(label: "rlt-gateway")
        let notifier = SystemdNotifier()
        let service = GatewayService(
            configuration: configuration, secrets: secrets, logger: logger,
            onReady: { notifier.notify("READY=1") },
            onHealthy: { notifier.watchdog() })
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            logger.critical("gateway stopped with an error", metadata: ["error": "\(error)"])
            throw ExitCode.failure
        }
        notifier.notify("STOPPING=1")
    }
}

/// `rlt-gateway check-config FILE`: lists every problem at once, with its key path.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Validate a config file and list every problem.")

    @Argument(help: "YAML config file.") var file: String
    @Option(name: .customLong("set"), help: "Override one key (repeatable).") var overrides: [String] = []

    func run() throws {
        let problems = ConfigLoader.check(path: self.file, overrides: self.overrides)
        if problems.isEmpty {
            let warnings = (try? ConfigLoader.load(path: self.file, overrides: self.overrides))?.warnings ?? []
            for warning in warnings { print("\(self.file): warning: \(warning)") }
            print("\(self.file): OK")
            return
        }
        ConfigOptions.report(problems, file: self.file)
        throw ExitCode(ConfigOptions.configurationProblemExitCode)
    }
}
