// swift-tools-version:6.1
import PackageDescription

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The libgpiod API the `GPIO` module is compiled against: `RLT_LIBGPIOD_V2` when `pkg-config` finds libgpiod 2.x.
///
/// libgpiod 2 (Debian 13, today's Raspberry Pi OS) removed every v1 call, so exactly one of
/// `Sources/GPIO/LibgpiodChip.swift` (v1) and `LibgpiodV2Chip.swift` (v2) can compile against the installed
/// header. The choice is made here, once, from the same `pkg-config libgpiod` that `CGPIOD` links with (so the
/// Swift code and the header it sees always agree; `PKG_CONFIG_PATH` picks another libgpiod), rather than by a
/// C shim that would have to re-export one API on top of the other (docs/DESIGN.md, "GPIO backends").
/// No pkg-config or no libgpiod means v1, whose missing header `CGPIOD` then reports as today.
let libgpiodIsV2: Bool = {
    guard let pipe = popen("pkg-config --modversion libgpiod 2>/dev/null", "r") else { return false }
    var buffer = [CChar](repeating: 0, count: 64)
    let line = fgets(&buffer, Int32(buffer.count), pipe).map { String(cString: $0) } ?? ""
    pclose(pipe)
    return (Int(String(line.prefix(while: \.isNumber))) ?? 1) >= 2
}()

