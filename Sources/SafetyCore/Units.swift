/// A point on the monotonic clock, in nanoseconds since an arbitrary origin.
///
/// Sessions, dose integration and every safety timeout run on this clock only; wall time merely
/// labels records, so a wall-clock jump can neither extend nor shorten a session.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func seconds(_ s: Double) -> Instant { Instant(nanoseconds: Int64(s * 1e9)) }
    public static func milliseconds(_ ms: Int64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }

    /// Seconds elapsed from `earlier` to `self` (negative when `earlier` is later).
    public func seconds(since earlier: Instant) -> Double {
        Double(self.nanoseconds &- earlier.nanoseconds) / 1e9
    }

    public func adding(seconds: Double) -> Instant {
        Instant(nanoseconds: self.nanoseconds &+ Int64(seconds * 1e9))
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    public var description: String { "\(Double(self.nanoseconds) / 1e9)s" }
}

/// A temperature in degrees Celsius.
public struct Celsius: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Double
    public init(_ value: Double) { self.value = value }
    public static func < (lhs: Celsius, rhs: Celsius) -> Bool { lhs.value < rhs.value }
    public var description: String { "\(self.value) °C" }
}

/// A radiant exposure (fluence) in J/cm², the unit photobiomodulation doses are prescribed in.
public struct Dose: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var joulesPerCm2: Double
    public init(joulesPerCm2: Double) { self.joulesPerCm2 = joulesPerCm2 }
    public static let zero = Dose(joulesPerCm2: 0)
    public static func < (lhs: Dose, rhs: Dose) -> Bool { lhs.joulesPerCm2 < rhs.joulesPerCm2 }
    public static func + (lhs: Dose, rhs: Dose) -> Dose { Dose(joulesPerCm2: lhs.joulesPerCm2 + rhs.joulesPerCm2) }
    public static func - (lhs: Dose, rhs: Dose) -> Dose { Dose(joulesPerCm2: lhs.joulesPerCm2 - rhs.joulesPerCm2) }
    public var description: String { "\(self.joulesPerCm2) J/cm²" }

    /// The dose delivered by a channel of `irradianceMWPerCm2` at `duty` for `seconds`.
    ///
    /// `dose (J/cm²) = irradiance (mW/cm²) × duty × seconds / 1000` (docs/DESIGN.md, "Dose").
    public static func delivered(irradianceMWPerCm2: Double, duty: Double, seconds: Double) -> Dose {
        Dose(joulesPerCm2: irradianceMWPerCm2 * duty * max(0, seconds) / 1000)
    }
}

/// One LED channel of the panel.
public enum Channel: String, CaseIterable, Hashable, Sendable, Codable {
    case red
    case nir
}

/// The channels a session uses, as named on the wire (`red`, `nir`, `both`).
public enum ChannelSelection: String, CaseIterable, Hashable, Sendable, Codable {
    case red
    case nir
    case both

    public var channels: [Channel] {
        switch self {
        case .red: [.red]
        case .nir: [.nir]
        case .both: [.red, .nir]
        }
    }

    public func includes(_ channel: Channel) -> Bool { self.channels.contains(channel) }
}

/// A value for each channel; used for per-channel dose and duty.
public struct PerChannel<Value: Sendable & Hashable>: Hashable, Sendable {
    public var red: Value
    public var nir: Value

    public init(red: Value, nir: Value) {
        self.red = red
        self.nir = nir
    }

    public subscript(channel: Channel) -> Value {
        get {
            switch channel {
            case .red: self.red
            case .nir: self.nir
            }
        }
        set {
            switch channel {
            case .red: self.red = newValue
            case .nir: self.nir = newValue
            }
        }
    }
}

extension PerChannel where Value == Dose {
    public static let zero = PerChannel(red: .zero, nir: .zero)
    public var total: Dose { self.red + self.nir }
}
