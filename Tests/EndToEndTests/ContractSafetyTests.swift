import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import TestSupport
import Testing

/// Safety behaviour seen from outside: faults from a played temperature file, the interlock input,
/// telemetry cadence and the retained documents a late subscriber relies on.
@Suite(.timeLimit(.minutes(10)))
struct ContractSafetyTests {
    @Test func overTemperatureMidSession_latchesFOvertemp_linesOff_andAckClearsItOnlyOnceCooled() async throws {
        try await GatewayHarness.with(fileSensor: true, initialTemperatureMilliC: 52000) { harness in
            // Warm panel (≥ resume 50 °C): a start is refused with E_OVERTEMP.
            let warm = try await harness.command(CommandRequest(id: "o0", command: "start"))
            #expect(warm.code == .overTemperature, "\(warm)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            try harness.writeTemperature(milliC: 30000)
            try await harness.waitForTemperature(30)

            let started = try await harness.command(CommandRequest(id: "o1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))

            try harness.writeTemperature(milliC: 70000)
            let raised = try await harness.waitForEvent(.faultRaised) { $0.faultCode == .overTemperature }
            #expect(raised != nil, "no fault_raised F_OVERTEMP; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            let aborted = try await harness.waitForEvent(.aborted)
            #expect(aborted?.end?.reason == .fault, "\(String(describing: aborted))")
            let fault = try await harness.waitForState { $0.state == .fault }
            #expect(fault?.faults == [.overTemperature])
            #expect(fault?.emitting == false)

            // Still hot: the fault cannot be acknowledged and nothing can start.
            let early = try await harness.command(
                CommandRequest(id: "o2", command: "ack", args: ["fault": "F_OVERTEMP"]))
            #expect(early.code == .faultActive, "\(early)")
            let blocked = try await harness.command(CommandRequest(id: "o3", command: "start"))
            #expect(blocked.code == .faultActive, "\(blocked)")

            try harness.writeTemperature(milliC: 40000)
            try await harness.waitForTemperature(40)
            harness.client.clearMessages()
            let ack = try await harness.command(CommandRequest(id: "o4", command: "ack", args: ["fault": "F_OVERTEMP"]))
            #expect(ack.ok, "\(ack)")
            let cleared = try await harness.waitForEvent(.faultCleared)
            #expect(cleared?.faultCode == .overTemperature)
            let after = try await harness.waitForState {
                $0.faults.isEmpty && ($0.state == .idle || $0.state == .cooldown)
            }
            #expect(after != nil)
            // Acknowledging never starts emission.
            try await harness.barrier()
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)))
        }
    }

    @Test func unreadableSensorMidSession_latchesFSensorInvalid_andLinesGoOff() async throws {
        try await GatewayHarness.with(fileSensor: true) { harness in
            let started = try await harness.command(CommandRequest(id: "v1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            try "garbage\n".write(toFile: harness.sensorFile, atomically: true, encoding: .utf8)
            let raised = try await harness.waitForEvent(.faultRaised) { $0.faultCode == .sensorInvalid }
            #expect(raised != nil, "no F_SENSOR_INVALID; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            // A new valid value (not the 30 °C from before the garbage), so its arrival is observable.
            try harness.writeTemperature(milliC: 31000)
            try await harness.waitForTemperature(31)
            harness.client.clearMessages()
            let ack = try await harness.command(CommandRequest(id: "v2", command: "ack", args: ["fault": "all"]))
            #expect(ack.ok, "\(ack)")
            #expect(try await harness.waitForState { $0.faults.isEmpty && $0.state != .running } != nil)
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    /// A sensor read that hangs (a stuck 1-Wire bus; here a FIFO nobody writes): no samples arrive, so
    /// the stale-sensor rule (S7) switches emission off, and SIGTERM still shuts the daemon down cleanly.
    @Test func hangingSensorRead_latchesFSensorStale_andGracefulShutdownStillCompletes() async throws {
        try await GatewayHarness.with(fileSensor: true) { harness in
            let started = try await harness.command(CommandRequest(id: "h1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            try FileManager.default.removeItem(atPath: harness.sensorFile)
            #expect(mkfifo(harness.sensorFile, 0o644) == 0)
            let raised = try await harness.waitForEvent(.faultRaised, timeout: .seconds(20)) {
                $0.faultCode == .sensorStale
            }
            #expect(raised != nil, "no F_SENSOR_STALE; log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0))
            // The daemon is still responsive while its sensor read hangs.
            let got = try await harness.command(CommandRequest(id: "h2", command: "get"))
            #expect(got.data?.faults.contains(.sensorStale) == true, "\(got)")

            harness.gateway.signal(SIGTERM)
            let exit = await harness.gateway.waitForExit(timeout: .seconds(20))
            #expect(exit == 0, "SIGTERM with a hung sensor read did not shut down; log:\n\(harness.gateway.log)")
            let offline = try await harness.waitFor(StatusDocument.self, on: .status) { $0.offlineReason == "shutdown" }
            #expect(offline != nil)
        }
    }

    @Test func interlockOpeningMidSession_pausesAndLinesGoOff_closingDoesNotResume() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(CommandRequest(id: "l1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))

            try harness.chip.pull(line: GatewayHarness.interlockLine, up: false)
            #expect(await harness.linesRead(0), "interlock open must switch the lines off")
            let paused = try await harness.waitForEvent(.paused)
            #expect(paused?.pauseReason == .interlock, "\(String(describing: paused))")
            #expect(
                try await harness.waitForState { $0.state == .paused && $0.interlock == .open } != nil
            )
            let refused = try await harness.command(CommandRequest(id: "l2", command: "resume"))
            #expect(refused.code == .interlock, "\(refused)")

            try harness.chip.pull(line: GatewayHarness.interlockLine, up: true)
            #expect(try await harness.waitForState { $0.interlock == .closed } != nil)
            // Never auto-resumes: still paused and dark once the closing edge has been handled.
            try await harness.barrier()
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
            #expect(harness.chip.value(line: GatewayHarness.masterLine) == 0)
            let got = try await harness.command(CommandRequest(id: "l3", command: "get"))
            #expect(got.data?.state == .paused, "\(got)")
            #expect(try await harness.waitForEvent(.resumed, timeout: .milliseconds(100)) == nil)

            let resumed = try await harness.command(CommandRequest(id: "l4", command: "resume"))
            #expect(resumed.ok, "\(resumed)")
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
            let started = try await harness.command(CommandRequest(id: "sb1", command: "start"))
            #expect(started.ok, "\(started)")
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
            #expect(try await harness.waitForOnline())
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
            let first = idle.first?.unixMs ?? 0
            let last = idle.last?.unixMs ?? 0
            var heartbeats: [Int64] = []
            for message in harness.client.messages(topic: "\(harness.base)/state") {
                let ts = try StateDocument(message).unixMs
                if ts >= first, ts <= last { heartbeats.append(ts) }
            }
            #expect((1...3).contains(heartbeats.count), "idle state heartbeats over \(idleGaps): \(heartbeats.count)")

            let started = try await harness.command(CommandRequest(id: "t1", command: "start"))
            #expect(started.ok, "\(started)")
            harness.client.clearMessages()
            let running = try await Self.telemetry(of: harness, count: 4, state: .running)
            let runningGaps = Self.gaps(running)
            #expect(runningGaps.allSatisfy { $0 >= 0.9 && $0 <= 6 }, "running telemetry gaps: \(runningGaps)")
            let median = runningGaps.sorted()[runningGaps.count / 2]
            #expect(median < 3.9, "running cadence \(runningGaps) is not faster than idle \(idleGaps)")
            let newest = try #require(running.last)
            #expect(newest.elapsedSeconds > 0)
            #expect(newest.dose.total > 0)
            #expect(newest.seq > 0)
            _ = try await harness.command(CommandRequest(id: "t2", command: "stop"))
        }
    }

    /// The next `count` telemetry documents (in `state`, when given); telemetry is never retained.
    static func telemetry(
        of harness: GatewayHarness, count: Int, state: SessionState? = nil
    ) async throws -> [StateDocument] {
        var received: [StateDocument] = []
        while received.count < count {
            let found = try await harness.client.waitForDocumentMessage(
                StateDocument.self, topic: "\(harness.base)/tele", timeout: .seconds(30),
                where: { document in state.map { document.state == $0 } ?? true })
            guard let found else {
                throw HarnessError("telemetry \(received.count + 1) of \(count) never came")
            }
            #expect(!found.message.retain, "telemetry must not be retained")
            received.append(found.document)
        }
        return received
    }

    /// Seconds between consecutive documents' `ts` (the daemon's milliseconds).
    static func gaps(_ documents: [StateDocument]) -> [Double] {
        let stamps = documents.map(\.unixMs)
        return zip(stamps, stamps.dropFirst()).map { Double($1 - $0) / 1000 }
    }

    @Test func lateSubscriber_receivesRetainedStatusStateInfoAndDiscovery() async throws {
        try await GatewayHarness.with { harness in
            _ = try await harness.waitForState(.idle)
            let late = try TestClient(
                port: harness.broker.port, subscriptions: ["\(harness.base)/#", "homeassistant/device/#"])
            defer { Task { await late.stop() } }
            let status = try await late.waitForDocumentMessage(StatusDocument.self, topic: "\(harness.base)/status")
            #expect(status?.message.retain == true)
            if case .online(let bootID, _)? = status?.document {
                #expect(!bootID.isEmpty)
            } else {
                Issue.record("the retained status is not online: \(String(describing: status?.document))")
            }

            let state = try await late.waitForDocumentMessage(StateDocument.self, topic: "\(harness.base)/state")
            #expect(state?.message.retain == true)
            // Every member is written, `null` or not (the decoder would read a left-out optional as nil).
            let snapshot = try #require(state.map { try JSONValue.parse($0.message.payload).memberNames })
            for key in [
                "state", "session_id", "channels", "intensity_pct", "planned_s", "elapsed_s", "remaining_s",
                "dose_j_cm2",
                "dose_target_j_cm2", "dose_24h_j_cm2", "sessions_24h", "temperature_c", "emitting", "interlock",
                "faults", "presets", "ts", "seq",
            ] {
                #expect(snapshot.contains(key), "state lacks \(key)")
            }

            let info = try await late.waitForDocumentMessage(InfoDocument.self, topic: "\(harness.base)/info")
            #expect(info?.message.retain == true)
            let infoDocument = try #require(info?.document)
            #expect(infoDocument.model == "RLT-660/850")
            #expect(infoDocument.limits.maxSessionSeconds == 1200)

            let discovery = await late.waitForMessage(topic: "homeassistant/device/rlt_\(harness.deviceID)/config")
            #expect(discovery?.retain == true, "no retained HA discovery document")
            // Home Assistant's document, not one of this contract's: its shape is Home Assistant's to define.
            let document = try #require(discovery.map { try JSONValue.parse($0.payload) })
            #expect(document["dev"] != nil && document["cmps"] != nil, "\(document.memberNames)")

            // Home Assistant's birth message: discovery is published again (after a short random delay).
            late.publish(topic: "homeassistant/status", text: "online")
            let again = await late.waitForMessage(topic: "homeassistant/device/rlt_\(harness.deviceID)/config")
            #expect(again != nil, "discovery not republished after homeassistant/status online")
        }
    }
}
