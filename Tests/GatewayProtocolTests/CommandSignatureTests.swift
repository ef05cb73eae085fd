import Foundation
import GatewayProtocol
import SafetyCore
import Testing

/// Signed commands: the canonical form every signer must rebuild, the HMAC, and the decoder's verdict.
@Suite("Command signatures")
struct CommandSignatureTests {
    static let key = CommandSignature(key: Array(repeating: 0x2a, count: 32))
    static let topic = "rlt/panel-1/cmd"

    func decode(_ payload: [UInt8], topic: String = Self.topic, key: CommandSignature? = Self.key) -> CommandEnvelope {
        CommandDecoder.decode(
            payload, source: .device, retained: false, receivedAtUnixMs: 1_700_000_000_000, maximumBytes: 4096,
            topic: topic, key: key)
    }

    /// RFC 4231 test case 2 (key "Jefe"): shows the MAC is plain HMAC-SHA256, so any standard library
    /// (Python's hmac, openssl dgst -hmac) computes the same bytes.
    @Test func hmac_matchesRFC4231TestCase2() {
        let signer = CommandSignature(key: Array("Jefe".utf8))
        let mac = signer.sign(Array("what do ya want for nothing?".utf8))
        #expect(mac == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(signer.verify(mac, over: Array("what do ya want for nothing?".utf8)))
        #expect(signer.verify(mac.uppercased(), over: Array("what do ya want for nothing?".utf8)))
        #expect(!signer.verify(mac, over: Array("what do ya want for nothing!".utf8)))
        #expect(!signer.verify(String(mac.dropLast(2)), over: Array("what do ya want for nothing?".utf8)))
        #expect(!signer.verify("zz" + mac.dropFirst(2), over: Array("what do ya want for nothing?".utf8)))
    }

    /// The exact bytes of the README's example: sorted keys, no whitespace, integers without a fraction.
    @Test func canonicalForm_isTheDocumentedLines() {
        let args: JSONValue = .object([
            ("intensity_pct", 100), ("duration_s", 600), ("channels", "both"), ("dose_j_cm2", 4.5),
        ])
        let bytes = CommandSignature.canonicalForm(
            topic: "rlt/panel-1/cmd", id: "c1", command: "start", ts: 1_764_148_000_123, ttlMs: 10_000, args: args)
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "rlt-cmd-v1\nrlt/panel-1/cmd\nc1\nstart\n1764148000123\n10000\n"
                + #"{"channels":"both","dose_j_cm2":4.5,"duration_s":600,"intensity_pct":100}"#)
        let bare = CommandSignature.canonicalForm(topic: "t", id: nil, command: "get", ts: 1, ttlMs: 2, args: nil)
        #expect(String(decoding: bare, as: UTF8.self) == "rlt-cmd-v1\nt\n\nget\n1\n2\n{}")
    }

    /// Layout does not matter, meaning does: the same command written with other spacing, member order
    /// and number spelling verifies with the same signature.
    @Test func signedPayload_verifiesWhateverItsLayout() {
        let args: JSONValue = .object([("channels", "red"), ("duration_s", 60)])
        let payload = Self.key.signedPayload(
            topic: Self.topic, id: "s1", command: "start", args: args, ts: 1_700_000_000_000, ttlMs: 5000)
        let envelope = self.decode(payload)
        guard case .verified(let tag) = envelope.signature else {
            Issue.record("expected a verified signature, got \(envelope.signature)")
            return
        }
        let relaid = """
            { "sig": "\(tag)", "ttl_ms": 5.0e3, "ts": 1700000000000,
              "args": { "duration_s": 60.0, "channels": "red" }, "cmd": "start", "id": "s1" }
            """
        #expect(self.decode(Array(relaid.utf8)).signature == .verified(tag: tag))
    }

