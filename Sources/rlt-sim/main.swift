import Foundation
import GatewaySimulation

/// `rlt-sim`: the whole-gateway simulator for as long as asked.
///
///     rlt-sim [--runs N] [--minutes M] [--seed S] [--strict] [--check DEFECT] [--stop-at-first]
///
/// Runs seeds S, S+1, … until N runs are done or M minutes of wall time have passed (default: 1000
/// runs), prints the totals and every violation with the seed that reproduces it, and exits 1 when
/// an invariant failed.
var runs = Int.max
var minutes = Double.infinity
var seed = UInt64(Date().timeIntervalSince1970)
var tolerated = SimulationBudget.toleratedFromEnvironment()
var stopAtFirstFailure = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--minutes": minutes = Double(arguments.popFirst() ?? "") ?? minutes
    case "--seed": seed = UInt64(arguments.popFirst() ?? "") ?? seed
    case "--strict": tolerated = []
    case "--stop-at-first": stopAtFirstFailure = true
    case "--check":
        // Counts one known defect (stop-replay, dose-window-by-start) again.
        if let defect = KnownDefect(rawValue: arguments.popFirst() ?? "") { tolerated.remove(defect) }
    default:
        print("usage: rlt-sim [--runs N] [--minutes M] [--seed S] [--strict] [--check DEFECT] [--stop-at-first]")
        exit(2)
    }
}
if runs == Int.max, minutes == .infinity { runs = 1000 }
let report = SimulationBudget.run(
    firstSeed: seed, runs: runs, wallSeconds: minutes * 60, tolerated: tolerated, stopAtFirstFailure: stopAtFirstFailure
) {
    print(
        String(
            format: "… %d runs, %.1f simulated hours, %d violations", $0.runs, $0.simulatedSeconds / 3600,
            $0.failures.count))
}
print(report.summary)
exit(report.failures.isEmpty ? 0 : 1)
