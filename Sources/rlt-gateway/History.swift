import ArgumentParser
import Foundation
import Gateway
import GatewayCommandLine
import GatewayConfig
import GatewayProtocol
import Ledger

/// `rlt-gateway history`: the sessions in the ledger, newest first, as a table, JSON or CSV.
///
/// It opens the ledger read-only: a look at the history never creates, migrates or writes the
/// file the daemon owns, and works beside the running daemon.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List recorded sessions from the ledger.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "How many sessions to list.") var limit = 20
    @Flag(help: "One JSON array of sessions (times in unix ms, doses in J/cm²).") var json = false
    @Flag(help: "CSV with a header row (times in ISO 8601, UTC).") var csv = false

    func validate() throws {
        if self.json && self.csv { throw ValidationError("--json and --csv: choose one") }
    }

    func run() throws {
        let configuration = try self.options.load()
        let path = configuration.storage.path
        let rows: [SessionRow]
        do {
            rows = try SessionLedger(readingOnly: path).sessions(limit: self.limit)
        } catch {
            printError("history: \(error)")
            throw ExitCode.failure
        }
        if self.json {
            print(JSONValue.array(rows.map(Self.json)).text)
        } else if self.csv {
            print("session_id,started,ended,channels,intensity_pct,planned_s,emitting_s,dose_j_cm2,dose_red_j_cm2,dose_nir_j_cm2,end")
            for row in rows { print(Self.csvLine(row)) }
        } else if rows.isEmpty {
            print("no sessions recorded in \(path)")
        } else {
            print("started                 emitting  dose J/cm²  channels  end")
            for row in rows {
                print(
                    "\(Self.iso(row.startedAtUnixMs))  \(ProgressRenderer.clock(row.emittingSeconds).padding(toLength: 8, withPad: " ", startingAt: 0))"
                        + "  \(String(format: "%10.2f", row.doseTotal.joulesPerCm2))  \(row.channels.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))"
                        + "  \(row.endReason ?? "open")")
            }
        }
    }

    static func iso(_ unixMs: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(unixMs) / 1000))
    }

    static func json(_ row: SessionRow) -> JSONValue {
        .object([
            ("session_id", .string(row.id)), ("started_ms", .number(Double(row.startedAtUnixMs))),
            ("ended_ms", row.endedAtUnixMs.map { .number(Double($0)) } ?? .null),
            ("channels", .string(row.channels.rawValue)), ("intensity_pct", .number(row.intensityPercent)),
            ("planned_s", .number(row.plannedSeconds)), ("emitting_s", .number(row.emittingSeconds)),
            ("dose_j_cm2", DoseDocument(total: row.doseTotal.joulesPerCm2, red: row.doseRed.joulesPerCm2, nir: row.doseNIR.joulesPerCm2).json),
            ("end", row.endReason.map(JSONValue.string) ?? .null),
        ])
    }

    static func csvLine(_ row: SessionRow) -> String {
        [
            row.id, Self.iso(row.startedAtUnixMs), row.endedAtUnixMs.map(Self.iso) ?? "", row.channels.rawValue,
            "\(row.intensityPercent)", "\(row.plannedSeconds)", String(format: "%.1f", row.emittingSeconds),
            String(format: "%.3f", row.doseTotal.joulesPerCm2), String(format: "%.3f", row.doseRed.joulesPerCm2),
            String(format: "%.3f", row.doseNIR.joulesPerCm2), row.endReason ?? "open",
        ].joined(separator: ",")
    }
}
