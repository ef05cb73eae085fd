import Foundation
import GatewayProtocol
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
            let started = try await harness.command(CommandRequest(id: "s1", command: "start", args: ["duration_s": 8]))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))

            let again = try await harness.command(CommandRequest(id: "s1b", command: "start"))
            #expect(again.code == .state, "a second start while running: \(again)")
            let resumeRunning = try await harness.command(CommandRequest(id: "r0", command: "resume"))
            #expect(resumeRunning.code == .state, "\(resumeRunning)")

            let paused = try await harness.command(CommandRequest(id: "p1", command: "pause"))
            #expect(paused.ok, "\(paused)")
            #expect(paused.state == .paused)
            #expect(await harness.linesRead(0))
            let pausedAgain = try await harness.command(CommandRequest(id: "p2", command: "pause"))
            #expect(pausedAgain.code == .state, "\(pausedAgain)")

            // A pause does not count towards the planned duration: the elapsed time stands still while
            // wall time passes. (Kept sleep: the assertion is about time passing, and a slow machine
            // only lengthens the pause.)
            let elapsedAtPause = try await harness.barrier().elapsedSeconds
            try await Task.sleep(for: .seconds(1))
            let elapsedLater = try await harness.barrier().elapsedSeconds
            #expect(elapsedLater == elapsedAtPause, "elapsed moved while paused: \(elapsedAtPause) → \(elapsedLater)")
            #expect(elapsedAtPause < 8)
            let resumed = try await harness.command(CommandRequest(id: "r1", command: "resume"))
            #expect(resumed.ok, "\(resumed)")
            #expect(await harness.linesRead(1))

            let completed = try await harness.waitForEvent(.completed, timeout: .seconds(60))
            #expect(completed?.end?.reason == .duration, "\(String(describing: completed))")
            #expect((completed?.end?.elapsedSeconds ?? 0) >= 7.9)
            #expect(await harness.linesRead(0))

            // Everything this session announced, in the order it happened (completed was consumed above).
            let events = try harness.events()
            let sessionID = try #require(events.first { $0.kind == .sessionStarted }?.sessionID, "\(events)")
            let sessionEvents = events.filter { $0.sessionID == sessionID }.map(\.kind)
            #expect(sessionEvents == [.sessionStarted, .paused, .resumed], "\(sessionEvents)")
            #expect(completed?.sessionID == sessionID)
            #expect(events.first { $0.kind == .paused }?.pauseReason == .command)

            // stop is always accepted and idempotent.
            for id in ["st1", "st2"] {
                let stopped = try await harness.command(CommandRequest(id: id, command: "stop"))
                #expect(stopped.ok, "\(stopped)")
            }
            #expect(await harness.linesRead(0))
        }
    }

    @Test func stopMidSession_endsItAsAborted_andLinesGoOff() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(CommandRequest(id: "a1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            let stopped = try await harness.command(CommandRequest(id: "a2", command: "stop"))
            #expect(stopped.ok)
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)), "the response comes after the lines are off")
            let aborted = try await harness.waitForEvent(.aborted)
            #expect(aborted?.end?.reason == .stopCommand, "\(String(describing: aborted))")
            let again = try await harness.command(CommandRequest(id: "a3", command: "stop"))
            #expect(again.ok, "stop is idempotent: \(again)")
        }
    }

    @Test func start_withADoseTarget_completesWhenTheTargetIsReached() async throws {
        try await GatewayHarness.with { harness in
            // Both channels at 100 %: 90 mW/cm² = 0.09 J/cm² per second, so 0.2 J/cm² takes about 2.2 s.
            // The target is checked every tick (100 ms = 0.009 J/cm²); the bound allows 3 s of ticks
            // delayed by a loaded machine and still fails when the target is ignored.
            let started = try await harness.command(
                CommandRequest(id: "dt", command: "start", args: ["duration_s": 600, "dose_j_cm2": 0.2]))
            #expect(started.ok, "\(started)")
            let completed = try #require(
                try await harness.waitForEvent(.completed, timeout: .seconds(60)), "log:\n\(harness.gateway.log)")
            #expect(completed.end?.reason == .doseTarget, "\(completed)")
            let dose = try #require(completed.end?.dose.total)
            #expect(dose >= 0.2 && dose < 0.2 + 0.27, "delivered \(dose) J/cm² for a 0.2 target")
            #expect(await harness.linesRead(0))
        }
    }

    @Test func queries_getPingIdentify_answerWithoutTouchingTheLines() async throws {
        try await GatewayHarness.with { harness in
            let got = try await harness.command(CommandRequest(id: "g1", command: "get"))
            #expect(got.ok)
            let data = try #require(got.data, "get carries the state snapshot: \(got)")
            #expect(data.state == .idle)
            #expect(data.interlock == .closed)
            #expect(data.emitting == false)
            #expect(data.presets.durationSeconds == 60)

            let pong = try await harness.command(CommandRequest(id: "g2", command: "ping"))
            #expect(pong.ok)
            #expect(pong.command == "ping")

            let identify = try await harness.command(CommandRequest(id: "g3", command: "identify"))
            #expect(identify.ok, "\(identify)")
            #expect(identify.data == nil, "only get and ping carry the snapshot: \(identify)")
            // The exact members of a refusal are pinned (the decoder would not notice one too many).
            harness.client.publish(
                topic: "\(harness.base)/cmd", text: CommandRequest(id: "g4", command: "pause").json.text)
            let refused = try #require(
                try await harness.client.waitForDocumentMessage(ResponseDocument.self, topic: "\(harness.base)/res") {
                    $0.id == "g4"
                })
            #expect(refused.document.code == .state, "\(refused.document)")
            let members = try JSONValue.parse(refused.message.payload).memberNames
            #expect(
                members.sorted() == ["cmd", "code", "id", "message", "ok", "state"], "\(refused.message.payloadText)")
            #expect(await TestClient.poll(timeout: .seconds(30)) { harness.gateway.log.contains("identify requested") })

            for line in [GatewayHarness.redLine, GatewayHarness.nirLine, GatewayHarness.masterLine] {
                #expect(harness.chip.value(line: line) == 0)
            }
        }
    }

    @Test func set_changesPresets_theNextStartUsesThem_andValuesAboveTheLimitsAreRefused() async throws {
        try await GatewayHarness.with { harness in
            let set = try await harness.command(
                CommandRequest(id: "p1", command: "set", args: ["channels": "red", "duration_s": 6, "dose_j_cm2": 5]))
            #expect(set.ok, "\(set)")
            let withTarget = try await harness.waitForState { $0.presets.doseTarget == 5 }
            #expect(withTarget?.presets.channels == .red)

            // null clears the dose target.
            harness.client.clearMessages()
            let cleared = try await harness.command(CommandRequest(id: "p2", command: "set", args: ["dose_j_cm2": nil]))
            #expect(cleared.ok, "\(cleared)")
            let withoutTarget = try await harness.waitForState { $0.presets.doseTarget == nil }
            #expect(withoutTarget != nil, "presets.dose_j_cm2 never became null")

            // Above the config's limits: refused, presets unchanged.
            let tooMuchDose = try await harness.command(
                CommandRequest(id: "p3", command: "set", args: ["dose_j_cm2": 61]))
            #expect(tooMuchDose.code == .range, "\(tooMuchDose)")
            let tooLong = try await harness.command(
                CommandRequest(id: "p4", command: "set", args: ["duration_s": 1201]))
            #expect(tooLong.code == .range, "\(tooLong)")
            let empty = try await harness.command(CommandRequest(id: "p5", command: "set", args: [:]))
            #expect(empty.code == .schema, "\(empty)")

            // start without args: red only, 6 s (long enough to see the lines on under load), no target.
            let started = try await harness.command(CommandRequest(id: "p6", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.chip.waitForValue(line: GatewayHarness.redLine, 1))
            #expect(harness.chip.value(line: GatewayHarness.nirLine) == 0)
            let running = try await harness.waitForState(.running)
            #expect(running?.channels == .red)
            #expect(running?.plannedSeconds == 6)
            #expect(running != nil && running?.doseTarget == nil)
            let completed = try await harness.waitForEvent(.completed, timeout: .seconds(60))
            #expect(completed?.end?.reason == .duration)
        }
    }

    @Test func repeatedCommandID_returnsTheFirstResponseAgain_andHasNoSecondEffect() async throws {
        try await GatewayHarness.with { harness in
            let first = try await harness.command(CommandRequest(id: "dup", command: "start", args: ["duration_s": 30]))
            #expect(first.ok, "\(first)")
            let stopped = try await harness.command(CommandRequest(id: "dup-stop", command: "stop"))
            #expect(stopped.ok)
            #expect(await harness.linesRead(0))
            _ = try await harness.waitForState(.idle)
            harness.client.clearMessages()

            // QoS 1 redelivery of the same start: the same answer, no new session.
            let replay = try await harness.command(
                CommandRequest(id: "dup", command: "start", args: ["duration_s": 30]))
            #expect(replay.ok == first.ok)
            #expect(replay.message == first.message, "\(replay) vs \(first)")
            try await harness.barrier()
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            #expect(try harness.events().allSatisfy { $0.kind != .sessionStarted })
            let got = try await harness.command(CommandRequest(id: "dup-get", command: "get"))
            #expect(got.data?.state != .running, "\(got)")
            #expect(got.data?.sessions24h == 1)
        }
    }

    /// A redelivery repeats the same command; a `stop` that merely reuses an earlier command's id (a
    /// fleet tool and an automation both counting from "1", an automation with a fixed id) is not one,
    /// and must stop the panel.
    @Test(arguments: ["device", "fleet"])
    func stopReusingAnEarlierStartsID_stillStopsThePanel(topic: String) async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(CommandRequest(id: "1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            let stopTopic = topic == "fleet" ? "rlt/_all/cmd" : "\(harness.base)/cmd"
            let stopped = try await harness.command(CommandRequest(id: "1", command: "stop"), topic: stopTopic)
            // A different command reusing an id is a new command, not a redelivery: the stop acts.
            #expect(stopped.command == "stop", "\(stopped)")
            #expect(await harness.linesRead(0, timeout: .seconds(30)), "a stop answered ok left the lines on")
            _ = try await harness.command(CommandRequest(id: "cleanup", command: "stop"))
            #expect(await harness.linesRead(0))
        }
    }

    @Test func v5Request_withAResponseTopicInTheOwnResTree_isAnsweredThere_withItsCorrelationData() async throws {
        try await GatewayHarness.with { harness in
            let correlation: [UInt8] = [0x00, 0x2A, 0xFF, 0x10]
            harness.client.publish(
                MQTTMessage(
                    topic: "\(harness.base)/cmd", payload: CommandRequest(id: "v5", command: "ping").json.bytes,
                    qos: .atLeastOnce, responseTopic: "\(harness.base)/res/e2e", correlationData: correlation))
            let reply = await harness.client.waitForMessage(topic: "\(harness.base)/res/e2e") {
                $0.payloadText.contains(#""id":"v5""#)
            }
            let message = try #require(reply, "no response on the v5 response topic")
            #expect(message.correlationData == correlation)
            let answer = try ResponseDocument(message)
            #expect(answer.id == "v5" && answer.ok, "\(answer)")
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
                        topic: "\(harness.base)/cmd", payload: CommandRequest(id: id, command: "ping").json.bytes,
                        qos: .atLeastOnce, responseTopic: foreign))
                // Every command has exactly one answer: found on res, it was published nowhere else.
                let answer = try await harness.response(id: id)
                #expect(answer.ok, "\(answer)")
                #expect(bystander.messages(topic: foreign).isEmpty, "answered on \(foreign)")
            }
        }
    }
}
