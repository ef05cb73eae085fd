import Foundation
import Synchronization

/// A fresh directory under the system temp dir, removed by ``remove()``; tests lay sensor files out in it the way
/// the kernel writes them.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rlt-sensors-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        self.path = base.path
    }

    /// Writes `text` to `name` inside the directory (creating parent directories) and returns its path.
    @discardableResult
    func write(_ text: String, to name: String) throws -> String {
        let file = self.path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// A monotonic clock the test advances by hand.
final class ManualClock: Sendable {
    private let nanoseconds: Mutex<Int64>

    init(start: Int64 = 1_000_000_000) { self.nanoseconds = Mutex(start) }

    var now: Int64 { self.nanoseconds.withLock { $0 } }

    func advance(seconds: Double) {
        self.nanoseconds.withLock { $0 += Int64(seconds * 1e9) }
    }
}
