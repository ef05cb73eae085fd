import Foundation
import GatewayProtocol
import MQTT
import TestSupport
import Testing

/// The broker going away and coming back (issue 4): the panel keeps its session per policy, keeps
/// the outputs where the safety core wants them, and reconnects on its own.
@Suite(.timeLimit(.minutes(10)))
struct BrokerResilienceTests {
    /// What is actually true about the last will across a broker restart (mosquitto 2.0): a broker
    /// that shuts down publishes the wills of its connected clients while it closes their sockets, so
    /// a subscriber connected at that moment gets `offline(connection_lost)` only sometimes (it
    /// depends on the order the broker walks its clients; seen both ways here). Guaranteed is the rest:
    /// the broker runs without persistence, so no retained will survives the restart, and a
    /// subscriber of the restarted broker sees only the `online` and current `state` the gateway
    /// republishes on reconnecting. The will itself is proven by `kill -9` (``CrashRecoveryTests``).
    @Test func brokerRestartedSeveralTimesMidSession_gatewayReconnects_andTheSessionEndsAtItsPlannedDuration()
        async throws
    {
        try await GatewayHarness.with { harness in
            // 45 s: three outages with reconnects take a few seconds each, many more on a loaded machine.
            let started = try await harness.command(
                CommandRequest(id: "b1", command: "start", args: ["duration_s": 45]))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            let planned = 45.0

            for round in 1...3 {
                // The harness client is connected again before the broker goes away.
                #expect(await harness.client.waitForConnection(count: round, timeout: .seconds(30)))
                await harness.broker.stop()
                // The daemon has noticed this outage (and applied its policy, `continue`).
                #expect(await Self.waitForLog(harness, "MQTT link lost", count: round))
                #expect(harness.chip.value(line: GatewayHarness.redLine) == 1, "round \(round): line off during outage")
                #expect(harness.chip.value(line: GatewayHarness.masterLine) == 1)
                try await harness.broker.start()

                // A brand-new subscriber of the restarted broker: online, current state, no stale will.
                // Retain-as-published, so a retained message keeps its flag even when it arrives live.
                let fresh = try TestClient(port: harness.broker.port) {
                    $0.subscriptions = [MQTTSubscription(filter: "\(harness.base)/#", retainAsPublished: true)]
                }
                let online = try await fresh.waitForDocumentMessage(
                    StatusDocument.self, topic: "\(harness.base)/status", timeout: .seconds(30), where: \.isOnline)
                #expect(
                    online?.message.retain == true,
                    "round \(round): no retained online after restart; log:\n\(harness.gateway.log)")
                #expect(
                    try fresh.messages(topic: "\(harness.base)/status").allSatisfy { try StatusDocument($0).isOnline })
                let state = try await fresh.waitForDocumentMessage(
                    StateDocument.self, topic: "\(harness.base)/state", timeout: .seconds(30),
                    where: { $0.state == .running })
                #expect(state?.message.retain == true, "round \(round): the current state was not republished")
                #expect(
                    try await fresh.waitForDocument(
                        InfoDocument.self, topic: "\(harness.base)/info", timeout: .seconds(30))
                        != nil)
                await fresh.stop()
                #expect(harness.gateway.isRunning)
            }

            let completed = try await harness.waitForEvent(.completed, timeout: .seconds(60))
            let event = try #require(completed, "no completed event; log:\n\(harness.gateway.log)")
            #expect(event.end?.reason == .duration)
            let elapsed = try #require(event.end?.elapsedSeconds)
            // Ended by the tick after the planned duration: late on a loaded machine, never early.
            #expect(elapsed >= planned - 0.2 && elapsed <= planned + 3, "elapsed \(elapsed) vs planned \(planned)")
            #expect(await harness.linesRead(0))
        }
    }

    @Test func brokerAbsentAtStartup_gatewayConnectsOnceItAppears_withoutARestart_andOutputsStayOff() async throws {
        try await GatewayHarness.with(brokerUpAtStart: false) { harness in
            #expect(await harness.linesRead(0), "outputs not requested OFF at boot")
            // Three failed connection attempts without a broker: the daemon keeps running and retrying,
            // lines off all along.
            var linesStayedOff = true
            let retried = await TestClient.poll(timeout: .seconds(60)) {
                linesStayedOff = linesStayedOff && harness.chip.value(line: GatewayHarness.redLine) == 0
                return !harness.gateway.isRunning || Self.count("MQTT connect to", in: harness.gateway.log) >= 3
            }
            #expect(
                retried && harness.gateway.isRunning,
                "the daemon gave up without a broker; log:\n\(harness.gateway.log)")
            #expect(linesStayedOff)
            let pid = harness.gateway.pid
            try await harness.broker.start()
            #expect(await harness.client.waitForConnection(timeout: .seconds(30)))
            #expect(
                try await harness.waitForOnline(timeout: .seconds(60)),
                "never came online; log:\n\(harness.gateway.log)")
            #expect(harness.gateway.pid == pid && harness.gateway.isRunning)
            let started = try await harness.command(CommandRequest(id: "late", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
        }
    }

    @Test func brokerOutage_withPolicyStop_stopsTheSession() async throws {
        try await GatewayHarness.with(overrides: ["policy.on_link_loss=stop"]) { harness in
            let started = try await harness.command(CommandRequest(id: "k1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            await harness.broker.stop()
            harness.client.clearMessages()
            #expect(await harness.linesRead(0, timeout: .seconds(30)), "link loss with policy stop left the lines on")
            try await harness.broker.start()
            #expect(try await harness.waitForOnline())
            // The `aborted` event was queued while offline and sent on reconnecting, possibly before this
            // client had subscribed again; the ledger is where the reason is certain.
            let history = try await ProcessRunner.run(
                GatewayProcess.executablePath, ["history", "--config", harness.configPath])
            #expect(history.contains("link_loss"), "history:\n\(history)")
            let state = try await harness.waitForState { $0.state != .running && $0.state != .paused }
            #expect(state != nil && state?.sessionID == nil, "\(String(describing: state))")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }

    @Test func brokerOutage_withPolicyPause_pausesTheSession_andItStaysPausedAfterReconnecting() async throws {
        try await GatewayHarness.with(overrides: ["policy.on_link_loss=pause"]) { harness in
            let started = try await harness.command(CommandRequest(id: "q1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            await harness.broker.stop()
            #expect(await harness.linesRead(0, timeout: .seconds(30)), "link loss with policy pause left the lines on")
            try await harness.broker.start()
            #expect(try await harness.waitForOnline())
            // The `paused` event was queued while offline and may have been sent before this client
            // subscribed again; the daemon logs every event it publishes.
            #expect(
                await TestClient.poll(timeout: .seconds(30)) {
                    harness.gateway.log.contains(#""event":"paused""#) && harness.gateway.log.contains("link_loss")
                }, "log:\n\(harness.gateway.log)")
            let state = try await harness.waitForState(.paused)
            #expect(state != nil)
            try await harness.barrier()
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0, "resumed on its own after reconnecting")
            let resumed = try await harness.command(CommandRequest(id: "q2", command: "resume"))
            #expect(resumed.ok, "\(resumed)")
            #expect(await harness.linesRead(1))
        }
    }

    @Test func sessionEndingWhileTheBrokerIsDown_stillEndsOnTime_andTheStateIsCurrentAfterReconnecting() async throws {
        try await GatewayHarness.with { harness in
            // 6 s: the broker is down well before the session ends, however loaded the machine.
            let started = try await harness.command(CommandRequest(id: "e1", command: "start", args: ["duration_s": 6]))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            await harness.broker.stop()
            harness.client.clearMessages()
            // No broker, no commands: the core alone ends the session at its planned duration.
            #expect(await harness.linesRead(0, timeout: .seconds(20)), "the session outlived its duration offline")
            try await harness.broker.start()
            #expect(try await harness.waitForOnline())
            let state = try await harness.waitForState { $0.state == .idle || $0.state == .cooldown }
            #expect(state != nil && state?.sessionID == nil, "\(String(describing: state))")
            #expect(state?.sessions24h == 1)
            let history = try await ProcessRunner.run(
                GatewayProcess.executablePath, ["history", "--config", harness.configPath])
            #expect(history.contains("duration"), "history:\n\(history)")
        }
    }

    @Test func sigtermWhileTheBrokerIsDown_shutsDownPromptly_withTheLinesOff() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(CommandRequest(id: "x1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            await harness.broker.stop()
            #expect(await Self.waitForLog(harness, "MQTT link lost", count: 1))
            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit(timeout: .seconds(30)) == 0, "log:\n\(harness.gateway.log)")
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)))
        }
    }

    /// A broker that stops answering without closing the connection (a frozen host, a dead NAT entry):
    /// no TCP close tells the gateway, only the MQTT keepalive (5 s here) can, and then the link-loss
    /// policy applies.
    @Test func frozenBroker_halfOpenLinkIsDetectedByKeepalive_andThePolicyApplies() async throws {
        try await GatewayHarness.with(overrides: ["policy.on_link_loss=stop"]) { harness in
            let started = try await harness.command(CommandRequest(id: "z1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            let pid = try #require(Self.pid(ofProcessWithArgument: harness.broker.directory.file("mosquitto.conf")))
            kill(pid, SIGSTOP)
            // Keepalive 5 s: a PINGREQ after 5 s without traffic from the broker, the link declared lost
            // when it stays unanswered; allow generous slack.
            let off = await harness.linesRead(0, timeout: .seconds(40))
            kill(pid, SIGCONT)
            #expect(off, "a frozen broker was never noticed; log:\n\(harness.gateway.log)")
            #expect(harness.gateway.log.contains("link lost"), "log:\n\(harness.gateway.log)")
            #expect(try await harness.waitForOnline(timeout: .seconds(60)), "no reconnect after the broker thawed")
        }
    }

    /// Waits until the daemon's log holds `text` at least `count` times.
    static func waitForLog(_ harness: GatewayHarness, _ text: String, count: Int) async -> Bool {
        await TestClient.poll(timeout: .seconds(60)) { Self.count(text, in: harness.gateway.log) >= count }
    }

    static func count(_ text: String, in log: String) -> Int {
        log.components(separatedBy: text).count - 1
    }

    /// The pid of the process whose command line contains `argument` (the broker's unique config path).
    static func pid(ofProcessWithArgument argument: String) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.contains(argument) { return pid }
        }
        return nil
    }
}
