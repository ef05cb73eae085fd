import Foundation

/// One fault scenario: a name, how often it is repeated, and one repetition's body, which throws
/// ``Failure`` when the panel did not survive and may return a note (a measurement) to print.
struct Scenario {
    var name: String
    var repetitions: Int
    var body: (Int) async throws -> String?
}

/// `rlt-reliability [--quick] [--only SUBSTRING]… [--skip SUBSTRING]…`: runs every fault scenario against the built
/// daemon and prints `SCENARIO name: survived/total`, then `N passed, N failed`.
@main
struct Reliability {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        let quick = arguments.contains("--quick")
        var filters: [String] = []
        var skips: [String] = []
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if argument == "--only", let value = iterator.next() { filters.append(value) }
            if argument == "--skip", let value = iterator.next() { skips.append(value) }
        }
        signal(SIGPIPE, SIG_IGN)
        let scenarios = Scenarios(quick: quick).all.filter { s in
            (filters.isEmpty || filters.contains { s.name.contains($0) }) && !skips.contains { s.name.contains($0) }
        }
        var passed = 0
        var failed = 0
        for scenario in scenarios {
            var survived = 0
            var reasons: [String] = []
            var notes: [String] = []
            let started = ContinuousClock.now
            for repetition in 1...scenario.repetitions {
                do {
                    if let note = try await scenario.body(repetition) { notes.append(note) }
                    survived += 1
                } catch {
                    reasons.append("#\(repetition): \(error)")
                }
            }
            let seconds = Int(ContinuousClock.now - started) / 1
            let ok = survived == scenario.repetitions
            let verdict = ok ? "PASS" : "FAIL"
            report("SCENARIO \(scenario.name): \(survived)/\(scenario.repetitions) \(verdict) (\(seconds) s)")
            for note in notes.suffix(3) { report("    \(note)") }
            for reason in reasons.prefix(5) { report("    \(reason.replacingOccurrences(of: "\n", with: "\n      "))") }
            if ok { passed += 1 } else { failed += 1 }
        }
        report("RELIABILITY: \(passed) passed, \(failed) failed")
        exit(failed == 0 ? 0 : 1)
    }
}

extension Int {
    init(_ duration: Duration) {
        self = Int(duration.components.seconds)
    }
}

/// Prints a line and flushes at once, so `run.sh` (reading a pipe) shows progress as it happens.
func report(_ line: String) {
    print(line)
    fflush(nil)
}
