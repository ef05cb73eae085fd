import Foundation
import Synchronization

/// Reads the temperature sensor on its own thread at `interval` and hands each sample to the
/// owner loop.
///
/// A dedicated thread, not a task: a DS18B20 read blocks for about 750 ms and a sysfs read can
/// stall on a sick bus, and either would otherwise hold one of the few cooperative threads that
/// MQTT, GPIO edges and the control tick depend on.
final class SensorSampler: Sendable {
    private let running = Atomic<Bool>(true)

    init(sensor: SensorDriver, interval: Duration, deliver: @escaping @Sendable (GatewayInput) -> Void) {
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        // The thread keeps `self` alive until `stop()` lets it finish.
        let thread = Thread { [self] in
            while self.running.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: seconds)
                guard self.running.load(ordering: .relaxed) else { break }
                deliver(.sample(sensor.read()))
            }
        }
        thread.name = "rlt-sensor"
        thread.start()
    }

    func stop() {
        self.running.store(false, ordering: .relaxed)
    }
}
