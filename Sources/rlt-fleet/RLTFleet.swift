import ArgumentParser
import Gateway

/// `rlt-fleet`: tools for many panels on one broker (docs/FLEET.md): a live table, a Prometheus
/// exporter, and a fleet-wide stop. A program of its own, not part of `rlt-gateway`, so the panel
/// daemon does not link the exporter's HTTP server and, through it, Foundation's networking and
/// libcurl. `rlt-fleet …` still runs these commands by handing over to this program.
@main
struct RLTFleet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlt-fleet",
        abstract: "Watch, export metrics of, or stop many rlt-gateway panels at once over MQTT.",
        version: GatewayVersion.current,
        subcommands: [FleetWatch.self, FleetExporterCommand.self, FleetStop.self])
}
