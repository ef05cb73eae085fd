import GPIO
import Logging
import SafetyCore

/// Maps the core's ``OutputCommand`` onto GPIO lines and reports what the lines read back.
///
/// A set that fails leaves the hardware in an unknown state; the driver then reports a readback
/// that disagrees with the command, so the core's output-plausibility rule (S9) latches
/// `F_OUTPUT_MISMATCH` and keeps emission off instead of trusting a line nobody can read.
final class OutputDriver {
    private let gpio: GPIOController
    private let hasMaster: Bool
    private let logger: Logger

    init(gpio: GPIOController, hasMaster: Bool, logger: Logger) {
        self.gpio = gpio
        self.hasMaster = hasMaster
        self.logger = logger
    }

    func apply(_ command: OutputCommand) -> OutputReadback {
        var levels = ["red": command.duty.red > 0, "nir": command.duty.nir > 0]
        if self.hasMaster { levels["master"] = command.master }
        do {
            let readback = try self.gpio.set(levels)
            return OutputReadback(
                red: readback["red"] ?? true,
                nir: readback["nir"] ?? true,
                master: self.hasMaster ? (readback["master"] ?? true) : command.master)
        } catch {
            self.logger.error("setting outputs failed", metadata: ["gpio.error": "\(error)"])
            let expected = command.expectedReadback
            return OutputReadback(red: !expected.red, nir: !expected.nir, master: !expected.master)
        }
    }

    func set(indicator: Bool) {
        _ = try? self.gpio.set(["indicator": indicator])
    }

    /// Drives every output off, then releases the lines.
    func close() {
        self.gpio.close()
    }
}
