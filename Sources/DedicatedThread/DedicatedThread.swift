#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// A POSIX thread of its own for work that blocks: libmosquitto's network loop, the GPIO edge
/// wait, SQLite's `fsync`, a sensor read, a terminal read.
///
/// Blocking calls have no place on Swift's cooperative pool: on a 2-core board one blocked pool
/// thread starves half of every unrelated task. This is the one way the project starts such a
/// thread, so every one of them carries a name (`top -H`, `/proc/<pid>/task/*/comm`) and a failure
/// to start one is the caller's to handle, never a trap.
public final class DedicatedThread: Sendable {
    private let handle = Mutex<pthread_t?>(nil)

    private init() {}

    /// Starts `body` on a new thread named `name` (Linux keeps the first 15 bytes).
    ///
    /// - Returns: the thread, to ``join()`` or ``detach()``; `nil` when the system could not create
    ///   one (`EAGAIN`: out of threads or memory).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> DedicatedThread? {
        let thread = DedicatedThread()
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(
            &handle, nil,
            { raw in
                guard let raw else { return nil }
                let start = Unmanaged<Start>.fromOpaque(raw).takeRetainedValue()
                DedicatedThread.nameThisThread(start.name)
                start.body()
                return nil
            }, context)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            return nil
        }
        thread.handle.withLock { $0 = handle }
        return thread
    }

    /// Waits until the body has returned. From the body itself (which cannot join itself) it only
    /// detaches. Once only: later calls, and calls after ``detach()``, return at once.
    public func join() {
        guard let handle = self.take() else { return }
        if pthread_equal(handle, pthread_self()) != 0 {
            _ = pthread_detach(handle)
            return
        }
        _ = pthread_join(handle, nil)
    }

    /// Lets the thread end on its own; its resources are freed when the body returns.
    public func detach() {
        guard let handle = self.take() else { return }
        _ = pthread_detach(handle)
    }

    /// `pthread_setname_np`, looked up at run time: glibc declares it only under `_GNU_SOURCE`,
    /// which Swift's Glibc module does not set.
    private static let setName: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(nil, "pthread_setname_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (pthread_t, UnsafePointer<CChar>) -> Int32).self)
    }()

    private static func nameThisThread(_ name: String) {
        let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        _ = short.withCString { Self.setName?(pthread_self(), $0) }
    }

    private func take() -> pthread_t? {
        self.handle.withLock { current in
            defer { current = nil }
            return current
        }
    }

    /// What the new thread runs, passed through pthread's untyped context pointer.
    private final class Start: Sendable {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}
