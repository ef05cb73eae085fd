import GPIO
import MQTT
import Sensors

/// Everything the owner task reacts to, in one ordered stream.
///
/// Callbacks on other threads (libmosquitto's network thread, the GPIO edge thread, the ledger
/// writer, timers) only yield one of these; the owner task alone touches the state machine.
package enum GatewayInput: Sendable {
    case mqtt(MQTTEvent)
    case edge(GPIOInputEdge)
    case sample(SensorSample)
    /// The control tick: session end, timeouts, telemetry cadence, watchdog, overdue records.
    case tick
    /// A ledger record completed (durable or failed) on the writer thread.
    case ledger(LedgerCompletion)
    /// Home Assistant came (back) online: publish discovery and state again.
    case republishDiscovery
    /// SIGTERM / SIGINT.
    case shutdown
}
