import DedicatedThread
import Synchronization

/// The thread of the blocking input-event loop, stopped cooperatively and joined.
///
/// Waiting for GPIO events is a blocking `poll(2)`, so it runs on a ``DedicatedThread``. The body
/// checks ``isStopping`` between waits (each wait is bounded), and ``stop()`` returns only once the
/// body has returned, so the caller may then release the lines the body was polling.
final class EdgeThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<DedicatedThread?>(nil)

    /// `true` once ``stop()`` was called; the body returns when it sees it.
    var isStopping: Bool { self.stopping.load(ordering: .acquiring) }

    /// Starts `body` on a new thread. Returns `nil` when the thread could not be created.
    static func start(_ body: @escaping @Sendable (EdgeThread) -> Void) -> EdgeThread? {
        let control = EdgeThread()
        guard let thread = DedicatedThread.start(name: "rlt-gpio-edges", { body(control) }) else { return nil }
        control.thread.withLock { $0 = thread }
        return control
    }

    /// Asks the body to return and waits until it has (from the body itself it cannot wait, and
    /// the body returns on its own once it sees the flag). Idempotent.
    func stop() {
        self.stopping.store(true, ordering: .releasing)
        self.thread.withLock { current in
            defer { current = nil }
            return current
        }?.join()
    }
}
