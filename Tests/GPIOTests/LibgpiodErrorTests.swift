import GPIO
import Testing

/// The libgpiod error paths that this GPIO-less build kernel can exercise (the real chip path is tested under
/// qemu with gpio-sim, see ``GPIOSelfTest``).
@Suite struct LibgpiodErrorTests {
    private let outputs = [GPIOOutputSpec(name: "red", line: 17)]

    @Test(arguments: ["gpiochip7", "/dev/gpiochip7", "7"])
    func open_whenChipIsMissing_namesChipAndConsumer(chip: String) {
        let error = captureGPIOError {
            try GPIOController.open(
                backend: .libgpiod(chip: chip), outputs: self.outputs, inputs: [], consumer: "rlt-test",
                logger: quietLogger)
        }
        #expect(error?.code == .chipNotFound)
        #expect(error?.message.contains("GPIO chip \"\(chip)\" not found") == true)
        #expect(error?.message.contains("consumer \"rlt-test\"") == true)
    }

    @Test func open_whenNoChipHasTheLabel_namesLabelAndConsumer() {
        let error = captureGPIOError {
            try GPIOController.open(
                backend: .libgpiod(chip: "pinctrl-bcm2711"), outputs: self.outputs, inputs: [],
                consumer: "rlt-test", logger: quietLogger)
        }
        #expect(error?.code == .chipNotFound)
        #expect(error?.message.contains("labelled \"pinctrl-bcm2711\" not found") == true)
        #expect(error?.message.contains("consumer \"rlt-test\"") == true)
    }

    @Test func open_withDuplicateNames_isRefusedBeforeTheChipIsOpened() {
        let error = captureGPIOError {
            try GPIOController.open(
                backend: .libgpiod(chip: "gpiochip7"),
                outputs: [GPIOOutputSpec(name: "red", line: 17), GPIOOutputSpec(name: "red", line: 18)], inputs: [],
                consumer: "rlt-test", logger: quietLogger)
        }
        #expect(error?.code == .invalidConfiguration)
    }
}
