import Foundation
import TestSupport

/// The scenario list; `quick` (CI) repeats fewer times and floods for less long.
struct Scenarios {
    let quick: Bool

    var reps: Int { self.quick ? 2 : 5 }

    var all: [Scenario] {
        var list: [Scenario] = []
        for policy in ["continue", "pause", "stop"] {
            list.append(Scenario(name: "broker-killed-mid-session[\(policy)]", repetitions: self.reps) { _ in
                try await BrokerScenarios.killedMidSession(policy: policy)
            })
        }
        for point in CrashPoint.allCases {
            list.append(Scenario(name: "daemon-kill9[\(point.rawValue)]", repetitions: self.reps) { _ in
                try await CrashScenarios.kill9(at: point)
            })
        }
        for fault in StorageFault.allCases {
            list.append(Scenario(name: "ledger[\(fault.rawValue)]", repetitions: self.quick ? 1 : 3) { _ in
                try await StorageScenarios.run(fault)
            })
        }
        for fault in SensorFault.allCases {
            list.append(Scenario(name: "sensor[\(fault.rawValue)]", repetitions: self.reps) { _ in
                try await SensorScenarios.run(fault)
            })
        }
        list.append(Scenario(name: "interlock-flapping", repetitions: self.reps) { _ in
            try await InterlockScenarios.flapping(seconds: self.quick ? 4 : 10)
        })
        list.append(Scenario(name: "wall-clock-jumps", repetitions: self.quick ? 1 : 3) { _ in
            try await ClockScenarios.jumps()
        })
        list.append(Scenario(name: "hostile-mqtt", repetitions: 1) { _ in
            try await HostileScenarios.run()
        })
        list.append(Scenario(name: "flood-rss", repetitions: 1) { _ in
            try await FloodScenarios.run(seconds: self.quick ? 20 : 60)
        })
        list.append(Scenario(name: "security[plaintext-remote-refused]", repetitions: 1) { _ in
            try await SecurityScenarios.plaintextRemoteRefused()
        })
        list.append(Scenario(name: "security[tls-client-cert]", repetitions: 1) { _ in
            try await SecurityScenarios.tlsClientCertificates()
        })
        list.append(Scenario(name: "security[acl-example]", repetitions: 1) { _ in
            try await SecurityScenarios.aclExample()
        })
        list.append(Scenario(name: "security[secrets-not-logged]", repetitions: 1) { _ in
            try await SecurityScenarios.secretsNotLogged()
        })
        return list
    }
}

/// Runs `body` with a fresh panel and always tears it down.
func withPanel<T>(
    extraYAML: String = "", storagePath: String? = nil, brokerOptions: MosquittoBroker.Options = .init(),
    _ body: (Panel) async throws -> T
) async throws -> T {
    let panel = try await Panel(extraYAML: extraYAML, storagePath: storagePath, brokerOptions: brokerOptions)
    do {
        let result = try await body(panel)
        await panel.shutdown()
        return result
    } catch {
        await panel.shutdown()
        throw error
    }
}
