import Foundation
import Synchronization

/// A process-wide budget for tests that start daemons: at most ``capacity`` permits are held at once,
/// and a test waits (suspended, not spinning) until its permits are free.
///
/// Swift Testing starts every test of the run at once. On a 2-core machine, sixty daemons, their
/// brokers and the CPU-bound property tests then compete for the same cores, and a daemon's start-up
/// alone can take longer than a test's patience. The budget makes the load independent of the number
/// of tests: a test that spawns processes takes one permit per daemon for its whole body.
///
/// The default capacity is two per core (daemons are mostly idle once started); `RLT_TEST_PROCESS_BUDGET`
/// overrides it. Permits are granted first come, first served, so a test that needs several (a fleet)
/// is not starved by single-permit tests.
public final class ProcessBudget: Sendable {
    /// The budget shared by every test target in this test process.
    public static let shared = ProcessBudget(capacity: ProcessBudget.defaultCapacity)

    public static var defaultCapacity: Int {
        if let text = ProcessInfo.processInfo.environment["RLT_TEST_PROCESS_BUDGET"], let value = Int(text), value > 0 {
            return value
        }
        return max(2, ProcessInfo.processInfo.activeProcessorCount * 2)
    }

    private struct Waiter {
        let permits: Int
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var available: Int
        var queue: [Waiter] = []
    }

    public let capacity: Int
    private let state: Mutex<State>

    public init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(State(available: capacity))
    }

    /// Runs `body` while holding `permits` permits (clamped to the capacity), releasing them after,
    /// whether `body` returns or throws.
    public func withPermits<T>(_ permits: Int = 1, _ body: () async throws -> T) async rethrows -> T {
        let wanted = min(max(permits, 1), self.capacity)
        await self.acquire(wanted)
        defer { self.release(wanted) }
        return try await body()
    }

    private func acquire(_ permits: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = self.state.withLock { state -> Bool in
                // FIFO: only take permits directly when nobody is waiting ahead.
                if state.queue.isEmpty, state.available >= permits {
                    state.available -= permits
                    return true
                }
                state.queue.append(Waiter(permits: permits, continuation: continuation))
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release(_ permits: Int) {
        let ready = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.available += permits
            var ready: [CheckedContinuation<Void, Never>] = []
            while let first = state.queue.first, first.permits <= state.available {
                state.available -= first.permits
                ready.append(state.queue.removeFirst().continuation)
            }
            return ready
        }
        // Resumed after the lock is released.
        for continuation in ready { continuation.resume() }
    }
}
