/// How the gateway reaches its broker, and under which topic prefixes it speaks.
public struct MQTTSettings: Sendable, Hashable {
    /// The broker: `mqtt://host:port` (plaintext) or `mqtts://host:port` (TLS).
    public var url: BrokerURL
    /// Allows a plaintext `mqtt://` URL to a host that is not loopback.
    public var allowInsecure: Bool
    public var protocolVersion: MQTTProtocolVersion
    /// First topic level; the base topic is `<prefix>/<device.id>`.
    public var prefix: String
    public var username: String?
    /// File holding the password (one line); the password itself never appears in the config.
    public var passwordFile: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var keepaliveSeconds: Int
    public var discovery: DiscoverySettings
    /// MQTT client id; `rlt-<device.id>` unless configured.
    public var clientID: String

    public init(
        url: BrokerURL = BrokerURL(scheme: .mqtt, host: "127.0.0.1", port: 1883), allowInsecure: Bool = false,
        protocolVersion: MQTTProtocolVersion = .v5, prefix: String = "rlt", username: String? = nil,
        passwordFile: String? = nil, caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
        keepaliveSeconds: Int = 10, discovery: DiscoverySettings = DiscoverySettings(), clientID: String = "rlt-panel-1"
    ) {
        self.url = url
        self.allowInsecure = allowInsecure
        self.protocolVersion = protocolVersion
        self.prefix = prefix
        self.username = username
        self.passwordFile = passwordFile
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.keepaliveSeconds = keepaliveSeconds
        self.discovery = discovery
        self.clientID = clientID
    }

    public var scheme: BrokerURL.Scheme { self.url.scheme }
    public var host: String { self.url.host }
    public var port: Int { self.url.port }
    /// Whether the connection is encrypted (`mqtts://`).
    public var usesTLS: Bool { self.url.scheme == .mqtts }
}

/// The MQTT protocol level to connect with.
public enum MQTTProtocolVersion: String, Sendable, Hashable, CaseIterable {
    /// MQTT 5: response topics and correlation data are honoured.
    case v5 = "5"
    /// MQTT 3.1.1, for brokers that lack v5.
    case v311 = "3.1.1"
}

/// Home Assistant MQTT discovery.
public struct DiscoverySettings: Sendable, Hashable {
    /// Which discovery documents to publish.
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// One `homeassistant/device/<node>/config` document (HA ≥ 2024.11).
        case device
        /// One config topic per entity, for older Home Assistant.
        case entity
    }

    public var enabled: Bool
    /// HA's discovery prefix (HA's default is `homeassistant`).
    public var prefix: String
    public var mode: Mode
    /// Where a Home Assistant user gets help with this panel (HA shows it with the discovery origin);
    /// an absolute http(s) URL, or none.
    public var supportURL: String?

    public init(enabled: Bool = true, prefix: String = "homeassistant", mode: Mode = .device, supportURL: String? = nil) {
        self.enabled = enabled
        self.prefix = prefix
        self.mode = mode
        self.supportURL = supportURL
    }
}

/// A broker address, parsed from `mqtt://host:port` or `mqtts://host:port`.
public struct BrokerURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        case mqtt
        case mqtts

        /// IANA ports: 1883 plaintext, 8883 TLS.
        public var defaultPort: Int {
            switch self {
            case .mqtt: 1883
            case .mqtts: 8883
            }
        }
    }

    public var scheme: Scheme
    /// Host name or IP address, without brackets for IPv6.
    public var host: String
    public var port: Int

    public init(scheme: Scheme, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port ?? scheme.defaultPort
    }

    /// Parses `scheme://host[:port][/]`, IPv6 hosts in brackets.
    ///
    /// - Throws: ``BrokerURLError`` naming what is wrong with the text.
    public init(parsing text: String) throws(BrokerURLError) {
        guard let separator = text.range(of: "://") else {
            throw BrokerURLError("\"\(text)\" is not a broker URL; write mqtt://host:port or mqtts://host:port")
        }
        let schemeText = text[..<separator.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw BrokerURLError("scheme \"\(schemeText)\" is not supported; use mqtt:// or mqtts://")
        }
        var rest = Substring(text[separator.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        if rest.contains("/") || rest.contains("?") || rest.contains("#") {
            throw BrokerURLError("\"\(text)\" has a path or query; a broker URL is only scheme://host:port")
        }
        if rest.contains("@") {
            throw BrokerURLError(
                "credentials in the URL are refused; use mqtt.username and mqtt.password_file or RLT_MQTT_PASSWORD")
        }
        let host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw BrokerURLError("\"\(text)\" opens an IPv6 address with [ but never closes it")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw BrokerURLError("\"\(text)\" has text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw BrokerURLError("\"\(text)\" has no host") }
        var port = scheme.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw BrokerURLError("port \"\(portText)\" is not a number in 1…65535")
            }
            port = value
        }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// Whether the host is this machine: `localhost`, `127.0.0.0/8` or `::1`.
    ///
    /// Plaintext is acceptable only there: nothing crosses a wire another machine can read.
    public var isLoopback: Bool {
        let host = self.host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }

    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(self.scheme.rawValue)://\(host):\(self.port)"
    }
}

/// Why a broker URL could not be parsed.
public struct BrokerURLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
