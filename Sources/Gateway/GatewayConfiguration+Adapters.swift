import Foundation
import GPIO
import GatewayConfig
import GatewayProtocol
import Logging
import MQTT
import SafetyCore
import Sensors

/// Turns the validated config into what each adapter takes, so adapters never see YAML types.
extension GatewayConfiguration {
    var gpioBackend: GPIOBackendSelection {
        switch self.gpio.backend {
        case .libgpiod: .libgpiod(chip: self.gpio.chip)
        case .simulated: .simulated(directory: self.gpio.simDir ?? GPIOSettings.defaultSimDir(deviceID: self.device.id))
        }
    }

    var gpioOutputs: [GPIOOutputSpec] {
        let outputs = self.gpio.outputs
        var specs = [
            GPIOOutputSpec(name: OutputRole.red.lineName, line: outputs.red.line, activeLow: outputs.red.activeLow),
            GPIOOutputSpec(name: OutputRole.nir.lineName, line: outputs.nir.line, activeLow: outputs.nir.activeLow),
        ]
        let optional: [(OutputRole, OutputLine?)] = [
            (.master, outputs.master), (.indicator, outputs.indicator), (.heartbeat, outputs.heartbeat),
        ]
        for case (let role, let line?) in optional {
            specs.append(GPIOOutputSpec(name: role.lineName, line: line.line, activeLow: line.activeLow))
        }
        return specs
    }

    /// The output roles this panel has lines for.
    var outputRoles: Set<OutputRole> {
        Set(self.gpioOutputs.compactMap { OutputRole(lineName: $0.name) })
    }

    var gpioInputs: [GPIOInputSpec] {
        let inputs = self.gpio.inputs
        let configured: [(SafetyCore.InputLine, GatewayConfig.InputLine?)] = [
            (.interlock, inputs.interlock), (.stopButton, inputs.stopButton), (.emissionSense, inputs.emissionSense),
        ]
        return configured.compactMap { input, line in
            guard let line else { return nil }
            let bias: GPIOBias =
                switch line.bias {
                case .pullUp: .pullUp
                case .pullDown: .pullDown
                case .disabled: .disabled
                }
            return GPIOInputSpec(
                name: input.lineName, line: line.line, activeLow: line.activeLow, bias: bias, debounceMs: line.debounceMs)
        }
    }

    /// Sysfs PWM for each channel that has one configured (intensity below 100 %).
    func makePWM() throws -> [Channel: SysfsPWM] {
        var pwm: [Channel: SysfsPWM] = [:]
        for channel in Channel.allCases {
            let output = channel == .red ? self.gpio.outputs.red : self.gpio.outputs.nir
            guard let settings = output.pwm else { continue }
            pwm[channel] = try SysfsPWM(chip: settings.chip, channel: settings.channel, frequencyHz: settings.frequencyHz)
        }
        return pwm
    }

    public var logLevel: Logger.Level { Logger.Level(rawValue: self.logging.level.rawValue) ?? .info }

    public var topics: Topics {
        Topics(
            prefix: self.mqtt.prefix, deviceID: self.device.id, groups: self.device.groups,
            discoveryPrefix: self.mqtt.discovery.prefix)
    }

    func makeSensor() -> SensorDriver {
        switch self.sensor.type {
        case .simulated:
            let simulated = self.sensor.simulated
            let model = SimulatedThermalModel(
                ambientC: simulated.ambientC, timeConstantS: simulated.timeConstantSeconds,
                redRiseC: simulated.riseC.red, nirRiseC: simulated.riseC.nir)
            return SensorDriver(sensor: model, model: model)
        case .sysfs, .file:
            return SensorDriver(sensor: SysfsTemperatureSensor(path: self.sensor.path ?? ""), model: nil)
        case .w1:
            return SensorDriver(sensor: W1TemperatureSensor(path: self.sensor.path ?? ""), model: nil)
        }
    }

