import GPIO
import Testing

@Suite struct GPIOSelfTestTests {
    @Test func selfTest_againstTheSimulatedChip_passesEveryCheck() async throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        let report = try await GPIOSelfTest.run(
            GPIOSelfTest.Configuration(
                backend: chip.backend, sysfsDirectory: chip.path, outputLine: 3,
                activeLowOutputLine: 4, inputLine: 5, edgeTimeoutSeconds: 30),  // generous: a loaded machine
            logger: quietLogger)
        #expect(report.count == 9)
        #expect(report.contains("a held line is busy for a second consumer"))
    }

    @Test func selfTest_whenTheChipIsMissing_failsAtOpenNamingTheChip() async throws {
        let chip = try SimulatedChipDirectory()
        defer { chip.remove() }
        do {
            _ = try await GPIOSelfTest.run(
                GPIOSelfTest.Configuration(backend: .libgpiod(chip: "gpiochip7"), sysfsDirectory: chip.path),
                logger: quietLogger)
            Issue.record("the self-test passed without a chip")
        } catch {
            #expect(error.check == "open requests outputs OFF")
            #expect(error.message.contains("\"gpiochip7\""))
        }
    }
}