    /// Anything the signature covers, changed, no longer verifies: the topic (another panel sharing the
    /// key), the arguments, `ts`, `ttl_ms`, the id, the command.
    @Test(arguments: [
        ("rlt/panel-2/cmd", #"{"id":"s1","cmd":"start","args":{"duration_s":60},"ts":1700000000000,"ttl_ms":5000"#),
        ("rlt/_all/cmd", #"{"id":"s1","cmd":"start","args":{"duration_s":60},"ts":1700000000000,"ttl_ms":5000"#),
        ("rlt/panel-1/cmd", #"{"id":"s1","cmd":"start","args":{"duration_s":61},"ts":1700000000000,"ttl_ms":5000"#),
        ("rlt/panel-1/cmd", #"{"id":"s1","cmd":"start","args":{"duration_s":60},"ts":1700000000001,"ttl_ms":5000"#),
        ("rlt/panel-1/cmd", #"{"id":"s1","cmd":"start","args":{"duration_s":60},"ts":1700000000000,"ttl_ms":5001"#),
        ("rlt/panel-1/cmd", #"{"id":"s2","cmd":"start","args":{"duration_s":60},"ts":1700000000000,"ttl_ms":5000"#),
        ("rlt/panel-1/cmd", #"{"id":"s1","cmd":"start","ts":1700000000000,"ttl_ms":5000"#),
    ])
    func changedCommandOrOtherTopic_isAMismatch(topic: String, prefix: String) {
        let original = Self.key.signedPayload(
            topic: Self.topic, id: "s1", command: "start", args: .object([("duration_s", 60)]), ts: 1_700_000_000_000,
            ttlMs: 5000)
        guard case .string(let sig)? = try? JSONValue.parse(original)["sig"] else {
            Issue.record("signed payload has no sig")
            return
        }
        let tampered = Array((prefix + #","sig":"\#(sig)"}"#).utf8)
        #expect(self.decode(tampered, topic: topic).signature == .mismatch)
    }

    @Test func verdicts_withoutSigWithoutKeyOrWithoutTs() {
        #expect(self.decode(Array(#"{"id":"a","cmd":"get","ts":1,"ttl_ms":2}"#.utf8)).signature == .absent)
        let signed = Self.key.signedPayload(topic: Self.topic, id: "a", command: "get", args: nil, ts: 1, ttlMs: 2)
        #expect(self.decode(signed, key: nil).signature == .unchecked)
        let noTs = #"{"id":"a","cmd":"get","ttl_ms":2,"sig":"\#(String(repeating: "0", count: 64))"}"#
        #expect(self.decode(Array(noTs.utf8)).signature == .incomplete)
        #expect(
            self.decode(Array(#"{"id":"a","cmd":"get","ts":1,"ttl_ms":2,"sig":"xyz"}"#.utf8)).signature == .mismatch)
        // `sig` must be a string; anything else is a schema error like any other wrong type.
        let numeric = self.decode(Array(#"{"id":"a","cmd":"get","sig":12}"#.utf8))
        #expect(
            numeric.body == .invalid(.schema, "sig must be a string: the lowercase hex HMAC-SHA256 of the signed form"))
    }

    /// The Home Assistant recipe's signer (deploy/homeassistant/sign-command.py, Python standard library
    /// only) produces payloads this verifier accepts: the canonical form is the same in both languages.
    @Test func pythonRecipeSigner_producesPayloadsThatVerify() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = root.appendingPathComponent("deploy/homeassistant/sign-command.py").path
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("rlt-sign-\(getpid()).key").path
        try (String(repeating: "2a", count: 32) + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        for (command, args) in [
            ("start", #"{"duration_s": 600, "channels": "both", "intensity_pct": 50, "dose_j_cm2": 4.5}"#),
            ("stop", ""), ("set", #"{"dose_j_cm2": null}"#),
        ] {
            let (status, data) = try Self.output(
                of: "/usr/bin/env",
                ["python3", script, "--key-file", keyFile, "--topic", Self.topic, "--id", "ha-1", command]
                    + (args.isEmpty ? [] : ["--args", args]))
            #expect(status == 0)
            let envelope = CommandDecoder.decode(
                Array(data), source: .device, retained: false, receivedAtUnixMs: 0, maximumBytes: 4096,
                topic: Self.topic, key: Self.key)
            guard case .decoded = envelope.body, case .verified = envelope.signature else {
                Issue.record(
                    "\(command): \(String(decoding: data, as: UTF8.self)) → \(envelope.body), \(envelope.signature)")
                continue
            }
        }
    }

    /// The shell recipe of docs/SECURITY.md (`printf | openssl dgst -hmac`) signs the same bytes.
    @Test func shellRecipe_withOpenSSL_producesAPayloadThatVerifies() throws {
        let script = #"""
            key=$(printf '2a%.0s' $(seq 32)); ts=1700000000000; id=sh-$ts
            sig=$(printf 'rlt-cmd-v1\nrlt/panel-1/cmd\n%s\nget\n%s\n10000\n{}' "$id" "$ts" |
                openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -r | cut -d' ' -f1)
            printf '{"id":"%s","cmd":"get","ts":%s,"ttl_ms":10000,"sig":"%s"}' "$id" "$ts" "$sig"
            """#
        let (status, data) = try Self.output(of: "/bin/sh", ["-c", script])
        #expect(status == 0)
        let envelope = self.decode(Array(data))
        guard case .verified = envelope.signature else {
            Issue.record("\(String(decoding: data, as: UTF8.self)) → \(envelope.signature)")
            return
        }
    }

    /// Runs a signer (the Python script, a shell recipe) and returns its exit status and standard output.
    static func output(of executable: String, _ arguments: [String]) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }
}
