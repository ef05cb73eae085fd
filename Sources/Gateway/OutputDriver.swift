import GPIO
import Logging
import SafetyCore

/// Maps the core's ``OutputCommand`` onto GPIO lines (and sysfs PWM for dimmable channels) and
/// reports what the hardware reads back.
///
/// A set that fails leaves the hardware in an unknown state; the driver then reports a readback
/// that disagrees with the command, so the core's output-plausibility rule (S9) latches
/// `F_OUTPUT_MISMATCH` and keeps emission off instead of trusting a line nobody can read.
final class OutputDriver {
    private let gpio: GPIOController
    private let pwm: [Channel: SysfsPWM]
    private let hasMaster: Bool
    private let hasIndicator: Bool
    private let hasHeartbeat: Bool
    private let logger: Logger
    private var heartbeatLevel = false
    private var emitting = false
    /// Indicator blinks left for `identify` (each one an on/off pair of ticks).
    private var identifyTicksLeft = 0

    init(gpio: GPIOController, pwm: [Channel: SysfsPWM], outputNames: Set<String>, logger: Logger) {
        self.gpio = gpio
        self.pwm = pwm
        self.hasMaster = outputNames.contains("master")
        self.hasIndicator = outputNames.contains("indicator")
        self.hasHeartbeat = outputNames.contains("heartbeat")
        self.logger = logger
    }

    func apply(_ command: OutputCommand) -> OutputReadback {
        var levels = ["red": command.duty.red > 0, "nir": command.duty.nir > 0]
        if self.hasMaster { levels["master"] = command.master }
        // The indicator shows emission unless it is busy blinking for `identify`.
        if self.hasIndicator, self.identifyTicksLeft == 0 { levels["indicator"] = command.emitting }
        self.emitting = command.emitting
        do {
            // Duty first while the enable line is still in its old state; off goes the other way round
            // inside `set` (OFF levels are written before ON levels).
            var dutyAgrees = true
            for (channel, pwm) in self.pwm {
                let wanted = command.duty[channel]
                let readDuty = try pwm.setDuty(wanted)
                if abs(readDuty - wanted) > 0.01 { dutyAgrees = false }
            }
            let readback = try self.gpio.set(levels)
            let red = readback["red"] ?? true
            let nir = readback["nir"] ?? true
            return OutputReadback(
                red: dutyAgrees ? red : !red,
                nir: dutyAgrees ? nir : !nir,
                master: self.hasMaster ? (readback["master"] ?? true) : command.master)
        } catch {
            self.logger.error("setting outputs failed", metadata: ["gpio.error": "\(error)"])
            let expected = command.expectedReadback
            return OutputReadback(red: !expected.red, nir: !expected.nir, master: !expected.master)
        }
    }

    /// Called on every healthy loop turn: toggles the heartbeat pin for an external hardware
    /// watchdog (S17) and drives the identify blink.
    func healthyTick() {
        var levels: [String: Bool] = [:]
        if self.hasHeartbeat {
            self.heartbeatLevel.toggle()
            levels["heartbeat"] = self.heartbeatLevel
        }
        if self.hasIndicator, self.identifyTicksLeft > 0 {
            self.identifyTicksLeft -= 1
            levels["indicator"] = self.identifyTicksLeft == 0 ? self.emitting : self.identifyTicksLeft % 2 == 1
        }
        guard !levels.isEmpty else { return }
        do {
            _ = try self.gpio.set(levels)
        } catch {
            self.logger.warning("heartbeat/indicator update failed", metadata: ["gpio.error": "\(error)"])
        }
    }

    /// Blinks the indicator for a few seconds so someone can find the panel.
    func identify() {
        guard self.hasIndicator else {
            self.logger.notice("identify requested (no indicator output configured)")
            return
        }
        self.identifyTicksLeft = 10
    }

    /// Drives every output off (PWM duty 0 too), then releases the lines.
    func close() {
        for (channel, pwm) in self.pwm {
            if let error = pwm.disable() {
                self.logger.error("disabling PWM failed", metadata: ["channel": "\(channel)", "gpio.error": "\(error)"])
            }
        }
        self.gpio.close()
    }
}
