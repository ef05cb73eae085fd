import GPIO
import GatewayConfig
import Logging

/// Drives every configured output to its OFF level and releases it, PWM duty included: what the
/// systemd unit runs after the daemon exits for any reason (`ExecStopPost=`), a crash, `kill -9` and
/// a watchdog kill included. docs/DESIGN.md, "Dark when the daemon dies".
///
/// It works only once the daemon's lines are free: the kernel releases them when the process is
/// gone, and a process that merely hangs still holds them (the board's dead-man covers that case).
public enum OutputsOff {
    /// Whether two configurations reach the same outputs: the same chip (or simulator directory), the
    /// same lines, levels and PWM. `outputs-off` then drives them once, not once per source.
    public static func sameOutputs(_ first: GatewayConfiguration, _ second: GatewayConfiguration) -> Bool {
        first.gpioBackend == second.gpioBackend && first.gpio.outputs == second.gpio.outputs
    }

    /// Returns what could not be driven off, one line each; empty when every output is off.
    public static func drive(_ configuration: GatewayConfiguration, logger: Logger) -> [String] {
        var failures: [String] = []
        do {
            // Requested at their OFF level, then closed: close drives OFF again and releases.
            let gpio = try GPIOController.open(
                backend: configuration.gpioBackend, outputs: configuration.gpioOutputs, inputs: [],
                consumer: "rlt-gateway-off", logger: logger)
            gpio.close()
        } catch {
            failures.append("GPIO outputs: \(error.message)")
        }
        do {
            for (channel, pwm) in try configuration.makePWM() {
                if let error = pwm.disable() { failures.append("PWM \(channel.rawValue): \(error.message)") }
            }
        } catch {
            failures.append("PWM: \(error)")
        }
        return failures
    }
}
