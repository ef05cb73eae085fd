import Foundation
import MQTT
import TestSupport
import Testing

/// Every command of the MQTT contract, sent by a separate client to the built daemon, with the
/// effect checked where a user would see it: the simulated lines, `state`, `event` and `res`.
@Suite(.timeLimit(.minutes(10)))
struct ContractCommandTests {
    @Test func sessionCommands_startPauseResumeToTheEnd_driveTheLines_andEmitOrderedEvents() async throws {
        try await GatewayHarness.with { harness in
            // 8 s: long enough by a wide margin for the three commands sent before the pause, however
            // slowly a loaded machine answers them.
            let started = try await harness.command(
                #"{"id":"s1","cmd":"start","args":{"duration_s":8}}"#, id: "s1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))

            let again = try await harness.command(#"{"id":"s1b","cmd":"start"}"#, id: "s1b")
            #expect(again.string("code") == "E_STATE", "a second start while running: \(again)")
            let resumeRunning = try await harness.command(#"{"id":"r0","cmd":"resume"}"#, id: "r0")
            #expect(resumeRunning.string("code") == "E_STATE", "\(resumeRunning)")

            let paused = try await harness.command(#"{"id":"p1","cmd":"pause"}"#, id: "p1")
            #expect(paused["ok"] as? Bool == true, "\(paused)")
            #expect(paused.string("state") == "paused")
            #expect(await harness.linesRead(0))
            let pausedAgain = try await harness.command(#"{"id":"p2","cmd":"pause"}"#, id: "p2")
            #expect(pausedAgain.string("code") == "E_STATE", "\(pausedAgain)")

            // A pause does not count towards the planned duration: the elapsed time stands still while
            // wall time passes. (Kept sleep: the assertion is about time passing, and a slow machine
            // only lengthens the pause.)
            let elapsedAtPause = try #require(try await harness.barrier().number("elapsed_s"))
            try await Task.sleep(for: .seconds(1))
            let elapsedLater = try #require(try await harness.barrier().number("elapsed_s"))
            #expect(elapsedLater == elapsedAtPause, "elapsed moved while paused: \(elapsedAtPause) → \(elapsedLater)")
            #expect(elapsedAtPause < 8)
            let resumed = try await harness.command(#"{"id":"r1","cmd":"resume"}"#, id: "r1")
            #expect(resumed["ok"] as? Bool == true, "\(resumed)")
            #expect(await harness.linesRead(1))

            let completed = await harness.waitForEvent("completed", timeout: .seconds(60))
            #expect(completed?.string("reason") == "duration", "\(String(describing: completed))")
            #expect((completed?.number("elapsed_s") ?? 0) >= 7.9)
            #expect(await harness.linesRead(0))

            // Everything this session announced, in the order it happened (completed was consumed above).
            let events = harness.client.messages(topic: "\(harness.base)/event").compactMap {
                try? GatewayHarness.object($0)
            }
            let sessionID = try #require(
                events.first { $0.string("event") == "session_started" }?.string("session_id"), "\(events)")
            let sessionEvents = events.filter { $0.string("session_id") == sessionID }.compactMap { $0.string("event") }
            #expect(sessionEvents == ["session_started", "paused", "resumed"], "\(sessionEvents)")
            #expect(completed?.string("session_id") == sessionID)
            #expect(events.first { $0.string("event") == "paused" }?.string("reason") == "command")

            // stop is always accepted and idempotent.
            for id in ["st1", "st2"] {
                let stopped = try await harness.command(#"{"id":"\#(id)","cmd":"stop"}"#, id: id)
                #expect(stopped["ok"] as? Bool == true, "\(stopped)")
            }
            #expect(await harness.linesRead(0))
        }
    }

    @Test func stopMidSession_endsItAsAborted_andLinesGoOff() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(#"{"id":"a1","cmd":"start"}"#, id: "a1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))
            let stopped = try await harness.command(#"{"id":"a2","cmd":"stop"}"#, id: "a2")
            #expect(stopped["ok"] as? Bool == true)
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)), "the response comes after the lines are off")
            let aborted = await harness.waitForEvent("aborted")
            #expect(aborted?.string("reason") == "stop", "\(String(describing: aborted))")
            let again = try await harness.command(#"{"id":"a3","cmd":"stop"}"#, id: "a3")
            #expect(again["ok"] as? Bool == true, "stop is idempotent: \(again)")
        }
    }

    @Test func start_withADoseTarget_completesWhenTheTargetIsReached() async throws {
        try await GatewayHarness.with { harness in
            // Both channels at 100 %: 90 mW/cm² = 0.09 J/cm² per second, so 0.2 J/cm² takes about 2.2 s.
            // The target is checked every tick (100 ms = 0.009 J/cm²); the bound allows 3 s of ticks
            // delayed by a loaded machine and still fails when the target is ignored.
            let started = try await harness.command(
                #"{"id":"dt","cmd":"start","args":{"duration_s":600,"dose_j_cm2":0.2}}"#, id: "dt")
            #expect(started["ok"] as? Bool == true, "\(started)")
            let completed = try #require(
                await harness.waitForEvent("completed", timeout: .seconds(60)), "log:\n\(harness.gateway.log)")
            #expect(completed.string("reason") == "dose_target", "\(completed)")
            let dose = try #require(completed.object("dose_j_cm2")?.number("total"))
            #expect(dose >= 0.2 && dose < 0.2 + 0.27, "delivered \(dose) J/cm² for a 0.2 target")
            #expect(await harness.linesRead(0))
        }
    }

    @Test func queries_getPingIdentify_answerWithoutTouchingTheLines() async throws {
        try await GatewayHarness.with { harness in
            let got = try await harness.command(#"{"id":"g1","cmd":"get"}"#, id: "g1")
            #expect(got["ok"] as? Bool == true)
            let data = try #require(got.object("data"), "get carries the state snapshot: \(got)")
            #expect(data.string("state") == "idle")
            #expect(data.string("interlock") == "closed")
            #expect(data["emitting"] as? Bool == false)
            #expect(data.object("presets")?.number("duration_s") == 60)

            let pong = try await harness.command(#"{"id":"g2","cmd":"ping"}"#, id: "g2")
            #expect(pong["ok"] as? Bool == true)
            #expect(pong.string("cmd") == "ping")

            let identify = try await harness.command(#"{"id":"g3","cmd":"identify"}"#, id: "g3")
            #expect(identify["ok"] as? Bool == true, "\(identify)")
            #expect(identify["data"] == nil, "only get and ping carry the snapshot: \(identify)")
            let refused = try await harness.command(#"{"id":"g4","cmd":"pause"}"#, id: "g4")
            #expect(refused.keys.sorted() == ["cmd", "code", "id", "message", "ok", "state"], "\(refused)")
            #expect(await TestClient.poll(timeout: .seconds(30)) { harness.gateway.log.contains("identify requested") })

            for line in [GatewayHarness.redLine, GatewayHarness.nirLine, GatewayHarness.masterLine] {
                #expect(harness.chip.value(line: line) == 0)
            }
        }
    }

    @Test func set_changesPresets_theNextStartUsesThem_andValuesAboveTheLimitsAreRefused() async throws {
        try await GatewayHarness.with { harness in
            let set = try await harness.command(
                #"{"id":"p1","cmd":"set","args":{"channels":"red","duration_s":6,"dose_j_cm2":5}}"#, id: "p1")
            #expect(set["ok"] as? Bool == true, "\(set)")
            let withTarget = await harness.waitForState { $0.object("presets")?.number("dose_j_cm2") == 5 }
            #expect(withTarget?.object("presets")?.string("channels") == "red")

            // null clears the dose target.
            harness.client.clearMessages()
            let cleared = try await harness.command(#"{"id":"p2","cmd":"set","args":{"dose_j_cm2":null}}"#, id: "p2")
            #expect(cleared["ok"] as? Bool == true, "\(cleared)")
            let withoutTarget = await harness.waitForState {
                guard let presets = $0.object("presets") else { return false }
                return presets["dose_j_cm2"] is NSNull
            }
            #expect(withoutTarget != nil, "presets.dose_j_cm2 never became null")

            // Above the config's limits: refused, presets unchanged.
            let tooMuchDose = try await harness.command(
                #"{"id":"p3","cmd":"set","args":{"dose_j_cm2":61}}"#, id: "p3")
            #expect(tooMuchDose.string("code") == "E_RANGE", "\(tooMuchDose)")
            let tooLong = try await harness.command(#"{"id":"p4","cmd":"set","args":{"duration_s":1201}}"#, id: "p4")
            #expect(tooLong.string("code") == "E_RANGE", "\(tooLong)")
            let empty = try await harness.command(#"{"id":"p5","cmd":"set","args":{}}"#, id: "p5")
            #expect(empty.string("code") == "E_SCHEMA", "\(empty)")

            // start without args: red only, 6 s (long enough to see the lines on under load), no target.
            let started = try await harness.command(#"{"id":"p6","cmd":"start"}"#, id: "p6")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.chip.waitForValue(line: GatewayHarness.redLine, 1))
            #expect(harness.chip.value(line: GatewayHarness.nirLine) == 0)
            let running = await harness.waitForState("running")
            #expect(running?.string("channels") == "red")
            #expect(running?.number("planned_s") == 6)
            #expect(running?["dose_target_j_cm2"] is NSNull)
            let completed = await harness.waitForEvent("completed", timeout: .seconds(60))
            #expect(completed?.string("reason") == "duration")
        }
    }

    @Test func repeatedCommandID_returnsTheFirstResponseAgain_andHasNoSecondEffect() async throws {
        try await GatewayHarness.with { harness in
            let first = try await harness.command(#"{"id":"dup","cmd":"start","args":{"duration_s":30}}"#, id: "dup")
            #expect(first["ok"] as? Bool == true, "\(first)")
            let stopped = try await harness.command(#"{"id":"dup-stop","cmd":"stop"}"#, id: "dup-stop")
            #expect(stopped["ok"] as? Bool == true)
            #expect(await harness.linesRead(0))
            _ = await harness.waitForState("idle")
            harness.client.clearMessages()

            // QoS 1 redelivery of the same start: the same answer, no new session.
            let replay = try await harness.command(#"{"id":"dup","cmd":"start","args":{"duration_s":30}}"#, id: "dup")
            #expect(replay["ok"] as? Bool == first["ok"] as? Bool)
            #expect(replay.string("message") == first.string("message"), "\(replay) vs \(first)")
            try await harness.barrier()
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            #expect(
                harness.client.messages(topic: "\(harness.base)/event").allSatisfy {
                    !$0.payloadText.contains("session_started")
                })
            let got = try await harness.command(#"{"id":"dup-get","cmd":"get"}"#, id: "dup-get")
            #expect(got.object("data")?.string("state") != "running", "\(got)")
            #expect(got.object("data")?.number("sessions_24h") == 1)
        }
    }

    /// A redelivery repeats the same command; a `stop` that merely reuses an earlier command's id (a
    /// fleet tool and an automation both counting from "1", an automation with a fixed id) is not one,
    /// and must stop the panel.
    @Test(arguments: ["device", "fleet"])
    func stopReusingAnEarlierStartsID_stillStopsThePanel(topic: String) async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(#"{"id":"1","cmd":"start"}"#, id: "1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))
            let stopTopic = topic == "fleet" ? "rlt/_all/cmd" : "\(harness.base)/cmd"
            let stopped = try await harness.command(#"{"id":"1","cmd":"stop"}"#, id: "1", topic: stopTopic)
            // A different command reusing an id is a new command, not a redelivery: the stop acts.
            #expect(stopped.string("cmd") == "stop", "\(stopped)")
            #expect(await harness.linesRead(0, timeout: .seconds(30)), "a stop answered ok left the lines on")
            _ = try await harness.command(#"{"id":"cleanup","cmd":"stop"}"#, id: "cleanup")
            #expect(await harness.linesRead(0))
        }
    }

    @Test func v5Request_withAResponseTopicInTheOwnResTree_isAnsweredThere_withItsCorrelationData() async throws {
        try await GatewayHarness.with { harness in
            let correlation: [UInt8] = [0x00, 0x2A, 0xFF, 0x10]
            harness.client.publish(
                MQTTMessage(
                    topic: "\(harness.base)/cmd", payload: Array(#"{"id":"v5","cmd":"ping"}"#.utf8), qos: .atLeastOnce,
                    responseTopic: "\(harness.base)/res/e2e", correlationData: correlation))
            let reply = await harness.client.waitForMessage(topic: "\(harness.base)/res/e2e") {
                $0.payloadText.contains(#""id":"v5""#)
            }
            let message = try #require(reply, "no response on the v5 response topic")
            #expect(message.correlationData == correlation)
            #expect(try GatewayHarness.object(message)["ok"] as? Bool == true)
        }
    }

    @Test func v5Request_withAResponseTopicElsewhere_isAnsweredOnRes_andNothingIsPublishedThere() async throws {
        try await GatewayHarness.with { harness in
            let bystander = try TestClient(port: harness.broker.port, subscriptions: ["rlt/other/#", "homeassistant/#"])
            defer { Task { await bystander.stop() } }
            #expect(await bystander.waitForConnection())
            #expect(await bystander.waitForSubscription(probeTopic: "rlt/other/probe"))
            for (id, foreign) in [("f1", "rlt/other/state"), ("f2", "homeassistant/switch/x/config")] {
                harness.client.publish(
                    MQTTMessage(
                        topic: "\(harness.base)/cmd", payload: Array(#"{"id":"\#(id)","cmd":"ping"}"#.utf8),
                        qos: .atLeastOnce, responseTopic: foreign))
                // Every command has exactly one answer: found on res, it was published nowhere else.
                let answer = try await harness.response(id: id)
                #expect(answer["ok"] as? Bool == true)
                #expect(bystander.messages(topic: foreign).isEmpty, "answered on \(foreign)")
            }
        }
    }
}
