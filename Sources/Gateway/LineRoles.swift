import SafetyCore

/// What an output line does for the gateway.
///
/// The GPIO adapter knows lines by name; the names are spelled here once, and everything in the
/// gateway (the config's specs, the output driver, the readback) goes through the role, so the
/// core's identities and the adapter's names cannot drift apart.
package enum OutputRole: String, CaseIterable, Hashable, Sendable {
    case red, nir, master, indicator, heartbeat

    /// The enable line of a light channel.
    package init(_ channel: Channel) {
        switch channel {
        case .red: self = .red
        case .nir: self = .nir
        }
    }

    /// The line's name in the GPIO adapter.
    package var lineName: String { self.rawValue }

    /// The role of a line the GPIO adapter names; `nil` for a name the gateway never configured.
    package init?(lineName: String) {
        self.init(rawValue: lineName)
    }
}

extension InputLine {
    /// The input's name in the GPIO adapter (the config's key under `gpio.inputs`).
    package var lineName: String {
        switch self {
        case .interlock: "interlock"
        case .stopButton: "stop_button"
        case .emissionSense: "emission_sense"
        }
    }

    /// The input a GPIO edge names; `nil` for a name the gateway never configured.
    package init?(lineName: String) {
        guard let line = Self.allCases.first(where: { $0.lineName == lineName }) else { return nil }
        self = line
    }
}
