import ArgumentParser
import Fleet
import Foundation
import Logging

/// `rlt-fleet watch`: a live table of every panel under the prefix, redrawn in place.
struct FleetWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Show every panel (link, state, remaining time, dose, temperature, faults, last seen), live.",
        discussion: """
            On a terminal the table is redrawn in place; keys: s next sort column, r reverse, q quit. \
            Into a pipe, or with --json (one JSON document per line and refresh), every refresh is printed \
            in full. --once prints a single refresh after --settle seconds and exits.
            """)

    @OptionGroup var connection: FleetConnection
    @Option(help: "Sort column: \(FleetTable.SortKey.allCases.map(\.rawValue).joined(separator: ", ")).")
    var sort: FleetTable.SortKey = .device
    @Flag(help: "Sort in descending order.") var reverse = false
    @Option(help: "Seconds between refreshes.") var interval: Double = 1
    @Flag(help: "Print JSON lines instead of a table (for scripts).") var json = false
    @Flag(help: "Print one refresh and exit.") var once = false
    @Option(help: "With --once: seconds to collect retained and live messages first.") var settle: Double = 2

    func validate() throws {
        guard self.interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds") }
        guard self.settle >= 0 else { throw ValidationError("--settle must not be negative") }
    }

    private enum Input: Sendable {
        case tick
        case key(UInt8)
        case signal
    }

    func run() async throws {
        let (connection, topics, _) = try self.connection.load(clientPrefix: "rlt-fleet-watch")
        var logger = Logger(label: "rlt-fleet")
        logger.logLevel = .critical
        let monitor = try FleetMonitor(connection: connection, topics: topics, logger: logger)
        let monitorTask = Task { await monitor.run() }
        defer { monitorTask.cancel() }
        let source = connection.host + ":" + String(connection.port)
        var view = WatchView(
            table: FleetTable(sortKey: self.sort, descending: self.reverse),
            title: "rlt fleet \(topics.prefix)/+ @ \(source)",
            json: self.json, live: !self.json && !self.once && isatty(STDOUT_FILENO) == 1)

        if self.once {
            try? await Task.sleep(for: .milliseconds(Int(self.settle * 1000)))
            view.draw(monitor.snapshot(), connected: monitor.isConnected)
            await monitor.stop()
            return
        }

        let signals = ShutdownSignals()
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let ticker = Task {
            while !Task.isCancelled {
                continuation.yield(.tick)
                try? await Task.sleep(for: .milliseconds(Int(self.interval * 1000)))
            }
        }
        let signalTask = Task {
            for await _ in signals.signals { continuation.yield(.signal) }
        }
        let keyboard = view.live ? RawTerminal.enable() : nil
        if let keyboard {
            keyboard.readKeys { continuation.yield(.key($0)) }
        }
        view.begin()
        loop: for await input in inputs {
            switch input {
            case .tick:
                break
            case .key(let key):
                switch key {
                case UInt8(ascii: "q"), UInt8(ascii: "Q"), 3: break loop
                case UInt8(ascii: "s"): view.table.sortKey = view.table.sortKey.next
                case UInt8(ascii: "r"): view.table.descending.toggle()
                default: continue
                }
            case .signal:
                break loop
            }
            view.draw(monitor.snapshot(), connected: monitor.isConnected)
        }
        ticker.cancel()
        signalTask.cancel()
        signals.cancel()
        view.end()
        keyboard?.restore()
        await monitor.stop()
    }
}