    /// The daemon's connection: stable client id, will `offline(connection_lost)`, birth `online`,
    /// the command topics and Home Assistant's status topic.
    func mqttClientConfiguration(topics: Topics, bootID: String, version: String, password: String?)
        -> MQTTClientConfiguration
    {
        var configuration = self.mqttClientConfiguration(forClient: self.mqtt.clientID, password: password)
        configuration.will = MQTTMessage(
            topic: topics.status, payload: StatusDocument.offline(reason: "connection_lost").json.bytes, qos: .atLeastOnce,
            retain: true)
        configuration.birth = [
            MQTTMessage(
                topic: topics.status, payload: StatusDocument.online(bootID: bootID, version: version).json.bytes,
                qos: .atLeastOnce, retain: true)
        ]
        configuration.subscriptions = topics.commandSubscriptions.map {
            MQTTSubscription(filter: $0.topic, qos: .atLeastOnce, retainAsPublished: true)
        }
        if self.mqtt.discovery.enabled {
            configuration.subscriptions.append(MQTTSubscription(filter: topics.homeAssistantStatus, qos: .atLeastOnce))
        }
        // The discovery sweep reads back this node's retained configs, then its probe (even with
        // discovery off: that is how configs left from when it was on get removed).
        for filter in topics.discoveryConfigFilters + [topics.discoverySweepProbe] {
            configuration.subscriptions.append(MQTTSubscription(filter: filter, qos: .atLeastOnce))
        }
        // A stop must not wait behind megabytes of a flood in the kernel (S15: stop always passes):
        // 64 KiB is about a thousand commands, tens of milliseconds of the loop's work.
        configuration.receiveBufferBytes = 64 * 1024
        return configuration
    }

    /// A connection to the configured broker with the given client id, the password read now (the CLI
    /// client, `doctor`, the fleet tools).
    public func mqttClientConfiguration(forClient clientID: String) throws -> MQTTClientConfiguration {
        self.mqttClientConfiguration(
            forClient: clientID, password: try self.resolvedPassword(environment: ProcessInfo.processInfo.environment))
    }

    /// A connection to the configured broker with a password already read (the daemon's, read once).
    func mqttClientConfiguration(forClient clientID: String, password: String?) -> MQTTClientConfiguration {
        let tls: MQTTTLS? =
            self.mqtt.usesTLS
            ? MQTTTLS(caFile: self.mqtt.caFile, certFile: self.mqtt.certFile, keyFile: self.mqtt.keyFile) : nil
        return MQTTClientConfiguration(
            host: self.mqtt.host, port: self.mqtt.port, tls: tls, username: self.mqtt.username,
            password: password,
            clientID: clientID,
            protocolVersion: self.mqtt.protocolVersion == .v311 ? .v311 : .v5,
            keepaliveSeconds: self.mqtt.keepaliveSeconds)
    }

    func deviceInfo(version: String) -> DeviceInfo {
        DeviceInfo(
            name: self.device.name, model: self.device.model, serial: self.device.serial, softwareVersion: version,
            wavelengthsNm: PerChannel(
                red: Double(self.channels.red.wavelengthNm), nir: Double(self.channels.nir.wavelengthNm)),
            settings: self.safety)
    }

    /// Home Assistant discovery for this config: today's documents, and which stale configs an
    /// earlier mode leaves for HA to migrate rather than drop (``DiscoverySweep``). `package` for
    /// Fuzz/HomeAssistant, which plays hostile retained configs against the sweep the loop builds.
    package func discoverySweep(topics: Topics, version: String) -> DiscoverySweep {
        let discovery = HomeAssistantDiscovery(
            topics: topics,
            device: .init(
                name: self.device.name, model: self.device.model, serial: self.device.serial, softwareVersion: version,
                manufacturer: self.device.manufacturer),
            maxDurationMinutes: (self.limits.maxSessionSeconds / 6).rounded(.down) / 10,
            maxDose: self.limits.maxSessionDoseJPerCm2,
            temperatureExpireAfter: max(10, Int(self.telemetry.idleIntervalSeconds * 3)),
            supportURL: self.mqtt.discovery.supportURL,
            hardware: .init(
                dimmable: self.safety.dimmable.red || self.safety.dimmable.nir,
                interlock: self.gpio.inputs.interlock != nil, indicator: self.gpio.outputs.indicator != nil))
        let documents: [(topic: String, payload: [UInt8])]
        let migratable: Set<String>
        switch (self.mqtt.discovery.enabled, self.mqtt.discovery.mode) {
        case (false, _):
            (documents, migratable) = ([], [])
        case (true, .device):
            documents = [(topics.deviceDiscovery, discovery.deviceDocument.bytes)]
            // Per-entity configs of entities the device document carries on: migrated, not dropped.
            migratable = Set(discovery.perEntityMessages.map(\.topic))
        case (true, .entity):
            documents = discovery.perEntityMessages.map { ($0.topic, $0.document.bytes) }
            migratable = [topics.deviceDiscovery]
        }
        return DiscoverySweep(documents: documents, migratable: migratable, probeTopic: topics.discoverySweepProbe)
    }
}
