import Foundation
import GatewayProtocol
import MQTT
import SafetyCore
import TestKit
import TestSupport

enum StorageFault: String, CaseIterable {
    case readOnly = "read-only"
    case diskFull = "disk-full"
    case truncated = "truncated"
}

/// The ledger's file system goes read-only or full, or its file is truncated. Each case has one
/// expected outcome, its message checked: a read-only or truncated ledger makes the daemon refuse to
/// start (non-zero exit, the log naming the problem, lines off); a full disk while a session runs
/// latches `F_STORAGE` with the lines off within ``diskFullBound`` and refuses the next start, with
/// the history already booked still readable.
enum StorageScenarios {
    /// From filling the disk to the lines off: the next checkpoint write (every 5 s while emitting)
    /// fails with SQLITE_FULL, plus the loop's write bound (2 s) and 1 s of slack.
    static let diskFullBound = 8.0
    /// From the fault's detection to the lines off, as the daemon's own `fault_raised` reports it.
    static let detectionToOffBound = 0.1
    /// A ledger the daemon cannot use is a run-time refusal, not a configuration problem (exit 2).
    static let refusalExitStatus: Int32 = 1

    static func run(_ fault: StorageFault) async throws -> String? {
        let mount = try TemporaryDirectory(prefix: "rlt-store")
        let mounted = await shell("mount -t tmpfs -o size=\(fault == .diskFull ? "512k" : "8m") tmpfs '\(mount.path)'")
        guard mounted.status == 0 else {
            mount.remove()
            throw Failure("cannot mount a tmpfs for the ledger (needs CAP_SYS_ADMIN): \(mounted.output)")
        }
        defer {
            _ = Glibc.umount2(mount.path, Int32(MNT_DETACH))
            mount.remove()
        }
        return try await withPanel(storagePath: mount.file("ledger.sqlite")) { panel in
            try await panel.startGateway()
            // Book one short session first: this is the history that must never be lost.
            let booked = try await Self.completedSession(panel, seconds: 2)
            switch fault {
            case .readOnly:
                // A file system cannot go read-only under a file open for writing (EBUSY), so the
                // daemon is stopped, the ledger's file system remounted read-only, and restarted.
                await panel.gateway?.terminate()
                let remount = await shell("mount -o remount,ro '\(mount.path)'")
                try require(remount.status == 0, "remount read-only failed: \(remount.output)")
                // SQLite cannot create the -shm file on a read-only mount, so the daemon reports
                // SQLITE_CANTOPEN ("cannot be opened …, writable"), not its own "is read-only".
                return try await Self.restartMustRefuse(
                    panel, label: "read-only", naming: "ledger \(panel.storagePath) cannot be opened",
                    advice: "the file and its directory are writable")
            case .diskFull:
                return try await Self.diskFullWhileRunning(panel, booked: booked, filler: mount.file("filler"))
            case .truncated:
                panel.gateway?.signal(SIGTERM)
                _ = await panel.gateway?.waitForExit()
                let path = panel.storagePath
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                _ = await shell("rm -f '\(path)-wal' '\(path)-shm'; truncate -s \(size / 2) '\(path)'")
                return try await Self.restartMustRefuse(
                    panel, label: "truncated to \(size / 2) bytes", naming: "ledger \(path) is corrupt",
                    advice: "restore it from a backup or move it aside to start a new history — the dose history "
                        + "will NOT be reset silently")
            }
        }
    }

