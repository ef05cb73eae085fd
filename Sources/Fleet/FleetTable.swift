/// Lays out the fleet as a fixed-width text table for `fleet watch`, sorted by a chosen column.
///
/// Pure: it returns lines and never touches the terminal, so the layout is tested as text and the
/// command decides how to draw it (in place on a terminal, plainly into a pipe).
public struct FleetTable: Sendable {
    /// The columns a viewer can sort by, in the order the `s` key cycles through them.
    public enum SortKey: String, Sendable, CaseIterable {
        case device, link, state, remaining, dose, temperature, faults
        case lastSeen = "last-seen"

        /// The next key in the cycle.
        public var next: SortKey {
            let all = Self.allCases
            let index = all.firstIndex(of: self) ?? all.startIndex
            return all[(index + 1) % all.count]
        }
    }

    public var sortKey: SortKey
    public var descending: Bool

    public init(sortKey: SortKey = .device, descending: Bool = false) {
        self.sortKey = sortKey
        self.descending = descending
    }

    /// Orders panels by the sort key; ties and missing values fall back to the device id so the
    /// order is stable from one refresh to the next.
    public func sorted(_ panels: [PanelRecord]) -> [PanelRecord] {
        func key(_ p: PanelRecord) -> Double? {
            switch self.sortKey {
            case .device: nil
            case .link: p.online.map { $0 ? 1 : 0 } ?? -1
            case .state: Double(PanelRecord.stateNames.firstIndex(of: p.stateName) ?? 0)
            case .remaining: p.remainingSeconds
            case .dose: p.dose?.total
            case .temperature: p.temperatureC
            case .faults: Double(p.faults.count)
            case .lastSeen: p.lastSeen
            }
        }
        return panels.sorted { a, b in
            let ka = key(a)
            let kb = key(b)
            if ka != kb {
                // Panels without the value always go last, whatever the direction.
                guard let ka else { return false }
                guard let kb else { return true }
                return self.descending ? ka > kb : ka < kb
            }
            return self.descending && self.sortKey == .device ? a.device > b.device : a.device < b.device
        }
    }

    static let columns: [(title: String, width: Int)] = [
        ("DEVICE", 20), ("LINK", 8), ("STATE", 9), ("REMAIN", 7), ("DOSE J/cm²", 10), ("24H", 7),
        ("TEMP °C", 7), ("FAULTS", 24), ("LAST SEEN", 9),
    ]

    /// The header line, one line per panel, and nothing else.
    public func lines(_ panels: [PanelRecord], now: Double) -> [String] {
        var lines = [Self.row(Self.columns.map(\.title))]
        for p in self.sorted(panels) {
            let link: String =
                switch p.online {
                case true?: "online"
                case false?: "offline"
                case nil: "?"
                }
            lines.append(
                Self.row([
                    p.device, link, p.stateName,
                    p.remainingSeconds.map { $0 > 0 ? Self.clock($0) : "-" } ?? "-",
                    p.dose.map { Self.fixed($0.total, 2) } ?? "-",
                    p.dose24h.map { Self.fixed($0, 1) } ?? "-",
                    p.temperatureC.map { Self.fixed($0, 1) } ?? "-",
                    p.faults.isEmpty ? "-" : p.faults.joined(separator: ","),
                    p.lastSeen.map { Self.age(now - $0) } ?? "-",
                ]))
        }
        return lines
    }

    /// A one-line summary for the top of the screen.
    public static func summary(_ panels: [PanelRecord]) -> String {
        let online = panels.filter { $0.online == true }.count
        let offline = panels.filter { $0.online == false }.count
        let running = panels.filter { $0.state == .running }.count
        let faulted = panels.filter { !$0.faults.isEmpty || $0.state == .fault }.count
        return
            "\(panels.count) panels: \(online) online, \(offline) offline, \(running) running, \(faulted) with faults"
    }

    static func row(_ cells: [String]) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            let width = Self.columns[index].width
            let text = cell.count > width ? String(cell.prefix(width - 1)) + "…" : cell
            line += index == cells.count - 1 ? text : text + String(repeating: " ", count: width - text.count + 1)
        }
        return line
    }

    /// The longest time `clock` writes as mm:ss; a session is at most 20 minutes.
    static let longestClock = 99.0 * 60 + 59

    /// `mm:ss` for any number a document may carry (it comes off the network: 1e300 must not trap).
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        guard seconds <= Self.longestClock else { return ">99:59" }
        let s = Int(max(0, seconds).rounded(.up))
        let m = s / 60
        let r = s % 60
        return "\(m < 10 ? "0" : "")\(m):\(r < 10 ? "0" : "")\(r)"
    }

    /// How long ago, for any number: a stamp ahead of the monitor's clock is "0s ago".
    static func age(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        guard seconds < 1000 * 86400 else { return ">1000d ago" }
        let s = Int(max(0, seconds).rounded())
        if s < 120 { return "\(s)s ago" }
        if s < 7200 { return "\(s / 60)m ago" }
        return "\(s / 3600)h ago"
    }

    /// Fixed-point text without Foundation's `String(format:)`, for any number: beyond ±1e12 (no
    /// dose or temperature a panel can report) it says so instead of trapping in the conversion.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "?" }
        guard abs(value) < 1e12 else { return value < 0 ? "<-1e12" : ">1e12" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < digits { fraction = "0" + fraction }
        return (value < 0 && scaled != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + fraction : "")
    }
}
