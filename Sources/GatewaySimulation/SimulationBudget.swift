import Foundation
import TestKit

/// Many seeded runs and their totals: what `swift test` runs on every CI run and `rlt-sim` runs for
/// as long as asked.
package struct SimulationReport: Sendable {
    package var firstSeed: UInt64
    package var runs = 0
    package var simulatedSeconds = 0.0
    package var steps = 0
    package var checks = 0
    package var sessions = 0
    package var litSeconds = 0.0
    package var faults: [FaultKind: Int] = [:]
    package var failures: [SimulationResult] = []
    package var wallSeconds = 0.0
    package var tolerated: Set<KnownDefect> = []

    package init(firstSeed: UInt64) {
        self.firstSeed = firstSeed
    }

    mutating func add(_ result: SimulationResult) {
        self.runs += 1
        self.simulatedSeconds += result.simulatedSeconds
        self.steps += result.steps
        self.checks += result.checks
        self.sessions += result.sessions
        self.litSeconds += result.litSeconds
        for (kind, count) in result.faults { self.faults[kind, default: 0] += count }
        if result.violation != nil { self.failures.append(result) }
    }

    /// The closing summary: seed range, runs, simulated hours, faults per kind, checks, wall time.
    package var summary: String {
        let lastSeed = self.firstSeed &+ UInt64(max(1, self.runs)) &- 1
        var lines = [
            "simulation: seeds \(self.firstSeed)…\(lastSeed), \(self.runs) runs, "
                + String(
                    format: "%.1f simulated hours (%.1f h emitting)", self.simulatedSeconds / 3600,
                    self.litSeconds / 3600)
                + ", \(self.sessions) sessions, \(self.steps) steps, \(self.checks) invariant checks, "
                + String(format: "%.1f s wall", self.wallSeconds),
            "faults injected: "
                + self.faults.sorted { $0.key < $1.key }.map { "\($0.key.rawValue)=\($0.value)" }
                .joined(separator: " "),
            "tolerated known defects: "
                + (self.tolerated.isEmpty ? "none" : self.tolerated.map(\.rawValue).sorted().joined(separator: ", ")),
        ]
        for failure in self.failures.prefix(5) {
            lines.append("VIOLATION seed \(failure.seed): \(failure.violation ?? "")")
            lines.append("  reproduce: SIM_SEED=\(failure.seed) SIM_RUNS=1; last steps:")
            lines += failure.trail.suffix(15).map { "    \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}

package enum SimulationBudget {
    /// How long the run of `seed` simulates: one seed in 500 twenty-seven hours (a session paused for
    /// a day, resumed, then heavy use: the 24 h window after a long absence), one in 40 two hours
    /// (long pauses, the window's edges after wall-clock jumps), the others one to six minutes.
    package static func duration(seed: UInt64) -> Double {
        var random = SplitMix64(seed: seed ^ 0xD0_D0_D0)
        if seed % 500 == 0 { return 27 * 3600 }
        return seed % 40 == 0 ? 2 * 3600 : random.seconds(60...360)
    }

    /// A RAM disk when there is one, so SQLite's `fsync` costs nothing; the simulated disk decides
    /// what is slow.
    package static var directory: String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue {
            return "/dev/shm"
        }
        return NSTemporaryDirectory()
    }

    /// Runs seeds `firstSeed`, `firstSeed + 1`, … until `runs` are done or `wallSeconds` have passed.
    package static func run(
        firstSeed: UInt64, runs: Int, wallSeconds: Double = .infinity,
        tolerated: Set<KnownDefect> = KnownDefect.openOnThisBranch, stopAtFirstFailure: Bool = false,
        progress: ((SimulationReport) -> Void)? = nil
    ) -> SimulationReport {
        var report = SimulationReport(firstSeed: firstSeed)
        report.tolerated = tolerated
        let started = Date()
        let directory = Self.directory + "/rlt-sim-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var index: UInt64 = 0
        while report.runs < runs, Date().timeIntervalSince(started) < wallSeconds {
            let seed = firstSeed &+ index
            index += 1
            var options = SimulationOptions(seed: seed, duration: Self.duration(seed: seed), directory: directory)
            options.tolerated = tolerated
            do {
                report.add(try Simulation(options: options).run())
            } catch {
                var failed = SimulationResult(seed: seed)
                failed.violation = "the simulation could not start: \(error)"
                report.add(failed)
            }
            report.wallSeconds = Date().timeIntervalSince(started)
            if report.runs % 100 == 0 { progress?(report) }
            if stopAtFirstFailure, !report.failures.isEmpty { break }
        }
        report.wallSeconds = Date().timeIntervalSince(started)
        return report
    }

    /// The known defects to tolerate: none with `SIM_STRICT=1`.
    package static func toleratedFromEnvironment() -> Set<KnownDefect> {
        ProcessInfo.processInfo.environment["SIM_STRICT"] == "1" ? [] : KnownDefect.openOnThisBranch
    }
}
