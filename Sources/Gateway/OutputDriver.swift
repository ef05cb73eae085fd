import GPIO
import Logging
import SafetyCore

/// Maps the core's ``OutputCommand`` onto GPIO lines (and PWM duty for dimmable channels) and
/// reports what the hardware reads back.
///
/// Turning off never depends on another write succeeding: every write that turns something off is
/// attempted on its own, every time, whatever failed before it (the channel enables, then each
/// PWM duty to 0, then the master relay as the last resort, which cuts both channels even when an
/// enable line is stuck). Turning on happens only when every off-write of the same command
/// succeeded, and a turn-on that fails half way is undone by the same off sequence.
///
/// The readback is honest: the levels read from the lines after the writes, never the levels
/// asked for. A line that cannot be read is reported as disagreeing with the command, so the
/// core counts the dose high and its plausibility rule (S9) latches `F_OUTPUT_MISMATCH`.
package final class OutputDriver {
    private let lines: any OutputLines
    private let pwm: [Channel: any DutyOutput]
    private let hasMaster: Bool
    private let hasIndicator: Bool
    private let hasHeartbeat: Bool
    private let logger: Logger
    private var heartbeatLevel = false
    private var emitting = false
    /// Indicator blinks left for `identify` (each one an on/off pair of ticks).
    private var identifyTicksLeft = 0
    /// The errors of the last ``apply(_:)`` (empty when every write and read succeeded), logged
    /// once per change so a line that keeps failing does not flood the log.
    private var lastErrors: [String] = []

    /// Whether the last ``apply(_:)`` had a write or read fail; the loop then drives off again on
    /// every tick while the core wants the outputs off.
    package var lastApplyFailed: Bool { !self.lastErrors.isEmpty }

    package init(lines: any OutputLines, pwm: [Channel: any DutyOutput], outputs: Set<OutputRole>, logger: Logger) {
        self.lines = lines
        self.pwm = pwm
        self.hasMaster = outputs.contains(.master)
        self.hasIndicator = outputs.contains(.indicator)
        self.hasHeartbeat = outputs.contains(.heartbeat)
        self.logger = logger
    }

    /// Drives the outputs to `command` and returns the levels read back afterwards.
    package func apply(_ command: OutputCommand) -> OutputReadback {
        var errors: [String] = []
        self.emitting = command.emitting
        // Off first, each write on its own.
        self.turnOff(
            Channel.allCases.filter { command.duty[$0] <= 0 }, master: self.hasMaster && !command.master,
            into: &errors)

        if command.emitting, errors.isEmpty {
            self.turnOn(command, into: &errors)
            if !errors.isEmpty {
                // Half on is not on: back to dark, each write on its own again.
                self.turnOff(Channel.allCases, master: self.hasMaster, into: &errors)
            }
        }
        if self.hasIndicator, self.identifyTicksLeft == 0 {
            // Not a safety line: its failure is logged but decides nothing.
            var ignored: [String] = []
            self.write(.indicator, command.emitting, into: &ignored)
        }
        let readback = self.readBack(command, into: &errors)
        if errors != self.lastErrors, !errors.isEmpty {
            self.logger.error("setting outputs failed", metadata: ["gpio.error": "\(errors.joined(separator: "; "))"])
        }
        self.lastErrors = errors
        return readback
    }

    /// Drives `channels` off (enable line, then PWM duty 0) and, when `master`, the master relay last;
    /// every write is attempted whatever failed before it.
    private func turnOff(_ channels: [Channel], master: Bool, into errors: inout [String]) {
        for channel in channels { self.write(OutputRole(channel), false, into: &errors) }
        for channel in channels {
            if let pwm = self.pwm[channel], let error = pwm.disable() {
                errors.append("PWM \(channel.rawValue) duty 0: \(error.message)")
            }
        }
        if master { self.write(.master, false, into: &errors) }
    }

    /// PWM duty first while the enable lines are still off, then the master relay, then the enables.
    private func turnOn(_ command: OutputCommand, into errors: inout [String]) {
        for (channel, pwm) in self.pwm.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where command.duty[channel] > 0 {
            let wanted = command.duty[channel]
            do {
                let read = try pwm.setDuty(wanted)
                if abs(read - wanted) > 0.01 {
                    errors.append("PWM \(channel.rawValue) reads duty \(read) after writing \(wanted)")
                }
            } catch {
                errors.append("PWM \(channel.rawValue) duty \(wanted): \(error.message)")
            }
        }
        guard errors.isEmpty else { return }
        if self.hasMaster, command.master { self.write(.master, true, into: &errors) }
        guard errors.isEmpty else { return }
        for channel in Channel.allCases where command.duty[channel] > 0 {
            self.write(OutputRole(channel), true, into: &errors)
            guard errors.isEmpty else { return }
        }
    }

    private func write(_ role: OutputRole, _ on: Bool, into errors: inout [String]) {
        do {
            try self.lines.set([role: on])
        } catch {
            errors.append("\(role.lineName) \(on ? "on" : "off"): \(error.message)")
        }
    }

    /// Every output read back now; what cannot be read counts as disagreeing with `command`.
    private func readBack(_ command: OutputCommand, into errors: inout [String]) -> OutputReadback {
        let expected = command.expectedReadback
        let levels: [OutputRole: Bool]
        do {
            levels = try self.lines.readOutputs()
        } catch {
            errors.append("readback: \(error.message)")
            levels = [:]
        }
        return OutputReadback(
            red: levels[.red] ?? !expected.red,
            nir: levels[.nir] ?? !expected.nir,
            master: self.hasMaster ? (levels[.master] ?? !expected.master) : command.master)
    }

    /// Called on every healthy loop turn: toggles the heartbeat pin for an external hardware
    /// watchdog (S17) and drives the identify blink.
    package func healthyTick() {
        var levels: [OutputRole: Bool] = [:]
        if self.hasHeartbeat {
            self.heartbeatLevel.toggle()
            levels[.heartbeat] = self.heartbeatLevel
        }
        if self.hasIndicator, self.identifyTicksLeft > 0 {
            self.identifyTicksLeft -= 1
            levels[.indicator] = self.identifyTicksLeft == 0 ? self.emitting : self.identifyTicksLeft % 2 == 1
        }
        guard !levels.isEmpty else { return }
        do {
            try self.lines.set(levels)
        } catch {
            self.logger.warning("heartbeat/indicator update failed", metadata: ["gpio.error": "\(error)"])
        }
    }

    /// Blinks the indicator for a few seconds so someone can find the panel.
    package func identify() {
        guard self.hasIndicator else {
            self.logger.notice("identify requested (no indicator output configured)")
            return
        }
        self.identifyTicksLeft = 10
    }

    /// Drives every output off (PWM duty 0 too), then releases the lines.
    package func close() {
        _ = self.apply(.off)
        for (channel, pwm) in self.pwm {
            if let error = pwm.disable() {
                self.logger.error(
                    "disabling PWM failed", metadata: ["channel": "\(channel)", "gpio.error": "\(error)"])
            }
        }
        self.lines.close()
    }
}
