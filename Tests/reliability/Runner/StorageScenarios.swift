import Foundation
import TestKit
import TestSupport

enum StorageFault: String, CaseIterable {
    case readOnly = "read-only"
    case diskFull = "disk-full"
    case truncated = "truncated"
}

/// The ledger's file system goes read-only or full, or its file is truncated. Each must end in a
/// clear fault with emission off, or a refusal with a message; history already booked is never
/// silently lost.
enum StorageScenarios {
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
                let note = try await Self.restartMustFaultOrRefuse(panel, booked: booked, label: "read-only")
                _ = await shell("mount -o remount,rw '\(mount.path)'")
                return note
            case .diskFull:
                _ = await shell("dd if=/dev/zero of='\(mount.file("filler"))' bs=4k 2>/dev/null; sync")
                let note = try await Self.startMustFaultOrRefuse(panel, booked: booked, label: "disk full")
                _ = await shell("rm -f '\(mount.file("filler"))'")
                return note
            case .truncated:
                panel.gateway?.signal(SIGTERM)
                _ = await panel.gateway?.waitForExit()
                let path = panel.storagePath
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                _ = await shell("rm -f '\(path)-wal' '\(path)-shm'; truncate -s \(size / 2) '\(path)'")
                return try await Self.restartMustFaultOrRefuse(
                    panel, booked: booked, label: "truncated to \(size / 2) bytes")
            }
        }
    }

    /// Runs a session to its end and returns the 24 h dose then.
    static func completedSession(_ panel: Panel, seconds: Double) async throws -> Double {
        let response = try await panel.start(duration: seconds)
        try require(response?.ok == true, "start refused: \(String(describing: response))")
        await sleep(seconds + 1.5)
        let snapshot = try await panel.snapshot()
        let dose = (snapshot?.dose24h ?? -1)
        try require(dose >= seconds * Panel.dosePerSecond * 0.9, "booked dose \(dose) too low")
        return dose
    }

    /// With the ledger unwritable, a start must be refused, or fault (`F_STORAGE`) with the lines
    /// off within 3 s. Then a restart must refuse or fault too, and show the booked history.
    static func startMustFaultOrRefuse(_ panel: Panel, booked: Double, label: String) async throws -> String {
        let response = try await panel.start(duration: 20)
        var outcome: String
        if response?.ok == true {
            let off = await panel.secondsUntilLinesOff(timeout: 3)
            let snapshot = try await panel.snapshot()
            if ProcessInfo.processInfo.environment["RLT_RELIABILITY_DEBUG"] != nil {
                report("debug: \(String(describing: snapshot))\n\(panel.logTail)")
            }
            if off != nil, snapshot?.faults.contains(.storage) == true {
                outcome = String(format: "F_STORAGE, lines off %.2f s after start", off ?? 0)
            } else {
                // The write may legitimately have succeeded (space left in the WAL): then the
                // session must be booked, which the restart below verifies.
                _ = try await panel.command("stop")
                outcome = "writes still succeeded (no fault needed)"
                try require(off != nil || panel.linesOff, "\(label): still emitting, no F_STORAGE")
                if off == nil { outcome += "; lines on until stop" }
            }
        } else {
            outcome = "start refused: \(response?.code?.rawValue ?? "no response")"
        }
        let restart = try await Self.restartMustFaultOrRefuse(panel, booked: booked, label: label)
        return "\(label): \(outcome); restart: \(restart)"
    }

    /// A restart on a damaged ledger: exits non-zero naming the problem, or runs with
    /// `F_STORAGE` and refuses a start, or runs with the booked history intact.
    static func restartMustFaultOrRefuse(_ panel: Panel, booked: Double, label: String) async throws -> String {
        await panel.gateway?.terminate()
        panel.client.clearMessages()
        let gateway = try GatewayProcess(configPath: panel.configPath)
        panel.gateway = gateway
        let online = await panel.waitForOnline(timeout: .seconds(15))
        if !online {
            let exit = await gateway.waitForExit(timeout: .seconds(5))
            try require(
                exit != nil && exit != 0, "\(label): neither online nor a clean refusal; log:\n\(panel.logTail)")
            try require(panel.linesOff, "\(label): lines on after a refused start")
            let lastLine = panel.logTail.split(separator: "\n").last.map(String.init) ?? ""
            return "refused to start (exit \(exit ?? -1)): \(lastLine.suffix(160))"
        }
        let snapshot = try await panel.snapshot()
        if snapshot?.faults.contains(.storage) == true {
            let response = try await panel.start(duration: 5)
            try require(response?.ok != true, "\(label): F_STORAGE latched yet start accepted")
            try require(panel.linesOff, "\(label): lines on with F_STORAGE")
            return "online with F_STORAGE, start refused"
        }
        let dose = (snapshot?.dose24h ?? -1)
        try require(dose + 1e-6 >= booked, "\(label): history silently lost (dose_24h \(dose) < booked \(booked))")
        return String(format: "online, history intact (%.3f J/cm²)", dose)
    }
}
