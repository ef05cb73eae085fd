import Foundation
import GatewayConfig
import TestKit
import Testing

@Suite("Password resolution")
struct PasswordTests {
    static func inDirectory(_ body: (TemporaryDirectory) throws -> Void) throws {
        let directory = try TemporaryDirectory(prefix: "rlt-password")
        defer { directory.remove() }
        try body(directory)
    }

    @Test func passwordFile_isReadWithoutItsTrailingNewline() throws {
        try Self.inDirectory { dir in
            let file = try dir.write("pw", "s3cret pass\n")
            let config = try ConfigLoader.parse(yaml: "mqtt: {username: u, password_file: '\(file)'}")
            #expect(try config.resolvedPassword(environment: ["RLT_MQTT_PASSWORD": "from-env"]) == "s3cret pass")
        }
    }

    @Test func withoutPasswordFile_theEnvironmentVariableIsUsed() throws {
        let mqtt = ConfigLoader.default().mqtt
        #expect(try mqtt.resolvedPassword(environment: ["RLT_MQTT_PASSWORD": "from-env"]) == "from-env")
        #expect(try mqtt.resolvedPassword(environment: [:]) == nil)
    }

    @Test func missingOrEmptyPasswordFile_throwsNamingTheKey() throws {
        try Self.inDirectory { dir in
            var mqtt = MQTTSettings(username: "u", passwordFile: dir.file("absent"))
            #expect {
                try mqtt.resolvedPassword(environment: [:])
            } throws: { error in
                (error as? ConfigError)?.problems.first?.keyPath == "mqtt.password_file"
            }
            mqtt.passwordFile = try dir.write("empty", "\n")
            #expect {
                try mqtt.resolvedPassword(environment: [:])
            } throws: { error in
                (error as? ConfigError)?.problems.first?.message.contains("is empty") == true
            }
        }
    }

    /// A secret every local user can read, or one its group may rewrite, is refused at start with
    /// the fix; 0600 and 0640 (root:rlt-gateway) are private enough.
    @Test(arguments: [(0o644, "accessible to every user (mode 0644)"), (0o604, "accessible to every user (mode 0604)"),
        (0o660, "writable by its group (mode 0660)")])
    func passwordFileOthersCanRead_isRefusedWithTheFix(mode: Int, reason: String) throws {
        try Self.inDirectory { dir in
            let file = try dir.write("pw", "s3cret\n", mode: mode)
            let mqtt = MQTTSettings(username: "u", passwordFile: file)
            #expect {
                try mqtt.resolvedPassword(environment: [:])
            } throws: { error in
                let problem = (error as? ConfigError)?.problems.first
                return problem?.keyPath == "mqtt.password_file" && problem?.message.contains(reason) == true
                    && problem?.message.contains("chmod 600") == true && problem?.message.contains("s3cret") == false
            }
        }
    }

    @Test func passwordFilePrivateToOwnerOrGroup_isAccepted() throws {
        try Self.inDirectory { dir in
            for mode in [0o600, 0o640, 0o400] {
                let mqtt = MQTTSettings(username: "u", passwordFile: try dir.write("pw-\(mode)", "s3cret\n", mode: mode))
                #expect(try mqtt.resolvedPassword(environment: [:]) == "s3cret")
            }
        }
    }

    /// Under systemd's `LoadCredential=mqtt-password:…` the private copy wins over the file (which
    /// may then be root's own, unreadable to the daemon); an empty credential (the unit's
    /// `SetCredential=` default when there is no file) counts as none.
    @Test func systemdCredential_winsOverTheFile_unlessEmpty() throws {
        try Self.inDirectory { dir in
            let credentials = dir.file("credentials")
            try dir.write("credentials/mqtt-password", "from-credential\n", mode: 0o400)
            let mqtt = MQTTSettings(username: "u", passwordFile: dir.file("unreadable-or-absent"))
            #expect(try mqtt.resolvedPassword(environment: ["CREDENTIALS_DIRECTORY": credentials]) == "from-credential")
            try dir.write("credentials/mqtt-password", "", mode: 0o600)
            let fallback = MQTTSettings(username: "u", passwordFile: try dir.write("pw", "from-file\n"))
            #expect(try fallback.resolvedPassword(environment: ["CREDENTIALS_DIRECTORY": credentials]) == "from-file")
        }
    }
}
