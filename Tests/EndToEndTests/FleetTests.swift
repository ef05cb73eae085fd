import Foundation
import GatewayProtocol
import MQTT
import TestSupport
import Testing

/// Several panels on one broker: the fleet topics reach every panel (or a group's members) and only
/// the allow-listed commands act there.
@Suite(.timeLimit(.minutes(10)))
struct FleetTests {
    /// Starts one daemon per id on a shared broker; `groups[id]` becomes `device.groups`.
    static func withFleet(
        _ ids: [String], groups: [String: [String]] = [:],
        _ body: (MosquittoBroker, [GatewayHarness]) async throws -> Void
    ) async throws {
        try await ProcessBudget.shared.withPermits(ids.count) {
            try await self.startFleet(ids, groups: groups, body)
        }
    }

    private static func startFleet(
        _ ids: [String], groups: [String: [String]],
        _ body: (MosquittoBroker, [GatewayHarness]) async throws -> Void
    ) async throws {
        let broker = try await MosquittoBroker()
        var panels: [GatewayHarness] = []
        do {
            for id in ids {
                let list = (groups[id] ?? []).joined(separator: ", ")
                panels.append(
                    try await GatewayHarness(deviceID: id, broker: broker, overrides: ["device.groups=[\(list)]"]))
            }
            try await body(broker, panels)
        } catch {
            for panel in panels { await panel.shutdown() }
            await broker.stop()
            throw error
        }
        for panel in panels { await panel.shutdown() }
        await broker.stop()
    }

    static func startAll(_ panels: [GatewayHarness]) async throws {
        for panel in panels {
            let started = try await panel.command(CommandRequest(id: "go", command: "start"))
            #expect(started.ok, "\(panel.deviceID): \(started)")
            #expect(await panel.linesRead(1), "\(panel.deviceID) did not turn on")
        }
    }

    @Test func stopOnTheAllTopic_stopsEveryPanel_andStartThereIsRefusedByEach() async throws {
        try await Self.withFleet(["fleet-a", "fleet-b", "fleet-c"]) { _, panels in
            try await Self.startAll(panels)
            let sender = panels[0].client
            sender.publish(topic: "rlt/_all/cmd", text: CommandRequest(id: "all-stop", command: "stop").json.text)
            for panel in panels {
                let response = try await panel.response(id: "all-stop")
                #expect(response.ok, "\(panel.deviceID): \(response)")
                #expect(await panel.linesRead(0), "\(panel.deviceID) still emitting after the fleet stop")
                let aborted = try await panel.waitForEvent(.aborted)
                #expect(aborted?.end?.reason == .stopCommand)
            }

            sender.publish(topic: "rlt/_all/cmd", text: CommandRequest(id: "all-start", command: "start").json.text)
            for panel in panels {
                let response = try await panel.response(id: "all-start")
                #expect(response.code == .notAllowed, "\(panel.deviceID): \(response)")
            }
            for panel in panels {
                // Handled in order: once its own `get` is answered, the fleet start was handled too.
                try await panel.barrier()
                #expect(panel.chip.value(line: GatewayHarness.redLine) == 0, "\(panel.deviceID) started from _all")
            }

            // The rest of the allow-list works on the fleet topic too.
            sender.publish(topic: "rlt/_all/cmd", text: CommandRequest(id: "all-ping", command: "ping").json.text)
            for panel in panels {
                #expect(try await panel.response(id: "all-ping").ok)
            }
        }
    }

    @Test func stopOnAGroupTopic_reachesOnlyTheGroupsMembers() async throws {
        let groups = ["grp-a": ["upstairs"], "grp-b": ["upstairs", "bedroom"], "grp-c": ["kitchen"]]
        try await Self.withFleet(["grp-a", "grp-b", "grp-c"], groups: groups) { _, panels in
            try await Self.startAll(panels)
            panels[2].client.publish(
                topic: "rlt/_group/upstairs/cmd", text: CommandRequest(id: "up-stop", command: "stop").json.text)
            for member in panels[0...1] {
                let response = try await member.response(id: "up-stop")
                #expect(response.ok, "\(member.deviceID): \(response)")
                #expect(await member.linesRead(0))
            }
            let outsider = panels[2]
            // The outsider never subscribed to the group's topic, so nothing orders the group stop with
            // its own commands; the members' answers above show the broker delivered the stop already.
            try await outsider.barrier()
            #expect(
                try outsider.client.messages(topic: "\(outsider.base)/res").allSatisfy {
                    try ResponseDocument($0).id != "up-stop"
                })
            #expect(outsider.chip.value(line: GatewayHarness.redLine) == 1, "a non-member obeyed the group stop")
            #expect(outsider.chip.value(line: GatewayHarness.masterLine) == 1)

            panels[0].client.publish(
                topic: "rlt/_group/bedroom/cmd", text: CommandRequest(id: "bed-start", command: "start").json.text)
            let refused = try await panels[1].response(id: "bed-start")
            #expect(refused.code == .notAllowed, "\(refused)")
        }
    }
}
