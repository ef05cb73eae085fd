import Foundation
import GatewayConfig
import TestKit
import Testing

@Suite("Password resolution")
struct PasswordTests {
    @Test func passwordFile_isReadWithoutItsTrailingNewline() throws {
        try withTemporaryDirectoryURL { dir in
            let file = dir.appendingPathComponent("pw")
            try "s3cret pass\n".write(to: file, atomically: true, encoding: .utf8)
            let config = try ConfigLoader.parse(yaml: "mqtt: {username: u, password_file: '\(file.path)'}")
            #expect(try config.resolvedPassword(environment: ["RLT_MQTT_PASSWORD": "from-env"]) == "s3cret pass")
        }
    }

    @Test func withoutPasswordFile_theEnvironmentVariableIsUsed() throws {
        let mqtt = ConfigLoader.default().mqtt
        #expect(try mqtt.resolvedPassword(environment: ["RLT_MQTT_PASSWORD": "from-env"]) == "from-env")
        #expect(try mqtt.resolvedPassword(environment: [:]) == nil)
    }

    @Test func missingOrEmptyPasswordFile_throwsNamingTheKey() throws {
        try withTemporaryDirectoryURL { dir in
            var mqtt = MQTTSettings(username: "u", passwordFile: dir.appendingPathComponent("absent").path)
            #expect {
                try mqtt.resolvedPassword(environment: [:])
            } throws: { error in
                (error as? ConfigError)?.problems.first?.keyPath == "mqtt.password_file"
            }
            let empty = dir.appendingPathComponent("empty")
            try "\n".write(to: empty, atomically: true, encoding: .utf8)
            mqtt.passwordFile = empty.path
            #expect {
                try mqtt.resolvedPassword(environment: [:])
            } throws: { error in
                (error as? ConfigError)?.problems.first?.message.contains("is empty") == true
            }
        }
    }
}
