import Testing

@testable import Fleet

@Suite struct PrometheusExpositionTests {
    let facts = PrometheusExposition.ExporterFacts(
        mqttConnected: true, mqttReconnects: 2, startedAt: 1_700_000_000, version: "9.8.7")

    func samples(_ registry: FleetRegistry) -> [String] {
        PrometheusExposition.render(registry, exporter: self.facts, now: 1_700_000_100)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    }

    @Test func stateEnumGauge_hasExactlyOneStateAtOne() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state(.cooldown))
        let states = self.samples(registry).filter { $0.hasPrefix("rlt_panel_state{") }
        #expect(states.count == PanelRecord.stateNames.count)
        #expect(states.filter { $0.hasSuffix(" 1") } == [#"rlt_panel_state{device="p1",state="cooldown"} 1"#])
    }

    @Test func runningPanel_exportsTemperatureDoseAndCounters() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online(version: "1.2.3"))
        registry.feed("p1", .state, Payload.state(faults: [.overTemperature]))
        registry.feed("p1", .event, Payload.event(Payload.started))
        let lines = Set(self.samples(registry))
        for expected in [
            #"rlt_panel_online{device="p1"} 1"#,
            #"rlt_panel_temperature_celsius{device="p1"} 31.5"#,
            #"rlt_panel_dose_joules_per_cm2{device="p1",channel="total"} 1.25"#,
            #"rlt_panel_dose_joules_per_cm2{device="p1",channel="red"} 0.75"#,
            #"rlt_panel_remaining_seconds{device="p1"} 90"#,
            #"rlt_panel_emitting{device="p1"} 1"#,
            #"rlt_panel_faults_active{device="p1"} 1"#,
            #"rlt_panel_fault_active{device="p1",fault="F_OVERTEMP"} 1"#,
            #"rlt_panel_sessions_total{device="p1",event="started"} 1"#,
            #"rlt_panel_info{device="p1",version="1.2.3",boot_id="b1"} 1"#,
            #"rlt_panel_last_seen_timestamp_seconds{device="p1"} 1700000100"#,  // the live status, newest
            #"rlt_fleet_panels{link="online"} 1"#,
            "rlt_exporter_mqtt_connected 1",
            "rlt_exporter_mqtt_reconnects_total 2",
        ] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
    }

    @Test func deliveredCounters_andBuildInfo_areExported() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online(version: "1.2.3"))
        registry.feed("p1", .state, Payload.state(total: 1.25, elapsed: 30))
        registry.feed("p1", .telemetry, Payload.state(total: 2.5, elapsed: 60))
        registry.feed("p2", .state, Payload.state(.idle, session: nil), retained: true)
        let lines = Set(self.samples(registry))
        for expected in [
            #"rlt_panel_dose_joules_per_cm2_total{device="p1"} 2.5"#,
            #"rlt_panel_emitting_seconds_total{device="p1"} 60"#,
            #"rlt_panel_dose_joules_per_cm2_total{device="p2"} 0"#,  // a counter starts at 0, not absent
            #"rlt_panel_emitting_seconds_total{device="p2"} 0"#,
            #"rlt_panel_build_info{device="p1",version="1.2.3"} 1"#,
            #"rlt_exporter_build_info{version="9.8.7"} 1"#,
        ] {
            #expect(lines.contains(expected), "missing \(expected)")
        }
        #expect(!lines.contains { $0.hasPrefix(#"rlt_panel_build_info{device="p2""#) }, "no status, no version invented")
    }

    @Test func deliveredCounters_areTypedCounter_buildInfoGauge() {
        let text = PrometheusExposition.render(FleetRegistry(), exporter: self.facts, now: 0)
        for (name, type) in [
            ("rlt_panel_dose_joules_per_cm2_total", "counter"), ("rlt_panel_emitting_seconds_total", "counter"),
            ("rlt_panel_build_info", "gauge"), ("rlt_exporter_build_info", "gauge"),
        ] {
            #expect(text.contains("# TYPE \(name) \(type)\n"), "\(name) is not a \(type)")
            #expect(text.contains("# HELP \(name) "), "\(name) has no HELP")
        }
    }

    @Test func offlinePanel_staysWithOnlineZero() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online())
        registry.feed("p2", .status, Payload.online())
        registry.feed("p2", .state, Payload.state(.idle))
        registry.feed("p2", .status, Payload.offline("shutdown"))
        let lines = Set(self.samples(registry))
        #expect(lines.contains(#"rlt_panel_online{device="p2"} 0"#))
        #expect(lines.contains(#"rlt_panel_temperature_celsius{device="p2"} 31.5"#))
        #expect(lines.contains(#"rlt_fleet_panels{link="offline"} 1"#))
        #expect(lines.contains(#"rlt_fleet_panels{link="online"} 1"#))
    }

    @Test func valuesNotYetPublished_areLeftOut_notZero() {
        var registry = FleetRegistry()
        registry.feed("p1", .status, Payload.online(), retained: true)
        let lines = self.samples(registry)
        #expect(!lines.contains { $0.hasPrefix("rlt_panel_temperature_celsius") })
        #expect(!lines.contains { $0.hasPrefix("rlt_panel_last_seen_timestamp_seconds") })
        #expect(lines.contains(#"rlt_panel_state{device="p1",state="unknown"} 1"#))
    }

    @Test func everyFamily_hasHelpAndType_beforeItsSamples() {
        var registry = FleetRegistry()
        registry.feed("p1", .state, Payload.state())
        let text = PrometheusExposition.render(registry, exporter: self.facts, now: 0)
        var declared = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                declared.insert(String(line.split(separator: " ")[2]))
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(declared.contains(name), "\(name) has no TYPE line before it")
            }
        }
        #expect(text.hasSuffix("\n"))
    }

    @Test(arguments: [
        ("plain", "plain"), (#"a"b"#, #"a\"b"#), (#"back\slash"#, #"back\\slash"#), ("two\nlines", #"two\nlines"#),
    ])
    func labelValue_isEscaped(raw: String, escaped: String) {
        #expect(PrometheusExposition.escape(raw) == escaped)
    }

    @Test(arguments: [(1.0, "1"), (0.25, "0.25"), (-3, "-3"), (Double.nan, "NaN"), (Double.infinity, "+Inf")])
    func sampleValue_usesPrometheusNumberSyntax(value: Double, text: String) {
        #expect(PrometheusExposition.format(value) == text)
    }
}
