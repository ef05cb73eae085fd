import Foundation
import MQTT
import TestSupport
import Testing

/// Safety behaviour seen from outside: faults from a played temperature file, the interlock input,
/// telemetry cadence and the retained documents a late subscriber relies on.
@Suite(.timeLimit(.minutes(10)))
struct ContractSafetyTests {
    @Test func overTemperatureMidSession_latchesFOvertemp_linesOff_andAckClearsItOnlyOnceCooled() async throws {
        try await GatewayHarness.with(fileSensor: true, initialTemperatureMilliC: 52000) { harness in
            // Warm panel (≥ resume 50 °C): a start is refused with E_OVERTEMP.
            let warm = try await harness.command(#"{"id":"o0","cmd":"start"}"#, id: "o0")
            #expect(warm.string("code") == "E_OVERTEMP", "\(warm)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            try harness.writeTemperature(milliC: 30000)
            try await harness.waitForTemperature(30)

            let started = try await harness.command(#"{"id":"o1","cmd":"start"}"#, id: "o1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))

            try harness.writeTemperature(milliC: 70000)
            let raised = await harness.waitForEvent("fault_raised") { $0.string("fault") == "F_OVERTEMP" }
            #expect(raised != nil, "no fault_raised F_OVERTEMP; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            let aborted = await harness.waitForEvent("aborted")
            #expect(aborted?.string("reason") == "fault", "\(String(describing: aborted))")
            let fault = await harness.waitForState { $0.string("state") == "fault" }
            #expect(fault?.faults == ["F_OVERTEMP"])
            #expect(fault?["emitting"] as? Bool == false)

            // Still hot: the fault cannot be acknowledged and nothing can start.
            let early = try await harness.command(#"{"id":"o2","cmd":"ack","args":{"fault":"F_OVERTEMP"}}"#, id: "o2")
            #expect(early.string("code") == "E_FAULT_ACTIVE", "\(early)")
            let blocked = try await harness.command(#"{"id":"o3","cmd":"start"}"#, id: "o3")
            #expect(blocked.string("code") == "E_FAULT_ACTIVE", "\(blocked)")

            try harness.writeTemperature(milliC: 40000)
            try await harness.waitForTemperature(40)
            harness.client.clearMessages()
            let ack = try await harness.command(#"{"id":"o4","cmd":"ack","args":{"fault":"F_OVERTEMP"}}"#, id: "o4")
            #expect(ack["ok"] as? Bool == true, "\(ack)")
            let cleared = await harness.waitForEvent("fault_cleared")
            #expect(cleared?.string("fault") == "F_OVERTEMP")
            let after = await harness.waitForState {
                $0.faults.isEmpty && ($0.string("state") == "idle" || $0.string("state") == "cooldown")
            }
            #expect(after != nil)
            // Acknowledging never starts emission.
            try await harness.barrier()
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)))
        }
    }

    @Test func unreadableSensorMidSession_latchesFSensorInvalid_andLinesGoOff() async throws {
        try await GatewayHarness.with(fileSensor: true) { harness in
            let started = try await harness.command(#"{"id":"v1","cmd":"start"}"#, id: "v1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))
            try "garbage\n".write(toFile: harness.sensorFile, atomically: true, encoding: .utf8)
            let raised = await harness.waitForEvent("fault_raised") { $0.string("fault") == "F_SENSOR_INVALID" }
            #expect(raised != nil, "no F_SENSOR_INVALID; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            // A new valid value (not the 30 °C from before the garbage), so its arrival is observable.
            try harness.writeTemperature(milliC: 31000)
            try await harness.waitForTemperature(31)
            harness.client.clearMessages()
            let ack = try await harness.command(#"{"id":"v2","cmd":"ack","args":{"fault":"all"}}"#, id: "v2")
            #expect(ack["ok"] as? Bool == true, "\(ack)")
            #expect(await harness.waitForState { $0.faults.isEmpty && $0.string("state") != "running" } != nil)
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    /// A sensor read that hangs (a stuck 1-Wire bus; here a FIFO nobody writes): no samples arrive, so
    /// the stale-sensor rule (S7) switches emission off, and SIGTERM still shuts the daemon down cleanly.
    @Test func hangingSensorRead_latchesFSensorStale_andGracefulShutdownStillCompletes() async throws {
        try await GatewayHarness.with(fileSensor: true) { harness in
            let started = try await harness.command(#"{"id":"h1","cmd":"start"}"#, id: "h1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))
            try FileManager.default.removeItem(atPath: harness.sensorFile)
            #expect(mkfifo(harness.sensorFile, 0o644) == 0)
            let raised = await harness.waitForEvent("fault_raised", timeout: .seconds(20)) {
                $0.string("fault") == "F_SENSOR_STALE"
            }
            #expect(raised != nil, "no F_SENSOR_STALE; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            // The daemon is still responsive while its sensor read hangs.
            let got = try await harness.command(#"{"id":"h2","cmd":"get"}"#, id: "h2")
            #expect(got.object("data")?.faults.contains("F_SENSOR_STALE") == true, "\(got)")

            harness.gateway.signal(SIGTERM)
            let exit = await harness.gateway.waitForExit(timeout: .seconds(20))
            #expect(exit == 0, "SIGTERM with a hung sensor read did not shut down; log:\n\(harness.gateway.log)")
            let offline = await harness.client.waitForMessage(topic: "\(harness.base)/status") {
                $0.payloadText.contains("shutdown")
            }
            #expect(offline != nil)
        }
    }

    @Test func interlockOpeningMidSession_pausesAndLinesGoOff_closingDoesNotResume() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(#"{"id":"l1","cmd":"start"}"#, id: "l1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))

            try harness.chip.pull(line: GatewayHarness.interlockLine, up: false)
            #expect(await harness.linesRead(0), "interlock open must switch the lines off")
            let paused = await harness.waitForEvent("paused")
            #expect(paused?.string("reason") == "interlock", "\(String(describing: paused))")
            #expect(
                await harness.waitForState { $0.string("state") == "paused" && $0.string("interlock") == "open" } != nil
            )
            let refused = try await harness.command(#"{"id":"l2","cmd":"resume"}"#, id: "l2")
            #expect(refused.string("code") == "E_INTERLOCK", "\(refused)")

            try harness.chip.pull(line: GatewayHarness.interlockLine, up: true)
            #expect(await harness.waitForState { $0.string("interlock") == "closed" } != nil)
            // Never auto-resumes: still paused and dark once the closing edge has been handled.
            try await harness.barrier()
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            #expect(harness.chip.value(line: GatewayHarness.masterLine) == 0)
            let got = try await harness.command(#"{"id":"l3","cmd":"get"}"#, id: "l3")
            #expect(got.object("data")?.string("state") == "paused", "\(got)")
            #expect(await harness.waitForEvent("resumed", timeout: .milliseconds(100)) == nil)

            let resumed = try await harness.command(#"{"id":"l4","cmd":"resume"}"#, id: "l4")
            #expect(resumed["ok"] as? Bool == true, "\(resumed)")
            #expect(await harness.linesRead(1))
        }
    }

    /// S11: the local stop button works without MQTT, here with the broker gone.
    @Test func stopButtonPressed_withTheBrokerDown_stopsTheSession() async throws {
        // Normally closed, fail-safe: released holds the line high, pressed or a broken wire reads low.
        let button = [
            "gpio.inputs.stop_button.line=\(GatewayHarness.stopButtonLine)", "gpio.inputs.stop_button.bias=pull-down",
            "gpio.inputs.stop_button.active_low=true",
        ]
        try await GatewayHarness.with(overrides: button) { harness in
            let started = try await harness.command(#"{"id":"sb1","cmd":"start"}"#, id: "sb1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            #expect(await harness.linesRead(1))
            await harness.broker.stop()
            #expect(await TestClient.poll(timeout: .seconds(30)) { harness.gateway.log.contains("MQTT link lost") })
            // The history below ends the session by `stop_button`, not by the link loss: policy
            // `continue` kept it running.
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 1, "policy continue keeps the session")
            try harness.chip.pull(line: GatewayHarness.stopButtonLine, up: false)  // active low: low = pressed
            #expect(await harness.linesRead(0), "the stop button did not stop the session")
            try harness.chip.pull(line: GatewayHarness.stopButtonLine, up: true)
            try await harness.broker.start()
            #expect(await harness.waitForOnline())
            let history = try await ProcessRunner.run(
                GatewayProcess.executablePath, ["history", "--config", harness.configPath])
            #expect(history.contains("stop_button"), "history:\n\(history)")
        }
    }

    /// A test about timing itself: it asserts the cadence from the daemon's own timestamps with bounds
    /// that hold on a loaded machine (a late tick only makes a gap longer, never shorter than configured).
    @Test func telemetry_everySecondWhileRunning_andAtTheIdleIntervalOtherwise() async throws {
        let yaml = "telemetry: { running_interval_s: 1, idle_interval_s: 4 }"
        try await GatewayHarness.with(extraYAML: yaml) { harness in
            // Idle: three telemetry messages, at least 4 s apart and not much more.
            let idle = try await Self.telemetry(of: harness, count: 3)
            let idleGaps = Self.gaps(idle)
            #expect(idleGaps.allSatisfy { $0 >= 3.9 && $0 <= 12 }, "idle telemetry gaps: \(idleGaps)")
            // The retained state doubles as a heartbeat at the idle interval: between the first and the
            // last idle telemetry (≥ 7.8 s) at least one state was published, and never more than one
            // per interval.
            let first = idle.first?.number("ts") ?? 0
            let last = idle.last?.number("ts") ?? 0
            var heartbeats: [Double] = []
            for message in harness.client.messages(topic: "\(harness.base)/state") {
                if let ts = try GatewayHarness.object(message).number("ts"), ts >= first, ts <= last {
                    heartbeats.append(ts)
                }
            }
            #expect((1...3).contains(heartbeats.count), "idle state heartbeats over \(idleGaps): \(heartbeats.count)")

            let started = try await harness.command(#"{"id":"t1","cmd":"start"}"#, id: "t1")
            #expect(started["ok"] as? Bool == true, "\(started)")
            harness.client.clearMessages()
            let running = try await Self.telemetry(of: harness, count: 4, state: "running")
            let runningGaps = Self.gaps(running)
            #expect(runningGaps.allSatisfy { $0 >= 0.9 && $0 <= 6 }, "running telemetry gaps: \(runningGaps)")
            let median = runningGaps.sorted()[runningGaps.count / 2]
            #expect(median < 3.9, "running cadence \(runningGaps) is not faster than idle \(idleGaps)")
            let newest = try #require(running.last)
            #expect((newest.number("elapsed_s") ?? 0) > 0)
            #expect((newest.object("dose_j_cm2")?.number("total") ?? 0) > 0)
            #expect(newest.number("seq") != nil)
            _ = try await harness.command(#"{"id":"t2","cmd":"stop"}"#, id: "t2")
        }
    }

    /// The next `count` telemetry messages (in `state`, when given), decoded; telemetry is never retained.
    static func telemetry(of harness: GatewayHarness, count: Int, state: String? = nil) async throws -> [[String: Any]] {
        var received: [[String: Any]] = []
        let marker = state.map { #""state":"\#($0)""# }
        while received.count < count {
            let message = await harness.client.waitForMessage(topic: "\(harness.base)/tele", timeout: .seconds(30)) {
                marker.map($0.payloadText.contains) ?? true
            }
            guard let found = message else {
                throw HarnessError("telemetry \(received.count + 1) of \(count) never came")
            }
            #expect(!found.retain, "telemetry must not be retained")
            received.append(try GatewayHarness.object(found))
        }
        return received
    }

    /// Seconds between consecutive documents' `ts` (the daemon's milliseconds).
    static func gaps(_ documents: [[String: Any]]) -> [Double] {
        let stamps = documents.compactMap { $0.number("ts") }
        return zip(stamps, stamps.dropFirst()).map { ($1 - $0) / 1000 }
    }

    @Test func lateSubscriber_receivesRetainedStatusStateInfoAndDiscovery() async throws {
        try await GatewayHarness.with { harness in
            _ = await harness.waitForState("idle")
            let late = try TestClient(
                port: harness.broker.port, subscriptions: ["\(harness.base)/#", "homeassistant/device/#"])
            defer { Task { await late.stop() } }
            let status = await late.waitForMessage(topic: "\(harness.base)/status")
            #expect(status?.retain == true)
            #expect(status?.payloadText.contains(#""state":"online""#) == true, "\(String(describing: status))")
            #expect(status?.payloadText.contains("boot_id") == true)

            let state = await late.waitForMessage(topic: "\(harness.base)/state")
            #expect(state?.retain == true)
            let snapshot = try #require(state.map { try GatewayHarness.object($0) })
            for key in [
                "state", "session_id", "channels", "intensity_pct", "planned_s", "elapsed_s", "remaining_s",
                "dose_j_cm2",
                "dose_target_j_cm2", "dose_24h_j_cm2", "sessions_24h", "temperature_c", "emitting", "interlock",
                "faults", "presets", "ts", "seq",
            ] {
                #expect(snapshot.keys.contains(key), "state lacks \(key)")
            }

            let info = await late.waitForMessage(topic: "\(harness.base)/info")
            #expect(info?.retain == true)
            let infoObject = try #require(info.map { try GatewayHarness.object($0) })
            #expect(infoObject.string("model") == "RLT-660/850")
            #expect(infoObject.object("limits")?.number("max_session_s") == 1200)

            let discovery = await late.waitForMessage(topic: "homeassistant/device/rlt_\(harness.deviceID)/config")
            #expect(discovery?.retain == true, "no retained HA discovery document")
            let document = try #require(discovery.map { try GatewayHarness.object($0) })
            #expect(document["dev"] != nil && document["cmps"] != nil, "\(document.keys)")

            // Home Assistant's birth message: discovery is published again (after a short random delay).
            late.publish(topic: "homeassistant/status", text: "online")
            let again = await late.waitForMessage(topic: "homeassistant/device/rlt_\(harness.deviceID)/config")
            #expect(again != nil, "discovery not republished after homeassistant/status online")
        }
    }
}
