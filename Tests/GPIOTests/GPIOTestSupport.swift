import Foundation
import GPIO
import Logging
import Synchronization
import TestKit

/// A fresh directory standing in for a gpio-sim chip's sysfs directory; removed by ``remove()``.
struct SimulatedChipDirectory {
    private let directory: TemporaryDirectory
    var path: String { self.directory.path }

    init() throws {
        self.directory = try TemporaryDirectory(prefix: "rlt-gpio")
    }

    var backend: GPIOBackendSelection { .simulated(directory: self.path) }

    /// The text of `sim_gpio<line>/<file>` without its newline, or `nil` when absent.
    func read(line: Int, _ file: String) -> String? {
        guard let data = FileManager.default.contents(atPath: "\(self.path)/sim_gpio\(line)/\(file)") else {
            return nil
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes `text` and a newline into `sim_gpio<line>/<file>`, creating the line directory.
    func write(line: Int, _ file: String, _ text: String) throws {
        let directory = "\(self.path)/sim_gpio\(line)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: "\(directory)/\(file)"))
    }

    func remove() {
        self.directory.remove()
    }
}

/// Collects a controller's edges in the background so a test can wait for them with a bound.
final class EdgeRecorder: Sendable {
    private let edges = Mutex<[GPIOInputEdge]>([])
    private let finished = Mutex(false)
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    init(_ stream: AsyncStream<GPIOInputEdge>) {
        // The task holds the recorder until the stream finishes (controller closed) or cancel() is called.
        let task = Task {
            for await edge in stream { self.edges.withLock { $0.append(edge) } }
            self.finished.withLock { $0 = true }
        }
        self.task.withLock { $0 = task }
    }

    var recorded: [GPIOInputEdge] { self.edges.withLock { $0 } }
    var streamFinished: Bool { self.finished.withLock { $0 } }

    /// Waits until at least `count` edges arrived or `seconds` passed; returns what arrived.
    func wait(for count: Int, upTo seconds: Double = 30) async -> [GPIOInputEdge] {
        _ = await eventually(timeout: .milliseconds(Int(seconds * 1000)), every: .milliseconds(5)) {
            self.recorded.count >= count
        }
        return self.recorded
    }

    /// Waits until the stream finished or `seconds` passed.
    func waitForFinish(upTo seconds: Double = 30) async -> Bool {
        await eventually(timeout: .milliseconds(Int(seconds * 1000)), every: .milliseconds(5)) { self.streamFinished }
    }

    func cancel() {
        self.task.withLock { $0?.cancel() }
    }
}

let quietLogger = Logger(label: "gpio-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body` expecting a ``GPIOError``; returns it, or `nil` (recording nothing) when none was thrown.
func captureGPIOError<T>(_ body: () throws -> T) -> GPIOError? {
    do {
        _ = try body()
        return nil
    } catch let error as GPIOError {
        return error
    } catch {
        return nil
    }
}
