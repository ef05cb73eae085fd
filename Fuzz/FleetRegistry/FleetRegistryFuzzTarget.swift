import Fleet
import FuzzSupport
#if canImport(Glibc)
    import Glibc
#endif

/// Fuzz target: what a fleet monitor reads off the broker, through ``FleetTopics/classify(_:)`` and
/// ``FleetRegistry/apply(device:kind:payload:retained:now:)``, then out again as the exporter's
/// Prometheus text and the watch table.
///
/// Anyone who may publish under `<prefix>/+/…` writes these payloads (docs/DESIGN.md, "MQTT contract (v1)"), so
/// the registry must count what it cannot read and never crash, and nothing a panel sends may break
/// the exposition's line format (a label value with a raw line break would let a panel forge
/// another panel's metrics). The input is a script of lines `<flags><topic>\t<payload>`; bit 0 of
/// the flags byte marks the message retained, the rest advance the clock.
@main
enum FleetRegistryFuzzTarget: FuzzTarget {
    static let topics = try! FleetTopics(prefix: "rlt")
    static let facts = PrometheusExposition.ExporterFacts(
        mqttConnected: true, mqttReconnects: 0, startedAt: 1_700_000_000, version: "fuzz")

    static func run(_ input: [UInt8]) {
        var registry = FleetRegistry()
        var now = 1_700_000_000.0
        var applied = 0
        for line in input.split(separator: 0x0A, maxSplits: 32, omittingEmptySubsequences: true).prefix(32) {
            guard let flags = line.first, let tab = line.dropFirst().firstIndex(of: 0x09) else { continue }
            let topic = String(decoding: line.dropFirst()[..<tab], as: UTF8.self)
            let payload = Array(line[line.index(after: tab)...])
            now += Double(flags >> 1)
            guard let (device, kind) = Self.topics.classify(topic) else { continue }
            registry.apply(device: device, kind: kind, payload: payload, retained: flags & 1 == 1, now: now)
            applied += 1
        }
        if registry.messages != applied || registry.invalidMessages > registry.messages {
            fuzzFailure("registry counted \(registry.messages) messages (\(registry.invalidMessages) invalid) of \(applied)", input: input)
        }
        for (device, record) in registry.panels where device != record.device || !FleetTopics.isDeviceID(device) {
            fuzzFailure("registry keeps panel \(record.device) under \(device)", input: input)
        }
        let exposition = PrometheusExposition.render(registry, exporter: Self.facts, now: now)
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            if let problem = Self.sampleProblem(Substring(line)) {
                fuzzFailure("exposition line \(line.debugDescription): \(problem)", input: input)
            }
        }
        _ = FleetTable().lines(registry.sortedPanels, now: now)
    }

    /// Checks one sample line of the text exposition format: `name{label="value",…} number`, label
    /// values with only `\\`, `\"` and `\n` escaped; `nil` when it is well formed.
    static func sampleProblem(_ line: Substring) -> String? {
        var scalars = line.unicodeScalars[...]
        func isNameStart(_ s: Unicode.Scalar) -> Bool { s.isASCII && (s.properties.isAlphabetic || s == "_" || s == ":") }
        func isName(_ s: Unicode.Scalar) -> Bool { isNameStart(s) || ("0"..."9").contains(s) }
        guard let first = scalars.first, isNameStart(first) else { return "no metric name" }
        scalars = scalars.drop(while: isName)
        if scalars.first == "{" {
            scalars = scalars.dropFirst()
            while scalars.first != "}" {
                guard let start = scalars.first, isNameStart(start) else { return "bad label name" }
                scalars = scalars.drop(while: isName)
                guard scalars.first == "=" else { return "label without =" }
                scalars = scalars.dropFirst()
                guard scalars.first == "\"" else { return "label value not quoted" }
                scalars = scalars.dropFirst()
                while let s = scalars.first, s != "\"" {
                    // The format escapes only `\\`, `\"` and line feeds; a raw carriage return is legal.
                    if s == "\n" { return "raw line feed in a label value" }
                    if s == "\\" {
                        scalars = scalars.dropFirst()
                        guard let escaped = scalars.first, ["\\", "\"", "n"].contains(escaped) else {
                            return "bad escape in a label value"
                        }
                    }
                    scalars = scalars.dropFirst()
                }
                guard scalars.first == "\"" else { return "unterminated label value" }
                scalars = scalars.dropFirst()
                if scalars.first == "," { scalars = scalars.dropFirst() }
                guard !scalars.isEmpty else { return "unterminated label set" }
            }
            scalars = scalars.dropFirst()
        }
        guard scalars.first == " " else { return "no space before the value" }
        let value = String(String.UnicodeScalarView(scalars.dropFirst()))
        let number = value.split(separator: " ").first.map(String.init) ?? ""
        guard Double(number) != nil || ["NaN", "+Inf", "-Inf"].contains(number) else { return "value \(number)" }
        return nil
    }
}
