import Glibc
import Testing

@testable import GPIO

/// The messages both kernel backends (libgpiod v1 and v2) build their errors with: what the operator reads must
/// not depend on which libgpiod the board's distribution ships.
@Suite struct LibgpiodErrorsTests {
    @Test(arguments: [
        (ENOENT, GPIOError.Code.chipNotFound), (ENODEV, .chipNotFound), (ENOTTY, .chipNotFound),
        (EACCES, .permissionDenied), (EPERM, .permissionDenied), (EIO, .chipOpenFailed),
    ])
    func chipOpen_classifiesErrno_andNamesChipAndConsumer(code: Int32, expected: GPIOError.Code) {
        let error = LibgpiodErrors.chipOpen(descriptor: "gpiochip7", errno: code, consumer: "rlt-test")
        #expect(error.code == expected)
        #expect(error.errno == code)
        #expect(error.message.contains("GPIO chip \"gpiochip7\""))
        #expect(error.message.contains("consumer \"rlt-test\""))
    }

    @Test func busyLine_namesTheHolder_orSaysAnotherConsumer() {
        let held = LibgpiodErrors.request(
            description: "gpiochip0 line 17 (red)", errno: EBUSY, consumer: "rlt-gateway", bias: nil
        ) { "gpioset" }
        #expect(held.code == .lineBusy)
        #expect(
            held.message
                == "gpiochip0 line 17 (red) is busy: held by consumer \"gpioset\"; stop it (`gpioinfo` shows the "
                + "holder) or pick a free line; requested by consumer \"rlt-gateway\"")
        let unknown = LibgpiodErrors.request(
            description: "gpiochip0 line 17 (red)", errno: EBUSY, consumer: "rlt-gateway", bias: nil
        ) { nil }
        #expect(unknown.message.contains("held by another consumer;"))
    }

    @Test func holder_isAskedOnlyForBusy() {
        var asked = false
        let error = LibgpiodErrors.request(
            description: "gpiochip0 line 23 (interlock)", errno: EIO, consumer: "rlt-gateway", bias: .pullUp
        ) {
            asked = true
            return "x"
        }
        #expect(!asked)
        #expect(error.code == .requestFailed)
    }

    @Test func refusedBias_hintsAtKernelAndDriver_onlyForARealBias() {
        let pulled = LibgpiodErrors.request(
            description: "gpiochip0 line 23 (interlock)", errno: EINVAL, consumer: "rlt-gateway", bias: .pullUp
        ) { nil }
        #expect(pulled.code == .requestFailed)
        #expect(
            pulled.message.hasSuffix(
                "; bias pull-up needs Linux ≥ 5.5 and a driver that supports it (try bias: as-is)"))
        let asIs = LibgpiodErrors.request(
            description: "gpiochip0 line 23 (interlock)", errno: EINVAL, consumer: "rlt-gateway", bias: .asIs
        ) { nil }
        #expect(!asIs.message.contains("bias"))
    }

    @Test func missingLabel_listsTheChipsSeen() {
        let none = LibgpiodErrors.labelNotFound(label: "pinctrl-bcm2711", seen: [], consumer: "rlt-test")
        #expect(none.code == .chipNotFound)
        #expect(none.message.hasSuffix("; no GPIO chips exist"))
        let some = LibgpiodErrors.labelNotFound(
            label: "pinctrl-bcm2711", seen: ["gpiochip0 [rlt-sim]", "gpiochip1 [other]"], consumer: "rlt-test")
        #expect(some.message.hasSuffix("; chips: gpiochip0 [rlt-sim], gpiochip1 [other]"))
    }

    @Test func outOfRange_showsTheChipsLines() {
        let error = LibgpiodErrors.lineOutOfRange(
            description: "gpiochip0 line 100000 (far)", offset: 100_000, chipName: "gpiochip0", lineCount: 32,
            consumer: "rlt-test")
        #expect(error.code == .lineOutOfRange)
        #expect(error.message.contains("offset 100000 is out of range, gpiochip0 has lines 0…31"))
    }
}
