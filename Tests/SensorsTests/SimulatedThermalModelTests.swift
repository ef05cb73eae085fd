import Foundation
import TestKit
import Testing

@testable import Sensors

@Suite struct SimulatedThermalModelTests {
    private let parameters = SimulatedThermalModel.Parameters(
        ambientC: 25, timeConstantS: 100, redRiseC: 12, nirRiseC: 8)

    @Test func read_withBothChannelsOn_heatsTowardSteadyState() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(parameters: self.parameters, clock: { clock.now })
        model.setPower(red: true, nir: true)
        #expect(model.steadyStateC == 45)

        var previous = 25.0
        for _ in 0..<20 {
            clock.advance(seconds: 50)
            let value = model.read().celsius ?? .nan
            #expect(value > previous)
            #expect(value < 45)
            previous = value
        }
        // 1000 s = 10 τ: within e^-10 of the steady state.
        #expect(abs(previous - 45) < 0.01)
    }

    @Test func read_afterOneTimeConstant_hasCovered63PercentOfTheStep() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(parameters: self.parameters, clock: { clock.now })
        model.setPower(red: true, nir: false)
        clock.advance(seconds: 100)

        let value: Double = model.read().celsius ?? .nan
        let expected: Double = 25 + 12 * (1 - exp(-1.0))
        #expect(abs(value - expected) < 1e-9)
        #expect(abs(value - (25 + 12 * 0.632)) < 0.01)
    }

    @Test func read_doesNotDependOnHowOftenItIsRead() {
        let clockA = ManualClock()
        let clockB = ManualClock()
        let sparse = SimulatedThermalModel(parameters: self.parameters, clock: { clockA.now })
        let dense = SimulatedThermalModel(parameters: self.parameters, clock: { clockB.now })
        sparse.setPower(red: 1, nir: 0.5)
        dense.setPower(red: 1, nir: 0.5)

        clockA.advance(seconds: 150)
        for _ in 0..<150 {
            clockB.advance(seconds: 1)
            _ = dense.read()
        }
        let sparseValue: Double = sparse.read().celsius ?? .nan
        let denseValue: Double = dense.read().celsius ?? .nan
        #expect(abs(sparseValue - denseValue) < 1e-9)
    }

    @Test func read_withChannelsOff_coolsToAmbient() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(parameters: self.parameters, initialC: 60, clock: { clock.now })
        clock.advance(seconds: 100)
        let afterOneTau: Double = model.read().celsius ?? .nan
        let expected: Double = 25 + 35 * exp(-1.0)
        #expect(abs(afterOneTau - expected) < 1e-9)

        clock.advance(seconds: 2000)
        let settled: Double = model.read().celsius ?? .nan
        #expect(abs(settled - 25) < 1e-6)
    }

    @Test func setPower_appliesFromItsInstantOn() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(parameters: self.parameters, clock: { clock.now })
        clock.advance(seconds: 100)  // off: stays at ambient
        model.setPower(red: true, nir: false)
        clock.advance(seconds: 100)

        let expected: Double = 25 + 12 * (1 - exp(-1.0))
        let value: Double = model.read().celsius ?? .nan
        #expect(abs(value - expected) < 1e-9)
    }

    @Test func setPower_withHalfDuty_halvesTheSteadyRise() {
        let model = SimulatedThermalModel(parameters: self.parameters, clock: { 0 })
        model.setPower(red: 0.5, nir: 0.25)
        let expected: Double = 33
        #expect(model.steadyStateC == expected)
        model.setPower(red: 7, nir: -1)  // clamped to 0…1
        #expect(model.steadyStateC == 37)
    }

    @Test func inject_stuck_reportsTheStuckValueWhileThePanelHeats() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(parameters: self.parameters, clock: { clock.now })
        model.setPower(red: true, nir: true)
        model.inject(.stuck(31))
        clock.advance(seconds: 100)

        #expect(model.read() == .celsius(31))
        #expect(model.temperatureC > 31)

        model.inject(.none)
        let resumed: Double = model.read().celsius ?? .nan
        let expected: Double = 45 - 20 * exp(-1.0)
        #expect(abs(resumed - expected) < 1e-9)
    }

    @Test func inject_invalid_reportsInvalidWithReason() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(parameters: self.parameters, clock: { clock.now })
        model.inject(.invalid)
        #expect(model.read() == .invalid("simulated sensor: injected invalid reading"))
    }

    @Test func inject_stale_repeatsTheLastSampleWithItsOldTime() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(parameters: self.parameters, clock: { clock.now })
        model.setPower(red: true, nir: false)
        clock.advance(seconds: 10)
        let last = model.read()
        model.inject(.stale)
        clock.advance(seconds: 10)

        #expect(model.read() == last)
        clock.advance(seconds: 10)
        #expect(model.read() == last)

        model.inject(.none)
        let fresh = model.read()
        #expect((fresh.celsius ?? 0) > (last.celsius ?? .nan))
    }

    @Test func read_whenClockGoesBackwards_doesNotRunInReverse() {
        let clock = ManualClock(start: 1_000_000_000_000)
        let model = SimulatedThermalModel(parameters: self.parameters, initialC: 40, clock: { clock.now })
        clock.advance(seconds: -500)
        #expect(model.read().celsius == 40)
    }

    @Test func init_withNonPositiveTimeConstant_usesOneSecond() {
        let clock = ManualClock()
        let model = SimulatedThermalModel(
            ambientC: 20, timeConstantS: 0, redRiseC: 10, nirRiseC: 10, initialC: 20, clock: { clock.now })
        #expect(model.parameters.timeConstantS == 1)
        model.setPower(red: true, nir: false)
        clock.advance(seconds: 1)
        let value: Double = model.read().celsius ?? .nan
        let expected: Double = 20 + 10 * (1 - exp(-1.0))
        #expect(abs(value - expected) < 1e-9)
    }
}
