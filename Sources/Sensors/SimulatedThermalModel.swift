#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Clocks
import Synchronization

/// A simulated panel temperature: a first-order thermal model driven by which LED channels are on.
///
/// The panel's heat sink behaves, to a good approximation, like one thermal mass with one path to ambient, so
/// `dT/dt = (ambient + heatRise(power) − T) / τ`, where `heatRise` is the sum of each channel's steady-state rise
/// weighted by its duty (0…1). ``read()`` advances the model to the monotonic time of the read with the exact
/// solution `T(t+Δ) = Tₛ + (T − Tₛ)·e^(−Δ/τ)`, so the result does not depend on how often it is read.
///
/// Fault injection (``Fault``) changes what ``read()`` reports, never the physics underneath: after
/// `inject(.none)` readings continue from the true temperature the panel has reached meanwhile.
///
/// The model is shared between the output path (``setPower(red:nir:)``) and the sampler (``read()``), so its state
/// lives in a `Mutex`.
public final class SimulatedThermalModel: TemperatureSensor {
    /// What ``read()`` reports instead of the modelled temperature.
    public enum Fault: Sendable, Hashable {
        /// Report the modelled temperature (no fault).
        case none
        /// Report this value on every read, like a sensor stuck at one reading.
        case stuck(Double)
        /// Report ``SensorSample/invalid(_:)`` on every read, like a failing read.
        case invalid
        /// Repeat the last sample verbatim, including its old monotonic time, like a driver that stopped updating;
        /// a consumer that tracks sample times sees no new sample.
        case stale
    }

    /// The model's fixed parameters.
    public struct Parameters: Sendable, Hashable {
        /// Ambient temperature, °C: where the panel settles with every channel off.
        public var ambientC: Double
        /// Thermal time constant τ, seconds: the time to cover 63 % of a step towards the steady state.
        public var timeConstantS: Double
        /// Steady-state rise above ambient with only the red channel on at full duty, °C.
        public var redRiseC: Double
        /// Steady-state rise above ambient with only the NIR channel on at full duty, °C.
        public var nirRiseC: Double

        public init(ambientC: Double = 25, timeConstantS: Double = 240, redRiseC: Double = 12, nirRiseC: Double = 10) {
            self.ambientC = ambientC
            self.timeConstantS = timeConstantS
            self.redRiseC = redRiseC
            self.nirRiseC = nirRiseC
        }
    }

    private struct State {
        var temperatureC: Double
        var redDuty: Double
        var nirDuty: Double
        var lastAdvance: Int64
        var fault: Fault
        var lastSample: SensorSample?
    }

    /// The parameters the model was created with.
    public let parameters: Parameters
    private let clock: @Sendable () -> Int64
    private let state: Mutex<State>

    /// Creates a model at `initialC` (ambient when `nil`) with both channels off.
    ///
    /// - Parameters:
    ///   - parameters: Ambient, time constant and per-channel steady rise. A non-positive time constant is treated
    ///     as 1 s so the model can never divide by zero.
    ///   - initialC: The starting temperature; ambient when `nil`.
    ///   - clock: Monotonic nanoseconds; tests inject a clock they advance by hand.
    public init(
        parameters: Parameters = Parameters(),
        initialC: Double? = nil,
        clock: @escaping @Sendable () -> Int64 = MonotonicClock.nanoseconds
    ) {
        var checked = parameters
        if !(checked.timeConstantS > 0) { checked.timeConstantS = 1 }
        self.parameters = checked
        self.clock = clock
        self.state = Mutex(
            State(
                temperatureC: initialC ?? checked.ambientC, redDuty: 0, nirDuty: 0, lastAdvance: clock(),
                fault: .none, lastSample: nil
            )
        )
    }

    /// Creates a model from flat parameters (the config's `sensor.simulated` values); see ``Parameters``.
    public convenience init(
        ambientC: Double, timeConstantS: Double, redRiseC: Double, nirRiseC: Double, initialC: Double? = nil,
        clock: @escaping @Sendable () -> Int64 = MonotonicClock.nanoseconds
    ) {
        self.init(
            parameters: Parameters(
                ambientC: ambientC, timeConstantS: timeConstantS, redRiseC: redRiseC, nirRiseC: nirRiseC),
            initialC: initialC, clock: clock)
    }

    /// Sets the power of each channel as a duty from 0 (off) to 1 (full), clamped into that range.
    ///
    /// The model first advances to now under the previous power, so a change takes effect from this instant on.
    public func setPower(red: Double, nir: Double) {
        let now = self.clock()
        self.state.withLock { state in
            self.advance(&state, to: now)
            state.redDuty = Self.clampDuty(red)
            state.nirDuty = Self.clampDuty(nir)
        }
    }

    /// Sets each channel fully on or off.
    public func setPower(red: Bool, nir: Bool) {
        self.setPower(red: red ? 1.0 : 0.0, nir: nir ? 1.0 : 0.0)
    }

    /// Makes ``read()`` report `fault` from now on; `.none` returns to the modelled temperature.
    public func inject(_ fault: Fault) {
        self.state.withLock { $0.fault = fault }
    }

    /// The modelled (true) temperature now, regardless of any injected fault.
    public var temperatureC: Double {
        let now = self.clock()
        return self.state.withLock { state in
            self.advance(&state, to: now)
            return state.temperatureC
        }
    }

    /// The temperature the panel settles at under the current power.
    public var steadyStateC: Double {
        self.state.withLock { self.steadyState(of: $0) }
    }

    public func read() -> SensorSample {
        let now = self.clock()
        return self.state.withLock { state in
            self.advance(&state, to: now)
            let sample: SensorSample
            switch state.fault {
            case .none:
                sample = .celsius(state.temperatureC)
            case .stuck(let value):
                sample = .celsius(value)
            case .invalid:
                sample = .invalid("simulated sensor: injected invalid reading")
            case .stale:
                // Nothing new: repeat the last sample, or the current one when nothing was read yet.
                sample = state.lastSample ?? .celsius(state.temperatureC)
            }
            state.lastSample = sample
            return sample
        }
    }

    private func steadyState(of state: State) -> Double {
        self.parameters.ambientC + self.parameters.redRiseC * state.redDuty + self.parameters.nirRiseC * state.nirDuty
    }

    private func advance(_ state: inout State, to now: Int64) {
        // A clock that went backwards (an injected test clock) must not run the model in reverse.
        let elapsed = max(0, Double(now &- state.lastAdvance) / 1e9)
        state.lastAdvance = max(state.lastAdvance, now)
        guard elapsed > 0 else { return }
        let target = self.steadyState(of: state)
        state.temperatureC = target + (state.temperatureC - target) * exp(-elapsed / self.parameters.timeConstantS)
    }

    private static func clampDuty(_ duty: Double) -> Double {
        guard duty.isFinite else { return 0 }
        return min(1, max(0, duty))
    }
}
