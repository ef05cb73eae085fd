import GatewayProtocol
import Ledger
import MQTT

/// The adapters the loop performs actions with, assembled by ``GatewayService``.
struct GatewayParts {
    struct Telemetry {
        var runningSeconds: Double
        var idleSeconds: Double
    }

    var mqtt: MQTTClient
    var outputs: OutputDriver
    var sensor: SensorDriver
    var ledger: SessionLedger?
    var info: DeviceInfo
    var discovery: [MQTTMessage]
    var telemetry: Telemetry
    /// Blinks the indicator (or logs where there is none).
    var identify: () -> Void
    /// Asks for discovery and state to be published again after a short random delay, so a fleet of
    /// panels does not answer Home Assistant's birth message all in the same millisecond.
    var scheduleDiscoveryRepublish: () -> Void
}
