import SafetyCore
import Sensors

/// The panel's temperature source; for the simulated model it also feeds the heat the LEDs make.
package final class SensorDriver: Sendable {
    private let sensor: any TemperatureSensor
    private let model: SimulatedThermalModel?

    package init(sensor: any TemperatureSensor, model: SimulatedThermalModel?) {
        self.sensor = sensor
        self.model = model
    }

    func read() -> SensorSample { self.sensor.read() }

    /// The simulated panel heats from what the lines really do (readback), not from the command.
    package func outputsChanged(_ readback: OutputReadback) {
        self.model?.setPower(red: readback.red ? 1 : 0, nir: readback.nir ? 1 : 0)
    }
}
