import Foundation
import MQTT
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
            let cases: [(id: String, payload: String, code: String)] = [
                ("s1", #"{"id":"s1","cmd":"start","args":{"channels":5}}"#, "E_SCHEMA"),
                ("s2", #"{"id":"s2","cmd":"start","extra":true}"#, "E_SCHEMA"),
                ("s3", #"{"id":"s3","cmd":"ack","args":{}}"#, "E_SCHEMA"),
                ("u1", #"{"id":"u1","cmd":"reboot"}"#, "E_UNKNOWN_CMD"),
                ("r1", #"{"id":"r1","cmd":"start","args":{"intensity_pct":50}}"#, "E_RANGE"),
                ("r2", #"{"id":"r2","cmd":"start","args":{"duration_s":0}}"#, "E_RANGE"),
                ("st1", #"{"id":"st1","cmd":"pause"}"#, "E_STATE"),
                ("st2", #"{"id":"st2","cmd":"resume"}"#, "E_STATE"),
                ("st3", #"{"id":"st3","cmd":"ack","args":{"fault":"F_OVERTEMP"}}"#, "E_STATE"),
                ("d1", #"{"id":"d1","cmd":"start","args":{"dose_j_cm2":61}}"#, "E_DOSE_LIMIT"),
                ("d2", #"{"id":"d2","cmd":"start","args":{"duration_s":1200}}"#, "E_DOSE_LIMIT"),
                ("t1", #"{"id":"t1","cmd":"start","ts":\#(stale),"ttl_ms":1000}"#, "E_STALE"),
            ]
            for (id, payload, code) in cases {
                let response = try await harness.command(payload, id: id)
                #expect(response["ok"] as? Bool == false, "\(payload)")
                #expect(response.string("code") == code, "\(payload): \(response)")
                #expect(response.string("message")?.isEmpty == false)
                #expect(harness.chip.value(line: GatewayHarness.redLine) == 0, "\(payload) turned red on")
            }
            // A fresh command with a ttl is not stale.
            let inTime = try await harness.command(
                #"{"id":"t2","cmd":"ping","ts":\#(fresh),"ttl_ms":60000}"#, id: "t2")
            #expect(inTime["ok"] as? Bool == true, "\(inTime)")

            // A rejection is also announced as an event.
            let rejected = await harness.waitForEvent("command_rejected") { $0.string("code") == "E_STALE" }
            #expect(rejected != nil)

            // Not JSON (here: truncated): answered, without an id since none could be read.
            harness.client.publish(topic: "\(harness.base)/cmd", text: #"{"id":"j1","cmd":"start""#)
            let garbage = await harness.client.waitForMessage(topic: "\(harness.base)/res") {
                $0.payloadText.contains("E_JSON")
            }
            let garbageResponse = try #require(garbage.map { try GatewayHarness.object($0) }, "no E_JSON response")
            #expect(garbageResponse["id"] is NSNull)
            #expect(garbageResponse["ok"] as? Bool == false)

            // Oversized (> 4 KiB): refused before it is even parsed, so without its id.
            let padding = String(repeating: "x", count: 5000)
            harness.client.publish(
                topic: "\(harness.base)/cmd", text: #"{"id":"big","cmd":"start","args":{"note":"\#(padding)"}}"#)
            let tooLarge = await harness.client.waitForMessage(topic: "\(harness.base)/res") {
                $0.payloadText.contains("E_TOO_LARGE")
            }
            #expect(tooLarge != nil, "no E_TOO_LARGE; log:\n\(harness.gateway.log)")

            // Retained: never acts.
            let retained = try await harness.command(#"{"id":"rt","cmd":"start"}"#, id: "rt", retain: true)
            #expect(retained.string("code") == "E_RETAINED", "\(retained)")
            harness.client.publish(topic: "\(harness.base)/cmd", text: "", retain: true)

            // start on the fleet topic: not allowed.
            let fleet = try await harness.command(#"{"id":"f1","cmd":"start"}"#, id: "f1", topic: "rlt/_all/cmd")
            #expect(fleet.string("code") == "E_NOT_ALLOWED", "\(fleet)")

            try await harness.barrier()
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)))
            #expect(harness.latestState?.string("state") != "running")
        }
    }

    @Test func start_withTheInterlockOpen_isRefusedWithEInterlock() async throws {
        try await GatewayHarness.with { harness in
            try harness.chip.pull(line: GatewayHarness.interlockLine, up: false)
            #expect(await harness.waitForState { $0.string("interlock") == "open" } != nil)
            let refused = try await harness.command(#"{"id":"i1","cmd":"start"}"#, id: "i1")
            #expect(refused.string("code") == "E_INTERLOCK", "\(refused)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)

            try harness.chip.pull(line: GatewayHarness.interlockLine, up: true)
            #expect(await harness.waitForState { $0.string("interlock") == "closed" } != nil)
            let started = try await harness.command(#"{"id":"i2","cmd":"start"}"#, id: "i2")
            #expect(started["ok"] as? Bool == true, "closed again, start works: \(started)")
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
            #expect(await harness.waitForOnline())
            #expect(await harness.waitUntilReady())
            // (A late state of the previous run may still arrive; wait for the new run's reading.)
            let state = await harness.waitForState { $0.string("interlock") == "open" }
            #expect(state != nil, "the interlock pulled open before boot never read open")
            let refused = try await harness.command(#"{"id":"ib","cmd":"start"}"#, id: "ib")
            #expect(refused.string("code") == "E_INTERLOCK", "\(refused)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func start_duringCooldown_isRefusedWithECooldown() async throws {
        try await GatewayHarness.with(overrides: ["limits.cooldown_s=60"]) { harness in
            let started = try await harness.command(#"{"id":"c1","cmd":"start"}"#, id: "c1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            let stopped = try await harness.command(#"{"id":"c2","cmd":"stop"}"#, id: "c2")
            #expect(stopped.string("state") == "cooldown", "\(stopped)")
            let refused = try await harness.command(#"{"id":"c3","cmd":"start"}"#, id: "c3")
            #expect(refused.string("code") == "E_COOLDOWN", "\(refused)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func start_beyondTheDailySessionCount_isRefusedWithEDoseLimit() async throws {
        try await GatewayHarness.with(overrides: ["limits.max_daily_sessions=1", "limits.cooldown_s=0"]) { harness in
            let first = try await harness.command(#"{"id":"n1","cmd":"start","args":{"duration_s":1}}"#, id: "n1")
            #expect(first["ok"] as? Bool == true, "\(first)")
            #expect(await harness.waitForEvent("completed") != nil)
            let second = try await harness.command(#"{"id":"n2","cmd":"start","args":{"duration_s":1}}"#, id: "n2")
            #expect(second.string("code") == "E_DOSE_LIMIT", "\(second)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func burstOfCommands_isRateLimitedWithERate_whileStopAndGetStillPass() async throws {
        try await GatewayHarness.with(rateLimited: true) { harness in
            let ids = (0..<25).map { "burst\($0)" }
            for id in ids {
                harness.client.publish(topic: "\(harness.base)/cmd", text: #"{"id":"\#(id)","cmd":"ping"}"#)
            }
            harness.client.publish(topic: "\(harness.base)/cmd", text: #"{"id":"burst-stop","cmd":"stop"}"#)
            harness.client.publish(topic: "\(harness.base)/cmd", text: #"{"id":"burst-get","cmd":"get"}"#)
            var codes: [String: Int] = [:]
            for id in ids {
                let response = try await harness.response(id: id)
                codes[response.string("code") ?? "ok", default: 0] += 1
            }
            #expect((codes["E_RATE"] ?? 0) >= 1, "\(codes)")
            #expect((codes["ok"] ?? 0) >= 10, "the burst of 10 passes: \(codes)")
            #expect(try await harness.response(id: "burst-stop")["ok"] as? Bool == true)
            #expect(try await harness.response(id: "burst-get")["ok"] as? Bool == true)
        }
    }

    /// A retained `start` left on the broker (an automation that published with retain=true) reaches
    /// the gateway again on every (re)connect, flagged retained by the broker: it must never act, with
    /// either protocol the gateway speaks.
    @Test(arguments: ["5", "3.1.1"])
    func retainedStartLeftOnTheBroker_isRefusedWhenTheGatewayConnects(protocolVersion: String) async throws {
        try await GatewayHarness.with(overrides: ["mqtt.protocol=\(protocolVersion)"]) { harness in
            let alive = try await harness.command(#"{"id":"v","cmd":"ping"}"#, id: "v")
            #expect(alive["ok"] as? Bool == true, "protocol \(protocolVersion): \(alive)")

            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            harness.client.publish(
                topic: "\(harness.base)/cmd", text: #"{"id":"left","cmd":"start","args":{"duration_s":30}}"#,
                retain: true)
            #expect(
                await harness.client.waitForMessage(topic: "\(harness.base)/cmd") { $0.payloadText.contains("left") }
                    != nil)

            harness.client.clearMessages()
            try await harness.restartGateway()
            let refused = try await harness.response(id: "left", timeout: .seconds(30))
            #expect(refused.string("code") == "E_RETAINED", "protocol \(protocolVersion): \(refused)")
            try await harness.barrier()
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            harness.client.publish(topic: "\(harness.base)/cmd", text: "", retain: true)
        }
    }
}
