import GatewayProtocol
import MQTT

/// The adapters the loop performs actions with, assembled by ``GatewayService`` (or by the
/// simulator, with its doubles behind the same ports).
package struct GatewayParts {
    package struct Telemetry {
        package var runningSeconds: Double
        package var idleSeconds: Double

        package init(runningSeconds: Double, idleSeconds: Double) {
            self.runningSeconds = runningSeconds
            self.idleSeconds = idleSeconds
        }
    }

    package var mqtt: any MessagePublisher
    package var outputs: OutputDriver
    /// The simulated thermal model follows the readback; `nil` when nothing needs to.
    package var sensor: SensorDriver?
    /// `nil` runs without a ledger (records are dropped).
    package var ledger: (any LedgerWriting)?
    package var info: DeviceInfo
    /// Home Assistant discovery, swept on every connect; `nil` publishes none.
    package var discovery: DiscoverySweep?
    package var telemetry: Telemetry
    /// Blinks the indicator (or logs where there is none).
    package var identify: () -> Void
    /// Asks for discovery and state to be published again after a short random delay, so a fleet of
    /// panels does not answer Home Assistant's birth message all in the same millisecond.
    package var scheduleDiscoveryRepublish: () -> Void
    /// How many incoming messages were shed before they reached the loop since start (the inbound
    /// backlog's flood guard), so `diag.dropped_messages` counts them as it promises.
    package var shedIncoming: () -> Int
    /// This panel's command key (`commands.signing`), checked against each command's `sig` as it is
    /// decoded; `nil` when none is configured. Whether a signature is required is the core's rule.
    package var commandKey: CommandSignature?

    package init(
        mqtt: any MessagePublisher, outputs: OutputDriver, sensor: SensorDriver?, ledger: (any LedgerWriting)?,
        info: DeviceInfo, discovery: DiscoverySweep?, telemetry: Telemetry, identify: @escaping () -> Void,
        scheduleDiscoveryRepublish: @escaping () -> Void, shedIncoming: @escaping () -> Int = { 0 },
        commandKey: CommandSignature? = nil
    ) {
        self.mqtt = mqtt
        self.outputs = outputs
        self.sensor = sensor
        self.ledger = ledger
        self.info = info
        self.discovery = discovery
        self.telemetry = telemetry
        self.identify = identify
        self.scheduleDiscoveryRepublish = scheduleDiscoveryRepublish
        self.shedIncoming = shedIncoming
        self.commandKey = commandKey
    }
}
