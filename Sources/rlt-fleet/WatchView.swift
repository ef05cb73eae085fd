import Fleet
import Foundation
import GatewayProtocol

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
