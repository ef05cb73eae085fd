import Foundation
import Ledger
import SafetyCore

/// The host side of the power-loss check (Tests/powerloss): opens each recovered ledger the way the
/// daemon does at boot and prints what the boot found, one line per ledger.
///
/// `rlt-powerloss-check DIR...` opens `DIR/ledger.sqlite` with ``SessionLedger/init(path:retentionDays:)``
/// and runs ``SessionLedger/recover(at:)``, the two calls the gateway makes before its first event, so
/// a session the cut left open is closed here exactly as at the next boot (docs/DESIGN.md, "Safety
/// rules": *Count more, never less*). `rlt-gateway history` would not do: it opens read-only and never
/// recovers. Output, tab-separated:
///
///     DIR  ok     <id>|<end>|<dose_total>|<dose_ceiling>|<emitting_s> ...
///     DIR  error  <LedgerError description>
///
/// The exit status is 0 whatever a ledger said: judging the lines is `powerloss.py`'s job.
///
/// `rlt-powerloss-check --create DIR` creates `DIR/ledger.sqlite` with the real code and closes it, for a
/// disk that starts with a ledger (`run.sh --existing-ledger`); it exits 1 if that fails.
@main
enum PowerLossCheck {
    static func main() {
        let now = LedgerTime(
            unixMs: Int64(Date().timeIntervalSince1970 * 1000), trusted: true, bootID: "powerloss-check",
            monotonicMs: 0)
        var arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "--create" {
            arguments.removeFirst()
            for directory in arguments {
                do {
                    let ledger = try SessionLedger(path: directory + "/ledger.sqlite")
                    _ = try ledger.recover(at: now)
                    ledger.close()
                } catch {
                    print("\(directory)\terror\t\(error)")
                    exit(1)
                }
            }
            return
        }
        for directory in arguments {
            print(Self.check(directory: directory, now: now))
        }
    }

    static func check(directory: String, now: LedgerTime) -> String {
        do {
            let ledger = try SessionLedger(path: directory + "/ledger.sqlite")
            defer { ledger.close() }
            _ = try ledger.recover(at: now)
            let sessions = try ledger.sessions(limit: 1000).map { row in
                [
                    row.id, row.endReason ?? "open", "\(row.doseTotal.joulesPerCm2)",
                    "\(row.doseCeiling.joulesPerCm2)", "\(row.emittingSeconds)",
                ].joined(separator: "|")
            }
            return ([directory, "ok"] + sessions).joined(separator: "\t")
        } catch {
            let message = "\(error)".replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ")
            return [directory, "error", message].joined(separator: "\t")
        }
    }
}