/// rlt-gateway: the edge daemon of a red / near-infrared LED therapy panel.
///
/// The module split follows the architecture in docs/DESIGN.md: a pure safety core, one adapter per
/// technology (libmosquitto, libgpiod, sensors, SQLite), the wire protocol, the config, the
/// composition, and a thin executable.
let package = Package(
    name: "rlt-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "rlt-gateway", targets: ["rlt-gateway"]),
        // The fleet tools, for the machine that watches many panels (docs/FLEET.md); not the panel's.
        .executable(name: "rlt-fleet", targets: ["rlt-fleet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // The fleet exporter's HTTP endpoint (docs/FLEET.md says why this one); rlt-fleet only.
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
        // HMAC-SHA256 for signed commands (README, "Signed commands"): BoringSSL on Linux, CryptoKit on
        // macOS, with a constant-time MAC comparison we do not write ourselves.
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // C libraries from Debian's -dev packages.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        .systemLibrary(
            name: "CGPIOD",
            pkgConfig: "libgpiod",
            providers: [.apt(["libgpiod-dev"])]
        ),

        // The pure core: no I/O, no clock reads, no threads.
        .target(name: "SafetyCore"),
        // The monotonic and wall clocks, read one way by every module.
        .target(name: "Clocks"),
        // The one way to start a thread of its own (blocking work stays off the cooperative pool).
        .target(name: "DedicatedThread"),
        // The test kit, free of package dependencies: seeded generator, temporary directories, a
        // manual clock, `eventually`, and the bench that plays the output hardware around the core.
        .target(name: "TestKit", dependencies: ["SafetyCore"]),

        // Adapters, one technology each.
        .target(
            name: "MQTT",
            dependencies: ["CMosquitto", "DedicatedThread", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "GPIO",
            dependencies: ["CGPIOD", "Clocks", "DedicatedThread", .product(name: "Logging", package: "swift-log")],
            swiftSettings: libgpiodIsV2 ? [.define("RLT_LIBGPIOD_V2")] : []
        ),
        .target(
            name: "Sensors",
            dependencies: ["Clocks", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Ledger",
            dependencies: ["SafetyCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Whether the kernel says the wall clock is synchronised (`adjtimex`, not in Swift's Glibc).
        .target(name: "CClockSync"),

        // The product's API: topics, command decoding, payloads, discovery documents.
        .target(
            name: "GatewayProtocol", dependencies: ["SafetyCore", .product(name: "Crypto", package: "swift-crypto")]),
        // The YAML config, typed and validated.
        .target(
            name: "GatewayConfig",
            dependencies: ["SafetyCore", .product(name: "Yams", package: "Yams")]
        ),

        // Composition of core and adapters.
        .target(
            name: "Gateway",
            dependencies: [
                "SafetyCore", "MQTT", "GPIO", "Sensors", "Ledger", "GatewayProtocol", "GatewayConfig", "CClockSync",
                "Clocks", "DedicatedThread",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The deterministic whole-gateway simulator: the real loop, core, output driver and ledger
        // in virtual time against seeded fault-injecting adapters (`swift test`, `rlt-sim`).
        .target(
            name: "GatewaySimulation",
            dependencies: [
                "Gateway", "SafetyCore", "GPIO", "Ledger", "MQTT", "Sensors", "GatewayProtocol", "TestKit",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "rlt-sim", dependencies: ["GatewaySimulation"]),
        // Fleet tools: a live view of many panels, a Prometheus exporter, fleet-wide stop.
        .target(
            name: "Fleet",
            dependencies: [
                "GatewayProtocol", "MQTT", "SafetyCore", .product(name: "Logging", package: "swift-log"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ]
        ),
        // `--config` / `--set`, parsed the same way by both executables.
        .target(
            name: "GatewayCommandLine",
            dependencies: ["GatewayConfig", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The panel daemon. Never `Fleet`: its HTTP server (FlyingFox) would link Foundation's
        // networking and libcurl into every panel; `rlt-gateway fleet` hands over to rlt-fleet instead.
        .executableTarget(
            name: "rlt-gateway",
            dependencies: [
                "Gateway", "GatewayCommandLine", "GatewayConfig", "GatewayProtocol", "MQTT", "Ledger",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "rlt-fleet",
            dependencies: [
                "DedicatedThread", "Fleet", "Gateway", "GatewayCommandLine", "GatewayConfig", "GatewayProtocol", "MQTT",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The real-kernel GPIO check run under qemu (Tests/qemu); small, no Foundation.
        .executableTarget(
            name: "rlt-gpio-selftest",
            dependencies: ["GPIO", "SafetyCore", "TestKit", .product(name: "Logging", package: "swift-log")]
        ),

        // Fuzz targets (Fuzz/), one per untrusted input, each the real parser or adapter code: libFuzzer
        // entry points when built with -DRLT_LIBFUZZER and -sanitize=fuzzer (Fuzz/run.sh), otherwise a
        // seeded random-input harness over the same code.
        .target(name: "CFuzzerDriver", path: "Fuzz/Driver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver", "TestKit"], path: "Fuzz/Support"),
        .executableTarget(
            name: "rlt-fuzz-command", dependencies: ["FuzzSupport", "GatewayProtocol", "SafetyCore", "TestKit"],
            path: "Fuzz/Command"),
        .executableTarget(
            name: "rlt-fuzz-config", dependencies: ["FuzzSupport", "GatewayConfig", "SafetyCore"],
            path: "Fuzz/Config"),
        .executableTarget(
            name: "rlt-fuzz-mqtt-properties", dependencies: ["CMosquitto", "FuzzSupport", "GatewayProtocol", "MQTT"],
            path: "Fuzz/MQTTProperties"),
        .executableTarget(
            name: "rlt-fuzz-homeassistant",
            dependencies: ["FuzzSupport", "Gateway", "GatewayConfig", "GatewayProtocol", "SafetyCore"],
            path: "Fuzz/HomeAssistant"),
        .executableTarget(name: "rlt-fuzz-sensor", dependencies: ["FuzzSupport", "Sensors"], path: "Fuzz/Sensor"),
        .executableTarget(
            name: "rlt-fuzz-ledger",
            dependencies: [
                "FuzzSupport", "Ledger", "SafetyCore", "TestKit", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Fuzz/Ledger"),
        .executableTarget(
            name: "rlt-fuzz-fleet-registry", dependencies: ["Fleet", "FuzzSupport"], path: "Fuzz/FleetRegistry"),

        // The reliability suite's scenario runner (Tests/reliability/run.sh drives it).
        .executableTarget(
            name: "rlt-reliability", dependencies: ["TestKit", "TestSupport", "MQTT", "GatewayProtocol", "SafetyCore"],
            path: "Tests/reliability/Runner"),

        // The power-loss check's host side (Tests/powerloss): opens each recovered ledger as the daemon does at boot.
        .executableTarget(name: "rlt-powerloss-check", dependencies: ["Ledger", "SafetyCore"], path: "Tests/powerloss/Check"),

        // Micro-benchmarks of decoding, the state machine step and encoding (Benchmarks/run).
        .executableTarget(name: "rlt-bench", dependencies: ["GatewayProtocol", "Clocks", "TestKit"]),

        // Shared test helpers: a real mosquitto on a free loopback port, certificates, the built daemon.
        .target(name: "TestSupport", dependencies: ["GatewayProtocol", "MQTT", "TestKit"]),

        .testTarget(name: "SafetyCoreTests", dependencies: ["SafetyCore", "TestKit"]),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "TestKit", "TestSupport"]),
        .testTarget(name: "GPIOTests", dependencies: ["DedicatedThread", "GPIO", "TestKit"]),
        .testTarget(name: "SensorsTests", dependencies: ["Sensors", "TestKit"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "SafetyCore", "TestKit"]),
        .testTarget(name: "GatewayConfigTests", dependencies: ["GatewayConfig", "TestKit"]),
        .testTarget(name: "GatewayProtocolTests", dependencies: ["GatewayProtocol", "SafetyCore"]),
        .testTarget(
            name: "GatewaySimulationTests",
            dependencies: [
                "GatewaySimulation", "Gateway", "GatewayConfig", "GatewayProtocol", "GPIO", "MQTT", "SafetyCore", "TestKit",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "EndToEndTests", dependencies: ["TestKit", "TestSupport", "MQTT", "GatewayProtocol", "SafetyCore"]),
        .testTarget(
            name: "FleetTests",
            dependencies: ["Fleet", "GatewayProtocol", "MQTT", "SafetyCore", "TestKit", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