    /// Runs a session to its `completed` event and returns the 24 h dose then.
    static func completedSession(_ panel: Panel, seconds: Double) async throws -> Double {
        panel.client.clearMessages()
        let response = try await panel.start(duration: seconds)
        try require(response?.ok == true, "start refused: \(String(describing: response))")
        let ended = await panel.client.waitForMessage(topic: "\(panel.base)/event", timeout: .seconds(seconds + 30)) {
            $0.payloadText.contains(#""completed""#)
        }
        guard let ended else { throw Failure("no completed event within \(seconds + 30) s of a \(seconds) s session") }
        let event = try Panel.read(ended, EventDocument.init(json:))
        try require(event.kind == .completed, "expected a completed event, got \(ended.payloadText.prefix(200))")
        let snapshot = try await panel.snapshot()
        let dose = (snapshot?.dose24h ?? -1)
        try require(dose >= seconds * Panel.dosePerSecond * 0.9, "booked dose \(dose) too low")
        return dose
    }

    /// Fills the ledger's file system while a session emits: `F_STORAGE` must latch with the lines
    /// off within ``diskFullBound``, the next start must be refused as a latched fault naming `F_STORAGE`, and
    /// the booked history must still be there.
    static func diskFullWhileRunning(_ panel: Panel, booked: Double, filler: String) async throws -> String {
        let rested = try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            try await panel.snapshot()?.state == .idle
        }
        try require(rested, "the panel never came back to idle after the first session")
        let response = try await panel.start(duration: 60)
        try require(response?.ok == true, "start refused before the disk was full: \(String(describing: response))")
        try require(await panel.chip.waitForValue(line: Panel.red, 1, timeout: .seconds(5)), "session did not emit")
        panel.client.clearMessages()
        let filled = ContinuousClock.now
        _ = await shell("dd if=/dev/zero of='\(filler)' bs=4k 2>/dev/null; sync")
        defer { try? FileManager.default.removeItem(atPath: filler) }
        let raised = await panel.client.waitForMessage(
            topic: "\(panel.base)/event", timeout: .seconds(Self.diskFullBound + 5)
        ) { $0.payloadText.contains("F_STORAGE") }
        let off = await panel.secondsUntilLinesOff(timeout: 0)
        let elapsed = Panel.seconds(ContinuousClock.now - filled)
        guard let raised else {
            throw Failure(
                "no F_STORAGE within \(Self.diskFullBound + 5) s of the disk filling; lines \(panel.linesOff ? "off" : "ON"); "
                    + "log:\n\(panel.logTail)")
        }
        let event = try Panel.read(raised, EventDocument.init(json:))
        try require(event.faultCode == .storage, "expected F_STORAGE, got \(raised.payloadText.prefix(200))")
        try require(off != nil, "F_STORAGE raised but a line is still on")
        try require(
            elapsed <= Self.diskFullBound,
            String(format: "F_STORAGE and lines off %.2f s after the disk filled, bound %.1f s", elapsed, Self.diskFullBound))
        var reaction: Double?
        if case .faultRaised(let raisedFault) = event.event, let offAt = raisedFault.outputsOffMonoNs {
            reaction = Double(offAt - raisedFault.detectedMonoNs) / 1e9
        }
        try require(
            reaction.map { $0 <= Self.detectionToOffBound } == true,
            "outputs off \(reaction ?? -1) s after F_STORAGE was detected (bound \(Self.detectionToOffBound) s)")
        let refused = try await panel.start(duration: 5)
        try require(
            refused?.ok == false && refused?.code == .faultActive && refused?.message.contains("F_STORAGE") == true,
            "start with F_STORAGE latched: expected E_FAULT_ACTIVE naming F_STORAGE, got \(String(describing: refused))")
        try require(panel.linesOff, "lines on after a refused start with F_STORAGE")
        let snapshot = try await panel.snapshot()
        try require(snapshot?.faults.contains(.storage) == true, "F_STORAGE not in the state: \(String(describing: snapshot?.faults))")
        let dose = snapshot?.dose24h ?? -1
        try require(dose + 1e-6 >= booked, "history lost with the disk full (dose_24h \(dose) < booked \(booked))")
        return String(
            format: "F_STORAGE and lines off %.2f s after the disk filled (outputs off %.4f s after detection); "
                + "start refused: %@",
            elapsed, reaction ?? -1, String((refused?.message ?? "").prefix(80)))
    }

    /// Restarts the daemon on a damaged ledger: it must refuse to start (exit non-zero, never online),
    /// its last ledger log line critical, naming the problem (`naming`) and what to do (`advice`), and the
    /// lines off.
    static func restartMustRefuse(
        _ panel: Panel, label: String, naming: String, advice: String
    ) async throws -> String {
        await panel.gateway?.terminate()
        panel.client.clearMessages()
        let gateway = try GatewayProcess(configPath: panel.configPath)
        panel.gateway = gateway
        let exit = await gateway.waitForExit(timeout: .seconds(30))
        try require(exit != nil, "\(label): the daemon kept running; log:\n\(panel.logTail)")
        try require(exit == Self.refusalExitStatus, "\(label): exit \(exit ?? -1), expected \(Self.refusalExitStatus); log:\n\(panel.logTail)")
        try require(!(try panel.hasSeenOnline()), "\(label): the daemon came online before refusing")
        try require(panel.linesOff, "\(label): lines on after a refused start")
        let line = gateway.log.split(separator: "\n").last { $0.contains("ledger") }.map(String.init) ?? ""
        try require(
            line.contains("critical") && line.contains(naming) && line.contains(advice),
            "\(label): no critical log line with \"\(naming)\" and \"\(advice)\"; log:\n\(panel.logTail)")
        return "\(label): refused to start (exit \(exit ?? -1)): \(line.suffix(160))"
    }
}
