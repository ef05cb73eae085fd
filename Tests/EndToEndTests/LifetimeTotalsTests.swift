import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import TestKit
import TestSupport
import Testing

/// `state`'s `lifetime` (issue 15, added in 0.2): the ledger's totals reach the retained state when a
/// session ends, survive a restart of the daemon and go on growing with the next session.
@Suite(.timeLimit(.minutes(10)))
struct LifetimeTotalsTests {
    /// One fast tick (`TickPace.fast`) and the 0.1 s the documents round to: what a session's emitting
    /// time in the ledger may differ from its reported elapsed time.
    static let tickAndRounding = 0.05 + 0.1

    /// Starts a session of `seconds` and returns how it ended, as the `completed` event says.
    static func runSession(_ harness: GatewayHarness, id: String, seconds: Int) async throws -> EventDocument.End {
        let started = try await harness.command(
            CommandRequest(id: id, command: "start", args: ["duration_s": .number(Double(seconds))]))
        try #require(started.ok, "\(started)")
        let completed = try await harness.waitForEvent(.completed, timeout: .seconds(30 + Double(seconds)))
        return try #require(completed?.end, "no completed event; log:\n\(harness.gateway.log)")
    }

    /// What the ledger file holds, J/cm²: the session's booked dose and the light booked outside any
    /// session. The core counts the moment between a turn-off and its readback at full duty (S9, errs
    /// high), and that light comes after the session closed: it is in the totals, not in the session.
    static func booked(_ harness: GatewayHarness, session: String) async throws -> (session: Double, outside: Double) {
        let output = try await ProcessRunner.run(
            "/usr/bin/sqlite3",
            [
                harness.directory.file("ledger.sqlite"),
                """
                SELECT (SELECT dose_total_j_cm2 FROM session WHERE id = '\(session)'),
                    (SELECT COALESCE(SUM(dose_j_cm2), 0) FROM dose_slice WHERE session_id IS NULL)
                """,
            ])
        let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").compactMap {
            Double($0)
        }
        try #require(fields.count == 2, "ledger rows: \(output)")
        return (fields[0], fields[1])
    }

    /// As the documents round doses.
    static func published(_ dose: Double) -> Double { (dose * 1000).rounded() / 1000 }

    @Test func lifetimeTotals_countTheSession_surviveARestart_andGrowWithTheNext() async throws {
        try await GatewayHarness.with { harness in
            // A new ledger: the totals are there from the first state, at zero.
            let fresh = try await harness.barrier()
            #expect(fresh.lifetime == LifetimeDocument(dose: 0, emittingSeconds: 0), "\(fresh)")

            let first = try await Self.runSession(harness, id: "life-1", seconds: 2)
            #expect(first.dose.total > 0, "\(first)")
            // The retained state (what Home Assistant reads) carries the session's booking once it ended.
            let ended = try #require(
                try await harness.waitForState(timeout: .seconds(10)) { ($0.lifetime?.dose ?? 0) > 0 },
                "no state with lifetime totals; log:\n\(harness.gateway.log)")
            let afterFirst = try #require(ended.lifetime)
            let booked = try await Self.booked(harness, session: first.sessionID)
            // The ledger booked the session at the dose it reported, and the totals are exactly that
            // plus the light outside it: every slice.
            #expect(abs(Self.published(booked.session) - first.dose.total) < 1e-9, "\(booked) \(first)")
            #expect(abs(afterFirst.dose - Self.published(booked.session + booked.outside)) < 1e-9, "\(afterFirst) \(booked)")
            // On a new ledger everything is within the last 24 h: the core's window says the same.
            #expect(abs(afterFirst.dose - ended.dose24h) < 1e-9, "\(afterFirst) 24 h \(ended.dose24h)")
            #expect(afterFirst.emittingSeconds >= first.elapsedSeconds - Self.tickAndRounding, "\(afterFirst) \(first)")
            #expect(afterFirst.emittingSeconds <= first.elapsedSeconds + Self.tickAndRounding, "\(afterFirst) \(first)")

            // A restart: the first state of the new run already has the ledger's totals. The old run's
            // last state (published as it shut down) is dropped, so the one read is the new run's.
            await harness.gateway.terminate()
            harness.client.clearMessages()
            try await harness.restartGateway()
            #expect(try await harness.waitForOnline(), "log:\n\(harness.gateway.log)")
            let booted = try #require(
                try await harness.waitForState(where: { _ in true }), "no state after the restart")
            #expect(booted.lifetime == afterFirst, "after the restart: \(String(describing: booted.lifetime))")
            #expect(try await harness.waitUntilReady(), "log:\n\(harness.gateway.log)")
            try await harness.waitForSnapshot("idle after the cooldown", timeout: .seconds(30)) { $0.state == .idle }

            // The next session adds to them.
            let second = try await Self.runSession(harness, id: "life-2", seconds: 2)
            let grown = try #require(
                try await harness.waitForState(timeout: .seconds(10)) { ($0.lifetime?.dose ?? 0) > afterFirst.dose },
                "the totals did not grow; log:\n\(harness.gateway.log)")
            let afterSecond = try #require(grown.lifetime)
            let bookedSecond = try await Self.booked(harness, session: second.sessionID)
            #expect(abs(Self.published(bookedSecond.session) - second.dose.total) < 1e-9, "\(bookedSecond) \(second)")
            #expect(
                abs(afterSecond.dose - Self.published(booked.session + bookedSecond.session + bookedSecond.outside))
                    < 1e-9,
                "\(afterSecond) \(booked) \(bookedSecond)")
            #expect(abs(afterSecond.dose - grown.dose24h) < 1e-9, "\(afterSecond) 24 h \(grown.dose24h)")
            #expect(
                afterSecond.emittingSeconds >= afterFirst.emittingSeconds + second.elapsedSeconds - Self.tickAndRounding,
                "\(afterSecond) \(second)")
        }
    }
}
