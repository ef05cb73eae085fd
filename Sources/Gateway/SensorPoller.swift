import DedicatedThread
import Foundation
import Sensors
import Synchronization

/// Reads the panel sensor at a fixed interval on a thread of its own and hands every sample on.
///
/// A sensor read is blocking file I/O that can hang (a stuck 1-Wire bus, a sysfs driver waiting on
/// hardware, a FIFO). Inside the gateway's task group such a read would hold one of the cooperative
/// pool's few threads (the only one on a single-core board, stalling the safety loop with it) and
/// would keep graceful shutdown waiting for a task that can never be cancelled. On its own thread a
/// hung read only stops the samples, which is exactly what the stale-sensor rule (S7) detects, and
/// shutdown simply leaves the thread behind.
final class SensorPoller: Sendable {
    private let sensor: SensorDriver
    private let intervalSeconds: Double
    private let stopped = Mutex(false)

    init(sensor: SensorDriver, intervalSeconds: Double) {
        self.sensor = sensor
        self.intervalSeconds = intervalSeconds
    }

    /// Starts the thread: one reading at once, then one per interval, each passed to `deliver`.
    func start(_ deliver: @escaping @Sendable (SensorSample) -> Void) {
        // Without the thread no sample arrives: the stale-sensor rule (S7) keeps the panel dark.
        DedicatedThread.start(name: "rlt-sensor") { [self] in
            while !self.isStopped {
                let sample = self.sensor.read()
                if self.isStopped { return }
                deliver(sample)
                Thread.sleep(forTimeInterval: self.intervalSeconds)
            }
        }?.detach()
    }

    /// Stops delivering; a read in progress is abandoned, never waited for.
    func stop() {
        self.stopped.withLock { $0 = true }
    }

    private var isStopped: Bool { self.stopped.withLock { $0 } }
}
