import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import TestSupport
import Testing

/// Every reachable error code of the contract, produced by the real daemon; none of them may turn a
/// line on.
@Suite(.timeLimit(.minutes(10)))
struct ContractRejectionTests {
    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test func badCommands_eachGetsItsStableCode_andTheLinesStayOff() async throws {
        try await GatewayHarness.with { harness in
            let stale = Self.nowMs() - 60_000
            let fresh = Self.nowMs()
            let cases: [(id: String, payload: String, code: ResponseCode)] = [
                ("s1", #"{"id":"s1","cmd":"start","args":{"channels":5}}"#, .schema),
                ("s2", #"{"id":"s2","cmd":"start","extra":true}"#, .schema),
                ("s3", #"{"id":"s3","cmd":"ack","args":{}}"#, .schema),
                ("u1", #"{"id":"u1","cmd":"reboot"}"#, .unknownCommand),
                ("r1", #"{"id":"r1","cmd":"start","args":{"intensity_pct":50}}"#, .range),
                ("r2", #"{"id":"r2","cmd":"start","args":{"duration_s":0}}"#, .range),
                ("st1", #"{"id":"st1","cmd":"pause"}"#, .state),
                ("st2", #"{"id":"st2","cmd":"resume"}"#, .state),
                ("st3", #"{"id":"st3","cmd":"ack","args":{"fault":"F_OVERTEMP"}}"#, .state),
                ("d1", #"{"id":"d1","cmd":"start","args":{"dose_j_cm2":61}}"#, .doseLimit),
                ("d2", #"{"id":"d2","cmd":"start","args":{"duration_s":1200}}"#, .doseLimit),
                ("t1", CommandRequest(id: "t1", command: "start", sentAtUnixMs: stale, ttlMs: 1000).json.text, .stale),
            ]
            for (id, payload, code) in cases {
                let response = try await harness.command(payload, id: id)
                #expect(!response.ok, "\(payload)")
                #expect(response.code == code, "\(payload): \(response)")
                #expect(!response.message.isEmpty)
                #expect(harness.chip.value(line: GatewayHarness.redLine) == 0, "\(payload) turned red on")
            }
            // A fresh command with a ttl is not stale.
            let inTime = try await harness.command(
                CommandRequest(id: "t2", command: "ping", sentAtUnixMs: fresh, ttlMs: 60000))
            #expect(inTime.ok, "\(inTime)")

            // A rejection is also announced as an event.
            let rejected = try await harness.waitForEvent(.commandRejected) { $0.rejectionCode == .stale }
            #expect(rejected != nil)

            // Not JSON (here: truncated): answered, without an id since none could be read.
            harness.client.publish(topic: "\(harness.base)/cmd", text: #"{"id":"j1","cmd":"start""#)
            let garbage = try await harness.client.waitForDocumentMessage(
                ResponseDocument.self, topic: "\(harness.base)/res", where: { $0.code == .json })
            let garbageResponse = try #require(garbage, "no E_JSON response")
            #expect(garbageResponse.document.id == nil && !garbageResponse.document.ok, "\(garbageResponse.document)")
            // Written as an explicit null, not left out.
            #expect(try JSONValue.parse(garbageResponse.message.payload)["id"] == .null)

            // Oversized (> 4 KiB): refused before it is even parsed, so without its id.
            let padding = String(repeating: "x", count: 5000)
            harness.client.publish(
                topic: "\(harness.base)/cmd", text: #"{"id":"big","cmd":"start","args":{"note":"\#(padding)"}}"#)
            let tooLarge = try await harness.waitFor(ResponseDocument.self, on: .response) { $0.code == .tooLarge }
            #expect(tooLarge != nil, "no E_TOO_LARGE; log:\n\(harness.gateway.log)")

            // Retained: never acts.
            let retained = try await harness.command(CommandRequest(id: "rt", command: "start"), retain: true)
            #expect(retained.code == .retained, "\(retained)")
            harness.client.publish(topic: "\(harness.base)/cmd", text: "", retain: true)

            // start on the fleet topic: not allowed.
            let fleet = try await harness.command(CommandRequest(id: "f1", command: "start"), topic: "rlt/_all/cmd")
            #expect(fleet.code == .notAllowed, "\(fleet)")

            try await harness.barrier()
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)))
            #expect(try harness.latestState?.state != .running)
        }
    }

    @Test func start_withTheInterlockOpen_isRefusedWithEInterlock() async throws {
        try await GatewayHarness.with { harness in
            try harness.chip.pull(line: GatewayHarness.interlockLine, up: false)
            #expect(try await harness.waitForState { $0.interlock == .open } != nil)
            let refused = try await harness.command(CommandRequest(id: "i1", command: "start"))
            #expect(refused.code == .interlock, "\(refused)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)

            try harness.chip.pull(line: GatewayHarness.interlockLine, up: true)
            #expect(try await harness.waitForState { $0.interlock == .closed } != nil)
            let started = try await harness.command(CommandRequest(id: "i2", command: "start"))
            #expect(started.ok, "closed again, start works: \(started)")
            #expect(await harness.linesRead(1))
        }
    }

    @Test func interlockOpenAtBoot_readsOpen_andStartIsRefused() async throws {
        try await GatewayHarness.with { harness in
            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            try harness.chip.pull(line: GatewayHarness.interlockLine, up: false)
            harness.client.clearMessages()
            try await harness.restartGateway()
            #expect(try await harness.waitForOnline())
            #expect(try await harness.waitUntilReady())
            // (A late state of the previous run may still arrive; wait for the new run's reading.)
            let state = try await harness.waitForState { $0.interlock == .open }
            #expect(state != nil, "the interlock pulled open before boot never read open")
            let refused = try await harness.command(CommandRequest(id: "ib", command: "start"))
            #expect(refused.code == .interlock, "\(refused)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func start_duringCooldown_isRefusedWithECooldown() async throws {
        try await GatewayHarness.with(overrides: ["limits.cooldown_s=60"]) { harness in
            let started = try await harness.command(CommandRequest(id: "c1", command: "start"))
            #expect(started.ok, "\(started)")
            let stopped = try await harness.command(CommandRequest(id: "c2", command: "stop"))
            #expect(stopped.state == .cooldown, "\(stopped)")
            let refused = try await harness.command(CommandRequest(id: "c3", command: "start"))
            #expect(refused.code == .cooldown, "\(refused)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func start_beyondTheDailySessionCount_isRefusedWithEDoseLimit() async throws {
        try await GatewayHarness.with(overrides: ["limits.max_daily_sessions=1", "limits.cooldown_s=0"]) { harness in
            let first = try await harness.command(CommandRequest(id: "n1", command: "start", args: ["duration_s": 1]))
            #expect(first.ok, "\(first)")
            #expect(try await harness.waitForEvent(.completed) != nil)
            let second = try await harness.command(CommandRequest(id: "n2", command: "start", args: ["duration_s": 1]))
            #expect(second.code == .doseLimit, "\(second)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func burstOfCommands_isRateLimitedWithERate_whileStopAndGetStillPass() async throws {
        try await GatewayHarness.with(rateLimited: true) { harness in
            let ids = (0..<25).map { "burst\($0)" }
            for id in ids {
                harness.client.publish(
                    topic: "\(harness.base)/cmd", text: CommandRequest(id: id, command: "ping").json.text)
            }
            for (id, command) in [("burst-stop", "stop"), ("burst-get", "get")] {
                harness.client.publish(
                    topic: "\(harness.base)/cmd", text: CommandRequest(id: id, command: command).json.text)
            }
            var codes: [ResponseCode?: Int] = [:]
            for id in ids {
                let response = try await harness.response(id: id)
                codes[response.code, default: 0] += 1
            }
            #expect((codes[.rate] ?? 0) >= 1, "\(codes)")
            #expect((codes[nil] ?? 0) >= 10, "the burst of 10 passes: \(codes)")
            #expect(try await harness.response(id: "burst-stop").ok)
            #expect(try await harness.response(id: "burst-get").ok)
        }
    }

    /// A retained `start` left on the broker (an automation that published with retain=true) reaches
    /// the gateway again on every (re)connect, flagged retained by the broker: it must never act, with
    /// either protocol the gateway speaks.
    @Test(arguments: ["5", "3.1.1"])
    func retainedStartLeftOnTheBroker_isRefusedWhenTheGatewayConnects(protocolVersion: String) async throws {
        try await GatewayHarness.with(overrides: ["mqtt.protocol=\(protocolVersion)"]) { harness in
            let alive = try await harness.command(CommandRequest(id: "v", command: "ping"))
            #expect(alive.ok, "protocol \(protocolVersion): \(alive)")

            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            harness.client.publish(
                topic: "\(harness.base)/cmd",
                text: CommandRequest(id: "left", command: "start", args: ["duration_s": 30]).json.text, retain: true)
            #expect(
                await harness.client.waitForMessage(topic: "\(harness.base)/cmd") { $0.payloadText.contains("left") }
                    != nil)

            harness.client.clearMessages()
            try await harness.restartGateway()
            let refused = try await harness.response(id: "left", timeout: .seconds(30))
            #expect(refused.code == .retained, "protocol \(protocolVersion): \(refused)")
            try await harness.barrier()
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            harness.client.publish(topic: "\(harness.base)/cmd", text: "", retain: true)
        }
    }
}
