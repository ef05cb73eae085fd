import SafetyCore

/// The LED channels' calibration; dose is computed from these figures.
public struct ChannelsSettings: Sendable, Hashable {
    public var red: ChannelCalibration
    public var nir: ChannelCalibration

    public init(
        red: ChannelCalibration = ChannelCalibration(
            wavelengthNm: 660, irradianceMWPerCm2: SafetySettings.defaults.irradianceMWPerCm2.red),
        nir: ChannelCalibration = ChannelCalibration(
            wavelengthNm: 850, irradianceMWPerCm2: SafetySettings.defaults.irradianceMWPerCm2.nir)
    ) {
        self.red = red
        self.nir = nir
    }

    public subscript(channel: Channel) -> ChannelCalibration {
        switch channel {
        case .red: self.red
        case .nir: self.nir
        }
    }
}

/// One channel's peak wavelength and its calibrated irradiance at the treatment distance, 100 % intensity.
public struct ChannelCalibration: Sendable, Hashable {
    public var wavelengthNm: Int
    public var irradianceMWPerCm2: Double

    public init(wavelengthNm: Int, irradianceMWPerCm2: Double) {
        self.wavelengthNm = wavelengthNm
        self.irradianceMWPerCm2 = irradianceMWPerCm2
    }
}
