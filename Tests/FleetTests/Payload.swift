import Fleet

/// Payloads shaped like the gateway's (README, MQTT reference), for feeding a registry.
enum Payload {
    static func online(boot: String = "b1", version: String = "0.1.0") -> [UInt8] {
        Array(#"{"state":"online","boot_id":"\#(boot)","version":"\#(version)"}"#.utf8)
    }

    static func offline(_ reason: String = "connection_lost") -> [UInt8] {
        Array(#"{"state":"offline","reason":"\#(reason)"}"#.utf8)
    }

    static func state(
        _ state: String = "running", temperature: String = "31.5", total: Double = 1.25, remaining: Double = 90,
        faults: [String] = [], ts: Double = 1_700_000_000_000
    ) -> [UInt8] {
        let faultList = faults.map { "\"\($0)\"" }.joined(separator: ",")
        return Array(
            """
            {"state":"\(state)","session_id":"b1-1","channels":"both","intensity_pct":100,"planned_s":120,\
            "elapsed_s":30,"remaining_s":\(remaining),"dose_j_cm2":{"total":\(total),"red":0.75,"nir":0.5},\
            "dose_target_j_cm2":null,"dose_24h_j_cm2":7.5,"sessions_24h":2,"temperature_c":\(temperature),\
            "emitting":\(state == "running"),"interlock":"closed","faults":[\(faultList)],"presets":{},"ts":\(ts),"seq":4}
            """.utf8)
    }

    static func event(_ name: String, extra: String = "", ts: Double = 1_700_000_000_000) -> [UInt8] {
        Array(#"{"event":"\#(name)"\#(extra),"ts":\#(ts)}"#.utf8)
    }
}

extension FleetRegistry {
    @discardableResult
    mutating func feed(
        _ device: String, _ kind: FleetTopics.Kind, _ payload: [UInt8], retained: Bool = false,
        now: Double = 1_700_000_100
    ) -> Bool {
        self.apply(device: device, kind: kind, payload: payload, retained: retained, now: now)
    }
}
