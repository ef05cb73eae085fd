import Logging
import Synchronization

/// Collects log lines in memory so a test can assert that a problem was reported, without
/// bootstrapping the process-wide logging system.
public final class LogRecorder: Sendable {
    private let recorded = Mutex<[String]>([])
    /// Also print each line to standard error, to follow a test run.
    private let echo: Bool

    public init(echo: Bool = false) {
        self.echo = echo
    }

    /// Every line so far, as "level message".
    public var lines: [String] {
        self.recorded.withLock { $0 }
    }

    /// A logger writing into this recorder at `level` and above.
    public func logger(label: String, level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { _ in RecordingHandler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: String) {
        self.recorded.withLock { $0.append(line) }
        if self.echo {
            print(line)
        }
    }
}

private struct RecordingHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.recorder.append("\(event.level) \(event.message)")
    }
}
