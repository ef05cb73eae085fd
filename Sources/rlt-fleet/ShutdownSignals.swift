import Dispatch
import Foundation
import Synchronization

/// SIGTERM/SIGINT as something to await: the default handlers would kill the process before the
/// MQTT client disconnects cleanly.
final class ShutdownSignals: Sendable {
    /// Kept alive until ``cancel()``; Dispatch's source type is not `Sendable`, the lock makes it so.
    private let sources: Mutex<[any DispatchSourceSignal]>
    private let stream: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation

    init(_ numbers: [Int32] = [SIGTERM, SIGINT]) {
        (self.stream, self.continuation) = AsyncStream.makeStream(of: Int32.self)
        var sources: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let continuation = self.continuation
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        self.sources = Mutex(sources)
    }

    /// Returns when the first signal arrives, or when cancelled.
    func wait() async {
        for await _ in self.stream { return }
    }

    /// Forwards every signal, for loops that also wait on other things.
    var signals: AsyncStream<Int32> { self.stream }

    func cancel() {
        self.sources.withLock { sources in
            for source in sources { source.cancel() }
            sources.removeAll()
        }
        self.continuation.finish()
    }
}
