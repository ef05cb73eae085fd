import GPIO
import Gateway
import MQTT
import SafetyCore

/// The output lines as the simulated panel really has them: physical levels, with injectable write
/// errors, read errors and lines stuck at a level.
package final class SimulatedLines: OutputLines {
    /// The level each line really has.
    package private(set) var levels: [OutputRole: Bool]
    /// Lines whose writes fail while set.
    package var failingWrites: Set<OutputRole> = []
    /// Lines that keep this level whatever is written (a welded relay, a shorted driver).
    package var stuck: [OutputRole: Bool] = [:]
    package var readsFail = false
    /// Writes that failed, for the report.
    package private(set) var failedWrites = 0
    /// Called before any level changes, so the simulator accounts the light up to that instant.
    package var willChange: () -> Void = {}

    package init(_ roles: [OutputRole]) {
        self.levels = Dictionary(uniqueKeysWithValues: roles.map { ($0, false) })
    }

    package func set(_ levels: [OutputRole: Bool]) throws(GPIOError) {
        // Like the real controller: off before on, stopping at the first failure.
        let ordered = levels.sorted { ($0.value ? 1 : 0, $0.key.lineName) < ($1.value ? 1 : 0, $1.key.lineName) }
        for (role, on) in ordered {
            guard self.levels[role] != nil else { throw GPIOError(.unknownLine, "no output \(role.lineName)") }
            if self.failingWrites.contains(role) {
                self.failedWrites += 1
                throw GPIOError(.ioFailed, "simulated chip line \(role.lineName): write failed (EIO)", errno: 5)
            }
            self.willChange()
            self.levels[role] = self.stuck[role] ?? on
        }
    }

    package func readOutputs() throws(GPIOError) -> [OutputRole: Bool] {
        if self.readsFail { throw GPIOError(.ioFailed, "simulated chip: read failed (EIO)", errno: 5) }
        return self.levels
    }

    package func close() {
        self.willChange()
        for role in self.levels.keys { self.levels[role] = self.stuck[role] ?? false }
    }

    /// A power cut: every line without power, stuck or not.
    package func powerCut() {
        self.willChange()
        for role in self.levels.keys { self.levels[role] = false }
    }

    /// A fresh start after a power cut: stuck lines come back stuck.
    package func powerUp() {
        self.willChange()
        for (role, level) in self.stuck { self.levels[role] = level }
    }
}

/// One PWM channel of the simulated panel: the duty it really runs at, with injectable write errors.
package final class SimulatedPWM: DutyOutput {
    package private(set) var duty: Double = 0
    package var writesFail = false
    package private(set) var failedWrites = 0
    /// Called before the duty changes (see ``SimulatedLines/willChange``).
    package var willChange: () -> Void = {}

    package init() {}

    package func setDuty(_ duty: Double) throws(GPIOError) -> Double {
        if self.writesFail {
            self.failedWrites += 1
            throw GPIOError(.pwmFailed, "simulated pwm: writing duty_cycle failed (EIO)", errno: 5)
        }
        self.willChange()
        self.duty = min(1, max(0, duty))
        return self.duty
    }

    package func disable() -> GPIOError? {
        if self.writesFail {
            self.failedWrites += 1
            return GPIOError(.pwmFailed, "simulated pwm: writing duty_cycle failed (EIO)", errno: 5)
        }
        self.willChange()
        self.duty = 0
        return nil
    }
}

/// Collects what the loop publishes; the simulator reads responses and events from it.
package final class SimulatedPublisher: MessagePublisher {
    package var statistics = MQTTStatistics()
    package private(set) var outbox: [MQTTMessage] = []
    private let interesting: Set<String>

    package init(topics: Set<String>) {
        self.interesting = topics
    }

    package func publish(_ message: MQTTMessage, queueing: MQTTQueueing) {
        // Only responses and events are read back; state and telemetry are encoded (the loop's
        // work is real) but not kept.
        if self.interesting.contains(message.topic) { self.outbox.append(message) }
    }

    package func take() -> [MQTTMessage] {
        defer { self.outbox.removeAll(keepingCapacity: true) }
        return self.outbox
    }
}
