import Foundation
import GatewayConfig
import TestKit
import Testing

/// `commands.signing`: the key comes from a private file or the systemd credential, never the YAML;
/// every problem names its key path; a key switches signing on unless `required: false` says otherwise.
@Suite("Command signing key")
struct SigningKeyTests {
    static let hexKey = String(repeating: "ab", count: 32)

    static func inDirectory(_ body: (TemporaryDirectory) throws -> Void) throws {
        let directory = try TemporaryDirectory(prefix: "rlt-signing")
        defer { directory.remove() }
        try body(directory)
    }

    static func problem(_ body: () throws -> Void) -> ConfigProblem? {
        do {
            try body()
            return nil
        } catch let error as ConfigError {
            return error.problems.first
        } catch {
            return ConfigProblem(keyPath: "unexpected", message: "\(error)")
        }
    }

    @Test func noKey_signingIsOff() throws {
        let signing = try ConfigLoader.default().resolvedSigning(environment: [:])
        #expect(signing.key == nil && !signing.rule.required && signing.rule.replayWindowSeconds == 30)
    }

    @Test(arguments: [Self.hexKey + "\n", Data(repeating: 0xab, count: 32).base64EncodedString() + "\n"])
    func keyFileInHexOrBase64_turnsSigningOn(contents: String) throws {
        try Self.inDirectory { dir in
            let file = try dir.write("command.key", contents)
            let config = try ConfigLoader.parse(yaml: "commands: {signing: {key_file: '\(file)', replay_window_s: 10}}")
            let signing = try config.resolvedSigning(environment: [:])
            #expect(signing.key == Array(repeating: 0xab, count: 32))
            #expect(signing.rule.required && signing.rule.replayWindowSeconds == 10)
            #expect(config.safety.signing.required)
        }
    }

    /// The daemon reads both secrets once, before any line is touched; the value it keeps says which
    /// secrets are there and never what they are, so no log line can carry one.
    @Test func secrets_readTogether_andTheirDescriptionHidesThem() throws {
        try Self.inDirectory { dir in
            let key = try dir.write("command.key", Self.hexKey)
            let password = try dir.write("mqtt.password", "hunter2-panel\n")
            let config = try ConfigLoader.parse(
                yaml: "mqtt: {username: rlt-panel, password_file: '\(password)'}\ncommands: {signing: {key_file: '\(key)'}}")
            let secrets = try config.resolvedSecrets(environment: [:])
            #expect(secrets.mqttPassword == "hunter2-panel")
            #expect(secrets.signing.key == Array(repeating: 0xab, count: 32) && secrets.signing.rule.required)
            let shown = "\(secrets)"
            #expect(shown == "GatewaySecrets(password: set, command key: set, signing required: true)")
            #expect(!shown.contains("hunter2") && !shown.contains("171"))
            #expect("\(secrets.signing)" == "ResolvedSigning(key: set, required: true, replay window: 30.0 s)")
        }
    }

    /// `required: false` with a key: clients may sign while a fleet migrates; nothing is insisted on.
    @Test func requiredFalse_keepsTheKeyButDoesNotInsist() throws {
        try Self.inDirectory { dir in
            let file = try dir.write("command.key", Self.hexKey)
            let config = try ConfigLoader.parse(yaml: "commands: {signing: {key_file: '\(file)', required: false}}")
            let signing = try config.resolvedSigning(environment: [:])
            #expect(signing.key != nil && !signing.rule.required)
        }
    }

    @Test func missingShortOpenOrGarbledKeyFile_namesTheKeyPath() throws {
        try Self.inDirectory { dir in
            let cases: [(file: String, expected: String)] = [
                (dir.file("absent"), "No such file"),
                (try dir.write("short", String(repeating: "ab", count: 31)), "31-byte key; at least 32"),
                (try dir.write("open", Self.hexKey, mode: 0o644), "accessible to every user"),
                (try dir.write("garbled", "not a key at all!"), "neither hex nor base64"),
                (try dir.write("empty", "\n"), "is empty"),
            ]
            for (file, expected) in cases {
                let config = try ConfigLoader.parse(yaml: "commands: {signing: {key_file: '\(file)'}}")
                let problem = Self.problem { _ = try config.resolvedSigning(environment: [:]) }
                #expect(problem?.keyPath == "commands.signing.key_file", "\(file)")
                #expect(problem?.message.contains(expected) == true, "\(file): \(String(describing: problem))")
                #expect(problem?.message.contains(Self.hexKey) != true)
            }
        }
    }

    @Test func requiredWithoutAKey_isRefusedNamingRequired() throws {
        let config = try ConfigLoader.parse(yaml: "commands: {signing: {required: true}}")
        let problem = Self.problem { _ = try config.resolvedSigning(environment: [:]) }
        #expect(problem?.keyPath == "commands.signing.required")
    }

    /// The unit's `LoadCredential=command-key:…` copy wins over the file; an empty one (the installer's
    /// placeholder) counts as none.
    @Test func systemdCredential_winsOverTheFile_unlessEmpty() throws {
        try Self.inDirectory { dir in
            let credentials = dir.file("credentials")
            try dir.write("credentials/command-key", String(repeating: "cd", count: 32) + "\n", mode: 0o400)
            let config = try ConfigLoader.parse(yaml: "commands: {signing: {key_file: '\(dir.file("absent"))'}}")
            let signing = try config.resolvedSigning(environment: ["CREDENTIALS_DIRECTORY": credentials])
            #expect(signing.key == Array(repeating: 0xcd, count: 32) && signing.rule.required)
            try dir.write("credentials/command-key", "", mode: 0o400)
            let noFile = try ConfigLoader.default().resolvedSigning(environment: ["CREDENTIALS_DIRECTORY": credentials])
            #expect(noFile.key == nil && !noFile.rule.required)
        }
    }

    @Test func theKeyItself_isRefusedInTheYAML_andTheWindowIsBounded() {
        #expect(messages(problems("commands: {signing: {key: abc}}"), at: "commands.signing.key").count == 1)
        #expect(
            messages(problems("commands: {signing: {replay_window_s: 1}}"), at: "commands.signing.replay_window_s") == [
                "1 is outside 5…300"
            ])
        #expect(
            messages(problems("commands: {signing: {replay_window_s: 301}}"), at: "commands.signing.replay_window_s")
                .count == 1)
        #expect(
            messages(problems("commands: {signing: {required: maybe}}"), at: "commands.signing.required").count == 1)
        #expect(!problems("commands: {signing: {replay_windw_s: 30}}").isEmpty)
    }
}
