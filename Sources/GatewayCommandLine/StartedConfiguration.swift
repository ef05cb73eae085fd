import ArgumentParser
import Foundation
import GatewayConfig

/// The configuration a running daemon started with, kept in its state directory so that
/// `outputs-off` (the unit's `ExecStopPost=`) drives off the lines the daemon actually held.
///
/// Without it, `outputs-off` reads the config file as it is *now*: a file edited while the daemon ran
/// may name other lines, and a file broken while it ran makes `outputs-off` exit 2 having driven
/// nothing, so a crash after such an edit would leave the light on until the board's dead-man drops
/// the relay (docs/DESIGN.md, "Dark when the daemon dies"). The record is the file's text and the
/// `--set` overrides, decoded by the same loader; it holds no secret (the YAML refuses them).
public struct StartedConfiguration: Codable, Sendable, Equatable {
    /// The config file's text when the daemon loaded it (`{}` for the built-in defaults).
    public var yaml: String
    /// Where it came from, for messages.
    public var source: String
    /// The `--set` overrides, in order.
    public var overrides: [String]

    public init(yaml: String, source: String, overrides: [String]) {
        self.yaml = yaml
        self.source = source
        self.overrides = overrides
    }

    /// The file name inside the state directory.
    public static let fileName = "started-config.json"

    /// `$STATE_DIRECTORY/started-config.json` (systemd's `StateDirectory=` sets the variable for the
    /// daemon and for `ExecStopPost=` alike); `nil` outside such a unit: nothing is recorded then.
    public static func path(environment: [String: String]) -> String? {
        guard let directories = environment["STATE_DIRECTORY"], !directories.isEmpty else { return nil }
        // systemd lists one path per `StateDirectory=` entry, separated by ':'; the unit has one.
        let first = directories.split(separator: ":").first.map(String.init) ?? directories
        return first + "/" + Self.fileName
    }

    /// The configuration this record decodes to, validated as at start.
    public func configuration() throws -> GatewayConfiguration {
        try ConfigLoader.parse(yaml: self.yaml, overrides: self.overrides, source: self.source)
    }

    /// Writes the record under `path` (a temporary file renamed over it, so a reader never sees half).
    public func write(to path: String) throws {
        let data = try JSONEncoder().encode(self)
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The record at `path`, or `nil` when there is none or it cannot be read.
    public static func read(from path: String) -> StartedConfiguration? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(StartedConfiguration.self, from: data)
    }
}

extension ConfigOptions {
    /// Loads and validates (``load()`` is this without the record), reading the file once, and also
    /// returns what was read, for ``StartedConfiguration``. On a problem, prints each one with its key
    /// path on standard error, as `check-config` does, and exits with ``configurationProblemExitCode``.
    public func loadRecording() throws -> (GatewayConfiguration, StartedConfiguration) {
        let path = self.path
        do {
            let yaml = try path.map { path throws(ConfigError) in try ConfigLoader.read(path: path) } ?? "{}"
            let record = StartedConfiguration(yaml: yaml, source: path ?? "defaults", overrides: self.overrides)
            return (try record.configuration(), record)
        } catch let error as ConfigError {
            Self.report(error.problems, file: path ?? "defaults")
            throw ExitCode(Self.configurationProblemExitCode)
        }
    }
}
