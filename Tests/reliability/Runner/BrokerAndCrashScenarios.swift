import Foundation
import GatewayProtocol
import SafetyCore
import TestSupport

enum BrokerScenarios {
    /// The broker is SIGKILLed at a random point of a session and restarted after a random outage.
    /// `continue`: emission goes on to the planned end, never beyond it; `pause`/`stop`: lines off
    /// within the link-loss detection bound (keepalive 5 s × 1.5 + slack). Afterwards the daemon is
    /// back online and answers.
    static func killedMidSession(policy: String) async throws -> String? {
        try await withPanel(extraYAML: "policy: { on_link_loss: \(policy) }") { panel in
            try await panel.startGateway()
            let planned = 12.0
            let response = try await panel.start(duration: planned)
            try require(response?.ok == true, "start refused: \(String(describing: response))")
            let startedAt = ContinuousClock.now
            await sleep(Double.random(in: 0.2...2.5))
            panel.broker.kill()
            var offAfter: Double?
            if policy != "continue" {
                // libmosquitto notices a dead TCP peer at once (RST); allow the keepalive bound too.
                offAfter = await panel.secondsUntilLinesOff(timeout: 9)
                try require(offAfter != nil, "policy \(policy): lines still on 9 s after the broker died")
            } else {
                await sleep(1.0)
                try require(panel.anyLineOn, "policy continue: emission stopped when the broker died")
            }
            await sleep(Double.random(in: 0.5...2.0))
            try await panel.broker.start()
            try require(await panel.waitForOnline(), "daemon not back online after the broker restart")
            let snapshot = try await panel.snapshot()
            let state = snapshot?.state
            switch policy {
            case "continue":
                // Never extended: off by the planned end (+ tick and readback slack).
                let endBound = planned + 1.5 - Panel.seconds(ContinuousClock.now - startedAt)
                try require(
                    await panel.secondsUntilLinesOff(timeout: max(0.1, endBound)) != nil,
                    "policy continue: still emitting past the planned end")
            case "pause":
                try require(state == .paused, "policy pause: state \(String(describing: state)) after reconnect")
                try require(panel.linesOff, "policy pause: lines on after reconnect")
            default:
                try require(state != .running && state != .paused, "policy stop: state \(String(describing: state))")
                try require(panel.linesOff, "policy stop: lines on after reconnect")
            }
            return offAfter.map { "lines off \(String(format: "%.2f", $0)) s after the broker died" }
        }
    }
}

enum CrashPoint: String, CaseIterable {
    case beforeStart = "before-start"
    case midSession = "mid-session"
    case duringShutdown = "during-shutdown"
}

enum CrashScenarios {
    /// `kill -9` at a random point, then a restart: outputs off before the daemon says online,
    /// the ledger passes SQLite's integrity check, the 24 h dose is never below what was emitted.
    static func kill9(at point: CrashPoint) async throws -> String? {
        try await withPanel { panel in
            var emittedLowerBound = 0.0
            switch point {
            case .beforeStart:
                panel.client.clearMessages()
                let gateway = try GatewayProcess(configPath: panel.configPath)
                panel.gateway = gateway
                await sleep(Double.random(in: 0.0...0.4))
                gateway.signal(SIGKILL)
                _ = await gateway.waitForExit()
            case .midSession:
                try await panel.startGateway()
                let response = try await panel.start(duration: 30)
                try require(response?.ok == true, "start refused: \(String(describing: response))")
                let started = ContinuousClock.now
                await sleep(Double.random(in: 0.5...4))
                panel.gateway?.signal(SIGKILL)
                emittedLowerBound = Panel.seconds(ContinuousClock.now - started) * Panel.dosePerSecond
                _ = await panel.gateway?.waitForExit()
                try require(panel.anyLineOn, "simulated lines should stay where the dead process left them")
            case .duringShutdown:
                try await panel.startGateway()
                let response = try await panel.start(duration: 30)
                try require(response?.ok == true, "start refused: \(String(describing: response))")
                let started = ContinuousClock.now
                await sleep(Double.random(in: 0.5...2))
                panel.gateway?.signal(SIGTERM)
                emittedLowerBound = Panel.seconds(ContinuousClock.now - started) * Panel.dosePerSecond
                await sleep(Double.random(in: 0.0...0.08))
                panel.gateway?.signal(SIGKILL)
                _ = await panel.gateway?.waitForExit()
            }
            // Restart; watch the lines from the first instant and note them when `online` arrives.
            panel.client.clearMessages()
            let gateway = try GatewayProcess(configPath: panel.configPath)
            panel.gateway = gateway
            var linesAtOnline: Bool?
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline, gateway.isRunning {
                if try panel.hasSeenOnline() {
                    linesAtOnline = panel.linesOff
                    break
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            try require(linesAtOnline != nil, "restarted daemon never came online; log:\n\(panel.logTail)")
            try require(linesAtOnline == true, "a line was still on when the restarted daemon said online")
            let snapshot = try await panel.snapshot()
            try require(snapshot != nil, "no get response after restart")
            let dose = (snapshot?.dose24h ?? -1)
            try require(
                dose + 1e-6 >= emittedLowerBound,
                "dose_24h \(dose) J/cm² below the emitted lower bound \(emittedLowerBound)")
            if point == .midSession {
                try require(
                    snapshot?.faults.contains(.uncleanShutdown) == true,
                    "no F_UNCLEAN_SHUTDOWN after a crash mid-session: \(snapshot?.faults ?? [])")
                try require((snapshot?.sessions24h ?? -1) >= 1, "the crashed session is not counted")
            }
            let integrity = await shell("sqlite3 '\(panel.storagePath)' 'PRAGMA integrity_check;'")
            try require(
                integrity.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok",
                "ledger integrity: \(integrity.output)")
            return String(format: "dose_24h %.3f ≥ emitted %.3f J/cm²", dose, emittedLowerBound)
        }
    }
}
