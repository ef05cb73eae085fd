#if canImport(Glibc)
import Glibc
#endif
import GPIO
import Logging
import SafetyCore

// rlt-gpio-selftest: the real-kernel GPIO check run inside qemu against the kernel's gpio-sim
// (Tests/qemu/run.sh), and against the simulated chip in a temp dir on any machine.
//
// It proves two things with the chip observed only from outside (sysfs `value` / `pull` files):
// 1. the GPIO layer itself (``GPIOSelfTest``): OFF at request, set + readback, active_low, edges,
//    busy lines, release;
// 2. the safety path: the state machine's outputs reach the lines, and an interlock pull change
//    arrives as an edge event that turns emission off at once (S10).
//
// Usage: rlt-gpio-selftest [--simulated DIR]   (default: $RLT_GPIO_CHIP and $RLT_GPIOSIM_DIR)
// Prints `ok - …` / `not ok - …` lines; exits 1 on any failure.

let environment = ProcessEnvironment.current
let arguments = CommandLine.arguments
let backend: GPIOBackendSelection
let sysfs: String
if let flag = arguments.firstIndex(of: "--simulated"), flag + 1 < arguments.count {
    sysfs = arguments[flag + 1]
    backend = .simulated(directory: sysfs)
} else if let chip = environment["RLT_GPIO_CHIP"], let directory = environment["RLT_GPIOSIM_DIR"] {
    sysfs = directory
    backend = .libgpiod(chip: chip)
} else {
    print("not ok - usage: rlt-gpio-selftest --simulated DIR, or set RLT_GPIO_CHIP and RLT_GPIOSIM_DIR")
    exit(2)
}

var logger = Logger(label: "rlt-gpio-selftest")
logger.logLevel = .warning
/// Counts failed checks; only touched from the main task.
final class Tally {
    var failures = 0

    func report(_ ok: Bool, _ text: String) {
        print("\(ok ? "ok" : "not ok") - \(text)")
        if !ok { self.failures += 1 }
    }
}
let tally = Tally()
let report = tally.report

do {
    for line in try await GPIOSelfTest.run(.init(backend: backend, sysfsDirectory: sysfs), logger: logger) {
        report(true, line)
    }
} catch {
    report(false, "\(error)")
}

do {
    try await SafetyPathCheck(backend: backend, sysfs: sysfs, logger: logger).run(report: report)
} catch {
    report(false, "safety path: \(error)")
}
exit(tally.failures == 0 ? 0 : 1)
