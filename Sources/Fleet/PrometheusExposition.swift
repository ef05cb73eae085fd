/// Writes the fleet as Prometheus metrics in the text exposition format (version 0.0.4).
///
/// Every panel series carries a `device` label. The state is an enum gauge (one series per state,
/// 1 for the current one), as Prometheus' own guidelines suggest, so `rlt_panel_state{state="fault"} == 1`
/// selects faulted panels and a state change never leaves two series at 1. Offline panels keep all
/// their series with `rlt_panel_online 0`: the last known values stay visible, marked, instead of
/// vanishing from the dashboard.
public enum PrometheusExposition {
    /// The `Content-Type` of ``render(_:exporter:now:)``'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Facts about the exporter itself, appended to the panel metrics.
    public struct ExporterFacts: Hashable, Sendable {
        public var mqttConnected: Bool
        public var mqttReconnects: Int
        public var startedAt: Double
        /// The exporter's own software version, for `rlt_exporter_build_info`.
        public var version: String

        public init(mqttConnected: Bool, mqttReconnects: Int, startedAt: Double, version: String) {
            self.mqttConnected = mqttConnected
            self.mqttReconnects = mqttReconnects
            self.startedAt = startedAt
            self.version = version
        }
    }

    public static func render(_ registry: FleetRegistry, exporter: ExporterFacts, now: Double) -> String {
        var out = Writer()
        let panels = registry.sortedPanels

        out.family(
            "rlt_panel_online", "gauge",
            "1 if the panel's retained status says online, 0 if offline (will or clean stop).")
        for p in panels { out.sample("rlt_panel_online", p.device, [], p.online.map { $0 ? 1 : 0 }) }

        out.family(
            "rlt_panel_state", "gauge",
            "The panel's safety state as an enum: 1 for the current state, 0 for the others.")
        for p in panels {
            for state in PanelRecord.stateNames {
                out.sample("rlt_panel_state", p.device, [("state", state)], p.stateName == state ? 1 : 0)
            }
        }

        out.family("rlt_panel_temperature_celsius", "gauge", "Panel temperature from its latest state or telemetry.")
        for p in panels { out.sample("rlt_panel_temperature_celsius", p.device, [], p.temperatureC) }

        out.family(
            "rlt_panel_dose_joules_per_cm2", "gauge", "Dose delivered in the current or last session, per channel.")
        for p in panels {
            guard let dose = p.dose else { continue }
            out.sample("rlt_panel_dose_joules_per_cm2", p.device, [("channel", "total")], dose.total)
            out.sample("rlt_panel_dose_joules_per_cm2", p.device, [("channel", "red")], dose.red)
            out.sample("rlt_panel_dose_joules_per_cm2", p.device, [("channel", "nir")], dose.nir)
        }

        out.family("rlt_panel_dose_24h_joules_per_cm2", "gauge", "Rolling 24 h dose as the panel's ledger counts it.")
        for p in panels { out.sample("rlt_panel_dose_24h_joules_per_cm2", p.device, [], p.dose24h) }

        out.family(
            "rlt_panel_sessions_24h", "gauge", "Sessions in the rolling 24 h window as the panel's ledger counts them.")
        for p in panels { out.sample("rlt_panel_sessions_24h", p.device, [], p.sessions24h) }

        out.family("rlt_panel_remaining_seconds", "gauge", "Seconds left in the running or paused session.")
        for p in panels { out.sample("rlt_panel_remaining_seconds", p.device, [], p.remainingSeconds) }

        out.family("rlt_panel_emitting", "gauge", "1 while the panel's output readback says the LEDs are on.")
        for p in panels { out.sample("rlt_panel_emitting", p.device, [], p.emitting.map { $0 ? 1 : 0 }) }

        out.family("rlt_panel_faults_active", "gauge", "Number of latched faults.")
        for p in panels { out.sample("rlt_panel_faults_active", p.device, [], Double(p.faults.count)) }

        out.family("rlt_panel_fault_active", "gauge", "1 for each latched fault code of the panel.")
        for p in panels {
            for fault in p.faults { out.sample("rlt_panel_fault_active", p.device, [("fault", fault)], 1) }
        }

        out.family("rlt_panel_sessions_total", "counter", "Session events seen by this exporter, by kind.")
        for p in panels {
            out.sample("rlt_panel_sessions_total", p.device, [("event", "started")], Double(p.counters.sessionsStarted))
            out.sample(
                "rlt_panel_sessions_total", p.device, [("event", "completed")], Double(p.counters.sessionsCompleted))
            out.sample("rlt_panel_sessions_total", p.device, [("event", "aborted")], Double(p.counters.sessionsAborted))
        }

        out.family(
            "rlt_panel_dose_joules_per_cm2_total", "counter",
            "Dose (J/cm², all channels) delivered in the sessions this exporter saw; "
                + "the panel's ledger has its lifetime total.")
        for p in panels {
            out.sample("rlt_panel_dose_joules_per_cm2_total", p.device, [], p.counters.delivered.doseJoulesPerCm2)
        }

        out.family(
            "rlt_panel_emitting_seconds_total", "counter",
            "Seconds of emission (session elapsed_s) in the sessions this exporter saw.")
        for p in panels {
            out.sample("rlt_panel_emitting_seconds_total", p.device, [], p.counters.delivered.emittingSeconds)
        }

        out.family("rlt_panel_faults_raised_total", "counter", "fault_raised events seen by this exporter.")
        for p in panels { out.sample("rlt_panel_faults_raised_total", p.device, [], Double(p.counters.faultsRaised)) }

        out.family(
            "rlt_panel_reconnects_total", "counter",
            "Times the panel came back online (or with a new boot id) while watched.")
        for p in panels { out.sample("rlt_panel_reconnects_total", p.device, [], Double(p.counters.reconnects)) }

        out.family("rlt_panel_messages_total", "counter", "MQTT messages received from the panel.")
        for p in panels { out.sample("rlt_panel_messages_total", p.device, [], Double(p.counters.messages)) }

        out.family("rlt_panel_last_seen_timestamp_seconds", "gauge", "Unix time of the panel's newest fresh message.")
        for p in panels { out.sample("rlt_panel_last_seen_timestamp_seconds", p.device, [], p.lastSeen) }

        out.family("rlt_panel_info", "gauge", "Always 1; the panel's software version and boot id as labels.")
        for p in panels {
            out.sample(
                "rlt_panel_info", p.device, [("version", p.version ?? ""), ("boot_id", p.bootID ?? "")], 1)
        }

        out.family("rlt_panel_build_info", "gauge", "Always 1; the software version from the panel's online status.")
        for p in panels {
            guard let version = p.version else { continue }
            out.sample("rlt_panel_build_info", p.device, [("version", version)], 1)
        }

        out.family("rlt_fleet_panels", "gauge", "Panels known to the exporter, by link state.")
        let online = panels.filter { $0.online == true }.count
        let offline = panels.filter { $0.online == false }.count
        out.plain("rlt_fleet_panels", [("link", "online")], Double(online))
        out.plain("rlt_fleet_panels", [("link", "offline")], Double(offline))
        out.plain("rlt_fleet_panels", [("link", "unknown")], Double(panels.count - online - offline))

        out.family("rlt_exporter_mqtt_connected", "gauge", "1 while the exporter is connected to the broker.")
        out.plain("rlt_exporter_mqtt_connected", [], exporter.mqttConnected ? 1 : 0)
        out.family("rlt_exporter_mqtt_reconnects_total", "counter", "Broker reconnections of the exporter.")
        out.plain("rlt_exporter_mqtt_reconnects_total", [], Double(exporter.mqttReconnects))
        out.family("rlt_exporter_messages_total", "counter", "Messages received on panel topics.")
        out.plain("rlt_exporter_messages_total", [], Double(registry.messages))
        out.family(
            "rlt_exporter_invalid_messages_total", "counter", "Messages on panel topics that were not JSON objects.")
        out.plain("rlt_exporter_invalid_messages_total", [], Double(registry.invalidMessages))
        out.family("rlt_exporter_start_time_seconds", "gauge", "Unix time the exporter started.")
        out.plain("rlt_exporter_start_time_seconds", [], exporter.startedAt)
        out.family("rlt_exporter_build_info", "gauge", "Always 1; the exporter's software version as a label.")
        out.plain("rlt_exporter_build_info", [("version", exporter.version)], 1)
        return out.text
    }

    /// Escapes a label value as the exposition format requires (backslash, quote, newline).
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Formats a sample value; Prometheus reads Go's float syntax, integers print without a fraction.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    private struct Writer {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            self.text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        /// One panel sample; a missing value writes nothing (no invented zeros).
        mutating func sample(_ name: String, _ device: String, _ labels: [(String, String)], _ value: Double?) {
            guard let value else { return }
            self.plain(name, [("device", device)] + labels, value)
        }

        mutating func plain(_ name: String, _ labels: [(String, String)], _ value: Double) {
            self.text += name
            if !labels.isEmpty {
                self.text += "{"
                self.text += labels.map { "\($0.0)=\"\(PrometheusExposition.escape($0.1))\"" }.joined(separator: ",")
                self.text += "}"
            }
            self.text += " \(PrometheusExposition.format(value))\n"
        }
    }
}
