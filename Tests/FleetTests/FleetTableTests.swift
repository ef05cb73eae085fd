import GatewayProtocol
import Testing

@testable import Fleet

@Suite struct FleetTableTests {
    func registry() -> FleetRegistry {
        var registry = FleetRegistry()
        registry.feed("b-panel", .state, Payload.state(.running, temperature: 40, total: 3))
        registry.feed("a-panel", .state, Payload.state(.idle, temperature: 25, total: 0))
        registry.feed("c-panel", .status, Payload.online(), retained: true)
        registry.feed("d-panel", .state, Payload.state(.fault, temperature: 66.1, faults: [.overTemperature]))
        registry.feed("d-panel", .status, Payload.offline())
        return registry
    }

    @Test func sortByTemperature_putsPanelsWithoutAReadingLast_inBothDirections() {
        let panels = Array(self.registry().panels.values)
        let up = FleetTable(sortKey: .temperature).sorted(panels).map(\.device)
        #expect(up == ["a-panel", "b-panel", "d-panel", "c-panel"])
        let down = FleetTable(sortKey: .temperature, descending: true).sorted(panels).map(\.device)
        #expect(down == ["d-panel", "b-panel", "a-panel", "c-panel"])
    }

    @Test func sortByDevice_descending_reversesNames() {
        let panels = Array(self.registry().panels.values)
        #expect(FleetTable(sortKey: .device, descending: true).sorted(panels).map(\.device).first == "d-panel")
    }

    @Test func rows_showLinkStateRemainingDoseTemperatureFaultsAndAge() {
        let lines = FleetTable().lines(Array(self.registry().panels.values), now: 1_700_000_065)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix("DEVICE"))
        let b = lines[2].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(b == ["b-panel", "online", "running", "01:30", "3.00", "7.5", "40.0", "-", "65s", "ago"])
        let c = lines[3].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(c == ["c-panel", "online", "unknown", "-", "-", "-", "-", "-", "-"])
        #expect(lines[4].contains("offline") && lines[4].contains("F_OVERTEMP") && lines[4].contains("66.1"))
    }

    /// A cell is text for any number a document may carry: a hostile retained state with a
    /// `remaining_s` or a dose of 1e300 must not trap the table's integer conversions (the
    /// fleet-registry fuzz target found the age of a status stamped `ts: 1.4e141`).
    @Test func cells_forAnyNumber_neverTrap() {
        #expect(FleetTable.clock(90) == "01:30")
        #expect(FleetTable.clock(1e300) == ">99:59")
        #expect(FleetTable.clock(.infinity) == "?")
        #expect(FleetTable.clock(-1e300) == "00:00")
        #expect(FleetTable.age(65) == "65s ago")
        #expect(FleetTable.age(-1e300) == "0s ago")
        #expect(FleetTable.age(1e300) == ">1000d ago")
        #expect(FleetTable.age(.nan) == "?")
        #expect(FleetTable.fixed(-7.25, 1) == "-7.3" || FleetTable.fixed(-7.25, 1) == "-7.2")
        #expect(FleetTable.fixed(1e300, 2) == ">1e12")
        #expect(FleetTable.fixed(-1e300, 1) == "<-1e12")
        #expect(FleetTable.fixed(.nan, 1) == "?")
        var panel = PanelRecord(device: "p1")
        panel.remainingSeconds = 1e300
        panel.dose = DoseDocument(total: 1e300, red: 1e300, nir: 0)
        panel.dose24h = -1e300
        panel.temperatureC = 1e300
        panel.lastSeen = -1e300
        #expect(FleetTable().lines([panel], now: 1_700_000_000).count == 2)
    }

    @Test func rows_lineUpUnderTheHeader() throws {
        let lines = FleetTable().lines(Array(self.registry().panels.values), now: 1_700_000_065)
        let stateColumn = try #require(lines[0].range(of: "STATE")).lowerBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            let index = line.index(line.startIndex, offsetBy: stateColumn)
            #expect(line[line.index(before: index)] == " ", "column STATE starts at the same place in \(line)")
        }
    }

    @Test func summary_countsLinkStatesRunningAndFaulted() {
        #expect(
            FleetTable.summary(Array(self.registry().panels.values))
                == "4 panels: 3 online, 1 offline, 1 running, 1 with faults")
    }

    @Test func sortKeyCycle_visitsEveryColumnOnce() {
        var key = FleetTable.SortKey.device
        var seen: [FleetTable.SortKey] = []
        for _ in FleetTable.SortKey.allCases {
            seen.append(key)
            key = key.next
        }
        #expect(Set(seen).count == FleetTable.SortKey.allCases.count)
        #expect(key == .device)
    }

    @Test(arguments: [(0.0, 2, "0.00"), (1.005, 1, "1.0"), (-2.5, 1, "-2.5"), (12.345, 2, "12.35"), (-0.001, 1, "0.0")])
    func fixedPoint_roundsToTheGivenDigits(value: Double, digits: Int, text: String) {
        #expect(FleetTable.fixed(value, digits) == text)
    }
}
