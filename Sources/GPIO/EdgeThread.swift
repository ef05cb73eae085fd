#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// A dedicated POSIX thread for the blocking input-event loop, stopped cooperatively and joined.
///
/// Waiting for GPIO events is a blocking `poll(2)`; running it on its own thread keeps it off Swift's cooperative
/// pool, where a blocked thread would starve unrelated tasks on a 2-core board. The body checks ``isStopping``
/// between waits (each wait is bounded), and ``stop()`` returns only once the body has returned, so the caller
/// may then release the lines the body was polling.
final class EdgeThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<pthread_t?>(nil)

    /// `true` once ``stop()`` was called; the body returns when it sees it.
    var isStopping: Bool { self.stopping.load(ordering: .acquiring) }

    /// Starts `body` on a new thread. Returns `nil` when the thread could not be created.
    static func start(_ body: @escaping @Sendable (EdgeThread) -> Void) -> EdgeThread? {
        let control = EdgeThread()
        let context = Unmanaged.passRetained(Box(control: control, body: body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                guard let raw else { return nil }
                let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
                box.body(box.control)
                return nil
            }, context)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(context).release()
            return nil
        }
        control.thread.withLock { $0 = handle }
        return control
    }

    /// Asks the body to return and waits until it has. Idempotent.
    func stop() {
        self.stopping.store(true, ordering: .releasing)
        guard
            let handle = self.thread.withLock({ current -> pthread_t? in
                defer { current = nil }
                return current
            })
        else { return }
        if pthread_equal(handle, pthread_self()) != 0 {
            // Called from the body itself: it returns on its own once it sees the flag; it cannot join itself.
            _ = pthread_detach(handle)
            return
        }
        _ = pthread_join(handle, nil)
    }

    /// What the new thread runs, passed through pthread's untyped context pointer.
    private final class Box: Sendable {
        let control: EdgeThread
        let body: @Sendable (EdgeThread) -> Void

        init(control: EdgeThread, body: @escaping @Sendable (EdgeThread) -> Void) {
            self.control = control
            self.body = body
        }
    }
}
