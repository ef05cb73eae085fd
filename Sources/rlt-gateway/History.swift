import ArgumentParser
import Foundation
import Gateway
import GatewayCommandLine
import GatewayConfig
import Ledger

/// `rlt-gateway history`: the sessions in the ledger, newest first.
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List recorded sessions from the ledger.")

    @OptionGroup var options: ConfigOptions
    @Option(help: "How many sessions to list.") var limit = 20

    func run() throws {
        let configuration = try self.options.load()
        let ledger = try SessionLedger(path: configuration.storage.path, retentionDays: configuration.storage.retentionDays)
        let rows = try ledger.sessions(limit: self.limit)
        if rows.isEmpty {
            print("no sessions recorded in \(configuration.storage.path)")
            return
        }
        let formatter = ISO8601DateFormatter()
        print("started                 emitting  dose J/cm²  channels  end")
        for row in rows {
            let started = formatter.string(from: Date(timeIntervalSince1970: Double(row.startedAtUnixMs) / 1000))
            print(
                "\(started)  \(ProgressRenderer.clock(row.emittingSeconds).padding(toLength: 8, withPad: " ", startingAt: 0))"
                    + "  \(String(format: "%10.2f", row.doseTotal.joulesPerCm2))  \(row.channels.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))"
                    + "  \(row.endReason ?? "open")")
        }
    }
}
