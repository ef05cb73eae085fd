import GatewayCommandLine
import Logging

/// Log lines for journald: under systemd (`JOURNAL_STREAM` set) each line starts with its syslog
/// priority, `<3>` for an error, `<6>` for info (sd-daemon's prefix convention), so `journalctl -p err`
/// finds the errors and the journal's own time stamp replaces ours.
struct JournalLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Whether this process's standard error is connected to the journal.
    static func isJournal(_ environment: [String: String]) -> Bool {
        environment["JOURNAL_STREAM"]?.isEmpty == false
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    func log(event: LogEvent) {
        let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        printError("<\(Self.priority(event.level))>\(self.label): \(event.message)\(fields)")
    }
}
