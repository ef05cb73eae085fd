import ArgumentParser
import Fleet
import Foundation
import GatewayProtocol
import Logging

/// `rlt-gateway fleet watch`: a live table of every panel under the prefix, redrawn in place.
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
        var logger = Logger(label: "rlt-gateway.fleet")
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

/// Draws refreshes: in place on a terminal (cursor home, clear to end of line and screen), in full
/// otherwise, or as JSON lines. Each frame says how long building it took, so the cost of a
/// refresh is visible where it is paid.
struct WatchView {
    var table: FleetTable
    let title: String
    let json: Bool
    let live: Bool

    func begin() {
        // Alternate screen and hidden cursor, as full-screen tools do; `end()` gives the screen back.
        if self.live { Self.write("\u{1B}[?1049h\u{1B}[?25l") }
    }

    func end() {
        if self.live { Self.write("\u{1B}[?25h\u{1B}[?1049l") }
    }

    func draw(_ registry: FleetRegistry, connected: Bool) {
        let started = ContinuousClock.now
        let now = Date().timeIntervalSince1970
        let panels = Array(registry.panels.values)
        if self.json {
            let document = JSONValue.object([
                ("ts", .number((now * 1000).rounded())),
                ("connected", .bool(connected)),
                ("panels", .array(self.table.sorted(panels).map { $0.json(now: now) })),
            ])
            Self.write(document.text + "\n")
            return
        }
        var lines = self.table.lines(panels, now: now)
        let day = Int(now) % 86_400
        let clock = [day / 3600, day / 60 % 60, day % 60].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ":")
        let cost = ContinuousClock.now - started
        let micros = cost.components.seconds * 1_000_000 + cost.components.attoseconds / 1_000_000_000_000
        lines.insert(
            "\(self.title)  \(connected ? "connected" : "NOT CONNECTED")  \(clock) UTC  (built in \(micros) µs)", at: 0)
        lines.insert(
            FleetTable.summary(panels)
                + "   sort: \(self.table.sortKey.rawValue)\(self.table.descending ? " desc" : "")"
                + (self.live ? "   keys: s sort, r reverse, q quit" : ""), at: 1)
        lines.insert("", at: 2)
        if self.live {
            let width = Self.columns()
            var frame = "\u{1B}[H"
            for line in lines {
                frame += (line.count > width ? String(line.prefix(width)) : line) + "\u{1B}[K\r\n"
            }
            Self.write(frame + "\u{1B}[J")
        } else {
            Self.write(lines.joined(separator: "\n") + "\n\n")
        }
    }

    static func columns() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 200 }
        return Int(size.ws_col)
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// The terminal in non-canonical, no-echo mode so single keys arrive at once; ``restore()`` puts
/// the saved settings back (also on SIGINT/SIGTERM, which the watch loop turns into a clean exit).
struct RawTerminal: Sendable {
    let original: termios

    static func enable() -> RawTerminal? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return nil }
        let original = settings
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO)
        guard tcsetattr(STDIN_FILENO, TCSANOW, &settings) == 0 else { return nil }
        return RawTerminal(original: original)
    }

    /// Reads keys on a thread of its own (a blocking read has no place on the cooperative pool).
    func readKeys(_ handle: @escaping @Sendable (UInt8) -> Void) {
        let thread = Thread {
            var byte: UInt8 = 0
            while read(STDIN_FILENO, &byte, 1) == 1 { handle(byte) }
        }
        thread.start()
    }

    func restore() {
        var settings = self.original
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &settings)
    }
}
