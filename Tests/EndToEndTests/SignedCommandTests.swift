import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import TestSupport
import Testing

/// Signed commands against the real daemon, broker and simulated chip (README, "Signed commands"):
/// with `commands.signing.key_file` set, only correctly signed commands act, a copy is refused, and a
/// `stop` acts unsigned.
@Suite(.timeLimit(.minutes(5)))
struct SignedCommandTests {
    static let key: [UInt8] = (0..<32).map { UInt8($0 * 7 + 3) }

    @Test func signingRequired_onlyCorrectlySignedCommandsAct_andStopActsUnsigned() async throws {
        try await GatewayHarness.with(commandKey: Self.key) { harness in
            let key = CommandSignature(key: Self.key)
            let red = GatewayHarness.redLine
            let start: JSONValue = .object([("duration_s", 60)])

            // Unsigned: refused, the lines stay off.
            let unsigned = try await harness.command(#"{"id":"u1","cmd":"start","args":{"duration_s":60}}"#, id: "u1")
            #expect(unsigned.code == .unsigned, "\(unsigned)")
            // Signed with another key: refused.
            let otherKey = CommandSignature(key: Array(repeating: 0x11, count: 32))
            let forged = try await harness.command(
                harness.signed(otherKey, id: "f1", command: "start", args: start), id: "f1")
            #expect(forged.code == .signature, "\(forged)")
            // Signed for another panel's topic with the right key: refused (the topic is signed).
            let elsewhere = harness.signed(key, id: "o1", command: "start", args: start, topic: "rlt/other-panel/cmd")
            #expect(try await harness.command(elsewhere, id: "o1").code == .signature)
            try await harness.barrier()
            #expect(harness.chip.value(line: red) == 0, "a refused command turned red on")

            // Correctly signed: acts.
            let good = harness.signed(key, id: "s1", command: "start", args: start)
            let accepted = try await harness.command(good, id: "s1")
            #expect(accepted.ok, "\(accepted)")
            #expect(await harness.linesRead(1), "signed start did not turn the lines on")

            // Unsigned stop: acts (a stop is never blocked by missing crypto).
            let stop = try await harness.command(#"{"id":"x1","cmd":"stop"}"#, id: "x1")
            #expect(stop.ok, "\(stop)")
            #expect(await harness.linesRead(0), "unsigned stop did not turn the lines off")

            // A signed command that was refused (pause while not running) is not answered from the duplicate
            // memory, so its copy meets the replay memory: E_REPLAY, and still no effect.
            let pause = harness.signed(key, id: "p1", command: "pause")
            #expect(try await harness.command(pause, id: "p1").code == .state)
            let replayed = try await harness.command(pause, id: "p1")
            #expect(replayed.code == .replay, "\(replayed)")

            // A copy of the accepted start, after the stop: the first answer again (S14), no second session.
            harness.client.publish(topic: "\(harness.base)/cmd", text: good)
            try await harness.barrier()
            #expect(harness.chip.value(line: red) == 0, "a replayed start turned red on")

            // Every refusal is in the event stream with its code too.
            #expect(try await harness.waitForEvent(.commandRejected) { $0.rejectionCode == .replay } != nil)
        }
    }

    /// The terminal client signs with `--key-file`; without the key its start is refused, while its stop
    /// still acts.
    @Test func cliSignsWithItsKeyFile() async throws {
        try await GatewayHarness.with(commandKey: Self.key) { harness in
            let config = ["--config", harness.configPath]
            let unsigned = await CLIClientTests.run(["session", "start"] + config + ["--duration", "1m"], in: harness)
            #expect(unsigned.code == 1 && unsigned.output.contains("E_UNSIGNED"), "\(unsigned.output)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)

            let keyFile = ["--key-file", harness.directory.file("command.key")]
            let signed = await CLIClientTests.run(
                ["session", "start"] + config + keyFile + ["--duration", "1m"], in: harness)
            #expect(signed.code == 0, "\(signed.output)")
            #expect(await harness.linesRead(1))

            let stop = await CLIClientTests.run(["session", "stop"] + config, in: harness)
            #expect(stop.code == 0, "\(stop.output)")
            #expect(await harness.linesRead(0))
        }
    }
}
