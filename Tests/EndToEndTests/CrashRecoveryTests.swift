import Foundation
import GatewayProtocol
import MQTT
import TestKit
import TestSupport
import Testing

/// `kill -9` mid-session (issue 6): the broker announces the loss, and the next start turns the
/// outputs off before anything else, books the aborted session and latches `F_UNCLEAN_SHUTDOWN`.
@Suite(.timeLimit(.minutes(10)))
struct CrashRecoveryTests {
    @Test func killedMidSession_restartTurnsOutputsOffFirst_booksTheSession_andLatchesUncleanShutdown() async throws {
        try await GatewayHarness.with { harness in
            let started = try await harness.command(
                CommandRequest(id: "k1", command: "start", args: ["duration_s": 60]))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            let running = try await harness.waitForState { $0.state == .running }
            let sessionID = try #require(running?.sessionID)
            // Two seconds of light delivered (by the daemon's own account) before the crash.
            try await harness.waitForElapsed(2)

            // Crash: the broker sees the socket close and publishes the will.
            harness.client.clearMessages()
            harness.gateway.signal(SIGKILL)
            #expect(await harness.gateway.waitForExit() == nil, "killed by a signal, no exit code")
            let will = try await harness.waitFor(StatusDocument.self, on: .status) { !$0.isOnline }
            let lwt = try #require(will, "no LWT after kill -9")
            #expect(lwt.offlineReason == "connection_lost")
            // …and retained it, so a dashboard that subscribes later also sees the panel offline.
            let later = try TestClient(port: harness.broker.port, subscriptions: ["\(harness.base)/status"])
            let retained = try await later.waitForDocumentMessage(StatusDocument.self, topic: "\(harness.base)/status")
            await later.stop()
            #expect(retained?.message.retain == true)
            #expect(retained?.document.offlineReason == "connection_lost", "\(String(describing: retained))")

            // Restart without a broker: the lines must be driven off before any connection exists.
            await harness.broker.stop()
            try await harness.restartGateway()
            #expect(await harness.linesRead(0), "restart did not turn the outputs off; log:\n\(harness.gateway.log)")
            #expect(harness.gateway.isRunning)

            try await harness.broker.start()
            #expect(try await harness.waitForOnline(timeout: .seconds(60)), "log:\n\(harness.gateway.log)")

            // The ledger holds the crashed session, closed as aborted(unclean_shutdown) by the boot
            // recovery (the broker was down only briefly: another test process may take a free port).
            var history = ""
            _ = try await eventually(timeout: .seconds(20), every: .milliseconds(100)) {
                history = try await ProcessRunner.run(
                    GatewayProcess.executablePath, ["history", "--config", harness.configPath])
                return history.contains("unclean_shutdown")
            }
            #expect(history.contains("unclean_shutdown"), "history:\n\(history)")
            let rows = try await ProcessRunner.run(
                "/usr/bin/sqlite3",
                [harness.directory.file("ledger.sqlite"), "SELECT id, end_reason, dose_total_j_cm2 FROM session"])
            #expect(rows.contains(sessionID) && rows.contains("unclean_shutdown"), "ledger rows:\n\(rows)")

            let latched = try await harness.waitForState(timeout: .seconds(20)) {
                $0.faults.contains(.uncleanShutdown)
            }
            let state = try #require(latched, "F_UNCLEAN_SHUTDOWN not latched; log:\n\(harness.gateway.log)")
            #expect(state.state == .fault)
            #expect(state.sessions24h == 1, "\(state)")
            // Conservatively booked: at least what ran (2 s of 90 mW/cm²), at most the plan's 5.4 J/cm².
            let dose24h = state.dose24h
            #expect(dose24h >= 0.18 && dose24h <= 5.4 + 0.001, "dose_24h_j_cm2 \(dose24h)")
            #expect(state.emitting == false)

            harness.client.clearMessages()
            let blocked = try await harness.command(CommandRequest(id: "k2", command: "start"))
            #expect(blocked.code == .faultActive, "\(blocked)")
            let ack = try await harness.command(
                CommandRequest(id: "k3", command: "ack", args: ["fault": "F_UNCLEAN_SHUTDOWN"]))
            #expect(ack.ok, "\(ack)")
            #expect(try await harness.waitForEvent(.faultCleared) { $0.faultCode == .uncleanShutdown } != nil)
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)), "ack never starts emission")
            let after = try await harness.waitForState { $0.faults.isEmpty && $0.state == .idle }
            #expect(after?.sessions24h == 1)
            let again = try await harness.command(CommandRequest(id: "k4", command: "start", args: ["duration_s": 5]))
            #expect(again.ok, "\(again)")
        }
    }

    @Test func sigterm_midSession_endsItCleanly_soTheNextStartLatchesNothing_andKeepsThePresets() async throws {
        try await GatewayHarness.with { harness in
            let set = try await harness.command(CommandRequest(id: "g0", command: "set", args: ["duration_s": 42]))
            #expect(set.ok, "\(set)")
            let started = try await harness.command(CommandRequest(id: "g1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            #expect(await harness.linesRead(0, timeout: .milliseconds(1)), "graceful stop left a line on")
            let offline = try await harness.waitFor(StatusDocument.self, on: .status) { !$0.isOnline }
            #expect(offline?.offlineReason == "shutdown")

            harness.client.clearMessages()
            try await harness.restartGateway()
            #expect(try await harness.waitForOnline())
            #expect(try await harness.waitUntilReady())
            let state = try await harness.waitForState { $0.sessions24h == 1 }
            #expect(state?.faults == [], "\(String(describing: state))")
            #expect(state?.presets.durationSeconds == 42, "presets not persisted")
            let history = try await ProcessRunner.run(
                GatewayProcess.executablePath, ["history", "--config", harness.configPath])
            #expect(history.contains("shutdown") && !history.contains("unclean"), "history:\n\(history)")
        }
    }

    @Test func killedMidSession_withLatchOnUncleanRestartOff_booksTheSessionButLatchesNothing() async throws {
        try await GatewayHarness.with(overrides: ["policy.latch_on_unclean_restart=false"]) { harness in
            let started = try await harness.command(CommandRequest(id: "n1", command: "start"))
            #expect(started.ok, "\(started)")
            #expect(await harness.linesRead(1))
            harness.gateway.signal(SIGKILL)
            _ = await harness.gateway.waitForExit()
            harness.client.clearMessages()
            try await harness.restartGateway()
            #expect(await harness.linesRead(0))
            #expect(try await harness.waitForOnline())
            #expect(try await harness.waitUntilReady())
            let state = try await harness.waitForState { $0.sessions24h == 1 }
            #expect(state?.faults == [], "\(String(describing: state))")
            #expect((state?.dose24h ?? 0) > 0)
            // The crashed session counts as ending at recovery, so the (1 s) rest runs first (S4).
            #expect(try await harness.waitForState { $0.state == .idle } != nil)
            let again = try await harness.command(CommandRequest(id: "n2", command: "start"))
            #expect(again.ok, "\(again)")
        }
    }

    /// S4: the rest period after a session is part of the treatment limits; restarting the daemon
    /// (or a crash) must not skip it.
    @Test(arguments: [SIGTERM, SIGKILL])
    func restartDuringCooldown_stillRefusesStartUntilTheRestIsOver(signal: Int32) async throws {
        try await GatewayHarness.with(overrides: ["limits.cooldown_s=120"]) { harness in
            let started = try await harness.command(CommandRequest(id: "w1", command: "start"))
            #expect(started.ok, "\(started)")
            let stopped = try await harness.command(CommandRequest(id: "w2", command: "stop"))
            #expect(stopped.state == .cooldown, "\(stopped)")
            harness.gateway.signal(signal)
            _ = await harness.gateway.waitForExit()
            try await harness.restartGateway()
            #expect(try await harness.waitForOnline())
            #expect(try await harness.waitUntilReady())
            let again = try await harness.command(CommandRequest(id: "w3", command: "start"))
            // The ledger's last session end carries the rest period (S4) across the restart.
            #expect(again.code == .cooldown, "\(again)")
        }
    }

    /// S3: the rolling 24 h session count comes from the ledger, so a restart does not reset it.
    @Test func dailySessionLimit_survivesARestart() async throws {
        try await GatewayHarness.with(overrides: ["limits.max_daily_sessions=1", "limits.cooldown_s=0"]) { harness in
            let first = try await harness.command(CommandRequest(id: "m1", command: "start", args: ["duration_s": 1]))
            #expect(first.ok, "\(first)")
            #expect(try await harness.waitForEvent(.completed) != nil)
            harness.gateway.signal(SIGTERM)
            #expect(await harness.gateway.waitForExit() == 0)
            try await harness.restartGateway()
            #expect(try await harness.waitForOnline())
            #expect(try await harness.waitUntilReady())
            let second = try await harness.command(CommandRequest(id: "m2", command: "start", args: ["duration_s": 1]))
            #expect(second.code == .doseLimit, "\(second)")
            #expect(harness.chip.value(line: GatewayHarness.redLine) == 0)
        }
    }
}
