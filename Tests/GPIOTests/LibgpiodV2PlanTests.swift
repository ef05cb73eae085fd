import Testing

@testable import GPIO

/// The libgpiod 2 backend's decisions, checked on any machine: the default build links libgpiod 1.6, but the
/// plan the v2 backend turns into libgpiod calls is plain Swift (the calls themselves run under qemu, Tests/qemu).
@Suite struct LibgpiodV2PlanTests {
    typealias Location = LibgpiodV2Plan.ChipLocation

    /// v2 opens chips by path only; the config's spellings must still reach the chip v1 opened for them.
    @Test(arguments: [
        ("gpiochip0", Location.path("/dev/gpiochip0")),
        ("gpiochip12", Location.path("/dev/gpiochip12")),
        ("/dev/gpiochip4", Location.path("/dev/gpiochip4")),
        ("/dev/gpio-panel", Location.path("/dev/gpio-panel")),
        ("7", Location.path("/dev/gpiochip7")),
        ("pinctrl-bcm2711", Location.label("pinctrl-bcm2711")),
        ("rlt-sim", Location.label("rlt-sim")),
        ("7a", Location.label("7a")),
        ("", Location.label("")),
    ])
    func chipDescriptor_mapsToV1sChoice(descriptor: String, expected: Location) {
        #expect(Location(descriptor: descriptor) == expected)
    }

    @Test(arguments: [false, true])
    func outputSettings_startAtTheGivenPhysicalLevel_withoutEdgesOrInversion(initialPhysical: Bool) {
        let settings = LibgpiodV2Plan.LineSettings.output(initialPhysical: initialPhysical)
        #expect(settings.direction == .output(high: initialPhysical))
        #expect(!settings.detectsBothEdges)
        #expect(settings.bias == .asIs)
        #expect(!settings.activeLow)
        #expect(settings.debounceMicroseconds == 0)
    }

    @Test(arguments: GPIOBias.allCases)
    func inputSettings_watchBothEdgesWithTheConfiguredBias_physically(bias: GPIOBias) {
        let settings = LibgpiodV2Plan.LineSettings.input(bias: bias)
        #expect(settings.direction == .input)
        #expect(settings.detectsBothEdges)
        #expect(settings.bias == bias)
        #expect(!settings.activeLow)
        #expect(settings.debounceMicroseconds == 0)
    }

    @Test func twoSpecsOnOneOffset_areBusyLikeV1_namingTheSecond() {
        let lines = [
            Self.line(17, "gpiochip0 line 17 (red)"), Self.line(27, "gpiochip0 line 27 (nir)"),
            Self.line(17, "gpiochip0 line \"GPIO17\" (master)"),
        ]
        let error = captureGPIOError { try LibgpiodV2Plan.checkDistinct(lines, consumer: "rlt-test") }
        #expect(error?.code == .lineBusy)
        #expect(
            error?.message
                == "gpiochip0 line \"GPIO17\" (master) is busy: held by consumer \"rlt-test\"; stop it (`gpioinfo` "
                + "shows the holder) or pick a free line; requested by consumer \"rlt-test\"")
    }

    @Test func distinctOffsets_pass() {
        let lines = [Self.line(17, "red"), Self.line(27, "nir"), Self.line(22, "master")]
        #expect(captureGPIOError { try LibgpiodV2Plan.checkDistinct(lines, consumer: "rlt-test") } == nil)
    }

    @Test func edgeEvents_nameEachMovedInputOnce_inRequestOrder() {
        let lines = [Self.line(23, "interlock"), Self.line(24, "stop_button"), Self.line(5, "emission_sense")]
        #expect(LibgpiodV2Plan.activeIndices(eventOffsets: [24, 23, 24, 24], lines: lines) == [0, 1])
        #expect(LibgpiodV2Plan.activeIndices(eventOffsets: [5], lines: lines) == [2])
        #expect(LibgpiodV2Plan.activeIndices(eventOffsets: [], lines: lines).isEmpty)
        #expect(LibgpiodV2Plan.activeIndices(eventOffsets: [99], lines: lines).isEmpty)
    }

    private static func line(_ offset: UInt32, _ description: String) -> LibgpiodV2Plan.Line {
        LibgpiodV2Plan.Line(offset: offset, settings: .input(bias: .asIs), description: description)
    }
}
