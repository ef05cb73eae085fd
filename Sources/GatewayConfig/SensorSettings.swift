import SafetyCore

/// Where the panel temperature comes from and how often it is read.
public struct SensorSettings: Sendable, Hashable {
    public enum SensorType: String, Sendable, Hashable, CaseIterable {
        /// Millidegrees Celsius in a sysfs file (`thermal_zone*/temp`, `hwmon*/temp*_input`).
        case sysfs
        /// A DS18B20's `w1_slave` file (`… t=23125`).
        case w1
        /// A plain file holding millidegrees, exactly as sysfs does; tests and demos write it.
        case file
        /// A first-order thermal model driven by the LED outputs.
        case simulated
    }

    public var type: SensorType
    /// The file to read; `nil` only for the simulated sensor.
    public var path: String?
    public var intervalMs: Int
    /// Parameters of the simulated sensor (ignored by the others).
    public var simulated: SimulatedThermal

    public init(
        type: SensorType = .sysfs, path: String? = SensorSettings.defaultSysfsPath, intervalMs: Int = 250,
        simulated: SimulatedThermal = SimulatedThermal()
    ) {
        self.type = type
        self.path = path
        self.intervalMs = intervalMs
        self.simulated = simulated
    }

    /// The SoC's first thermal zone, present on every Raspberry Pi.
    public static let defaultSysfsPath = "/sys/class/thermal/thermal_zone0/temp"
}

/// A first-order thermal model: the panel approaches `ambient + Σ rise(channel) × duty` with time
/// constant `tau`.
///
/// The defaults (25 °C, 300 s, +15 °C red, +12 °C NIR) settle near 52 °C with both channels on:
/// warm enough to exercise the warning and cutoff rules when a demo lowers them, cool enough not to
/// trip the defaults.
public struct SimulatedThermal: Sendable, Hashable {
    public var ambientC: Double
    public var timeConstantSeconds: Double
    /// Steady-state rise above ambient per channel at 100 % intensity.
    public var riseC: PerChannel<Double>

    public init(
        ambientC: Double = 25, timeConstantSeconds: Double = 300,
        riseC: PerChannel<Double> = PerChannel(red: 15, nir: 12)
    ) {
        self.ambientC = ambientC
        self.timeConstantSeconds = timeConstantSeconds
        self.riseC = riseC
    }
}
