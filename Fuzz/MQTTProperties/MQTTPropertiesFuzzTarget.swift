import CMosquitto
import FuzzSupport
import GatewayProtocol
import MQTT
#if canImport(Glibc)
    import Glibc
#endif

/// Fuzz target: the MQTT v5 properties of an incoming command, as libmosquitto hands them to the
/// adapter (``MQTTMessage/readProperties(_:)``) and as the gateway then judges the response topic
/// (``Topics/mayAnswer(on:)``).
///
/// The property list is built with libmosquitto's own `mosquitto_property_add_*` from the input and
/// kept only if `mosquitto_property_check_all(CMD_PUBLISH, …)` accepts it, which is what the library
/// does with a PUBLISH off the wire before the message callback sees it: so every list this target
/// reads is one a hostile client can deliver. The adapter must read back exactly the response topic
/// and correlation data that were sent, whatever user properties, content types or aliases surround
/// them; and a response topic the gateway agrees to answer on must lie in this panel's own
/// `<base>/res/` tree and be a topic libmosquitto will publish to (docs/DESIGN.md, "MQTT contract (v1)").
@main
enum MQTTPropertiesFuzzTarget: FuzzTarget {
    static let topics = Topics(prefix: "rlt", deviceID: "panel-1")
    static let responseTree = "rlt/panel-1/res/"

    /// The PUBLISH properties and their wire types, so most inputs build a list the library accepts.
    enum Kind: CaseIterable {
        case payloadFormat, messageExpiry, contentType, responseTopic, correlationData, subscriptionID
        case topicAlias, userProperty, raw
    }

    static func run(_ input: [UInt8]) {
        var reader = FuzzInput(input)
        var list: OpaquePointer?
        defer { mosquitto_property_free_all(&list) }
        var sentTopic: String?
        var sentCorrelation: [UInt8]?
        var count = 0
        while !reader.isAtEnd, count < 24 {
            count += 1
            let kind = Kind.allCases[Int(reader.byte()) % Kind.allCases.count]
            let rc: Int32
            switch kind {
            case .payloadFormat:
                rc = mosquitto_property_add_byte(&list, Int32(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue), reader.byte())
            case .messageExpiry:
                rc = mosquitto_property_add_int32(
                    &list, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), UInt32(truncatingIfNeeded: reader.uint64()))
            case .contentType:
                rc = mosquitto_property_add_string(&list, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), reader.string())
            case .responseTopic:
                let topic = Self.cString(reader.chunk())
                rc = mosquitto_property_add_string(&list, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), topic)
                if rc == MOSQ_ERR_SUCCESS.rawValue, sentTopic == nil { sentTopic = topic }
            case .correlationData:
                let data = reader.chunk()
                rc = data.withUnsafeBytes {
                    mosquitto_property_add_binary(
                        &list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), $0.baseAddress, UInt16($0.count))
                }
                if rc == MOSQ_ERR_SUCCESS.rawValue, sentCorrelation == nil { sentCorrelation = data }
            case .subscriptionID:
                rc = mosquitto_property_add_varint(
                    &list, Int32(MQTT_PROP_SUBSCRIPTION_IDENTIFIER.rawValue), UInt32(truncatingIfNeeded: reader.uint64()))
            case .topicAlias:
                rc = mosquitto_property_add_int16(
                    &list, Int32(MQTT_PROP_TOPIC_ALIAS.rawValue), UInt16(truncatingIfNeeded: reader.uint64()))
            case .userProperty:
                rc = mosquitto_property_add_string_pair(
                    &list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), reader.string(), reader.string())
            case .raw:
                // Any identifier with a string value: the library must refuse the wrong ones.
                let identifier = Int32(reader.byte())
                let text = Self.cString(reader.chunk())
                rc = mosquitto_property_add_string(&list, identifier, text)
                if rc == MOSQ_ERR_SUCCESS.rawValue, identifier == Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), sentTopic == nil {
                    sentTopic = text
                }
            }
            _ = rc
        }
        guard mosquitto_property_check_all(Int32(CMD_PUBLISH), list) == MOSQ_ERR_SUCCESS.rawValue else { return }

        var message = MQTTMessage(topic: "rlt/panel-1/cmd", payload: Array(#"{"cmd":"get"}"#.utf8), qos: .atLeastOnce)
        message.readProperties(list)
        if message.responseTopic != sentTopic {
            fuzzFailure("read response topic \(String(describing: message.responseTopic)), sent \(String(describing: sentTopic))", input: input)
        }
        if message.correlationData != sentCorrelation {
            fuzzFailure("read correlation data \(String(describing: message.correlationData)), sent \(String(describing: sentCorrelation))", input: input)
        }
        guard let asked = message.responseTopic, Self.topics.mayAnswer(on: asked) else { return }
        if !asked.hasPrefix(Self.responseTree) || asked.utf8.count <= Self.responseTree.utf8.count {
            fuzzFailure("would answer outside this panel's res/ tree: \(asked.debugDescription)", input: input)
        }
        if asked.contains(where: { $0 == "+" || $0 == "#" || $0 == "\u{0}" }) {
            fuzzFailure("would answer on a wildcard topic: \(asked.debugDescription)", input: input)
        }
        if mosquitto_pub_topic_check2(asked, asked.utf8.count) != MOSQ_ERR_SUCCESS.rawValue
            || mosquitto_validate_utf8(asked, Int32(asked.utf8.count)) != MOSQ_ERR_SUCCESS.rawValue
        {
            fuzzFailure("would answer on a topic libmosquitto cannot publish to: \(asked.debugDescription)", input: input)
        }
        if case .command = Self.topics.classify(asked) {
            fuzzFailure("would answer on a command topic: \(asked)", input: input)
        }
    }

    /// The bytes as a C string would carry them: up to the first NUL, invalid UTF-8 kept as is only
    /// where it decodes (the library validates UTF-8 itself and refuses the rest).
    static func cString(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
