import MQTT
import Testing
import TestSupport

@Suite struct RoundTripTests {
    @Test(arguments: [MQTTProtocolVersion.v5, .v311])
    func publish_toSubscribedTopic_arrivesWithPayloadAndQoS(version: MQTTProtocolVersion) async throws {
        let broker = try await MosquittoBroker()
        let receiver = try TestClient(port: broker.port, subscriptions: ["rt/#"], protocolVersion: version) {
            $0.subscriptions = [MQTTSubscription(filter: "rt/#", qos: .exactlyOnce)]
        }
        let sender = try TestClient(port: broker.port, protocolVersion: version)
        #expect(await receiver.waitForSubscription(probeTopic: "rt/probe"))
        #expect(await sender.waitForConnection())

        let bytes: [UInt8] = [0, 1, 2, 0xFF, 0x7B]
        sender.publish(MQTTMessage(topic: "rt/binary", payload: bytes, qos: .atLeastOnce))
        sender.publish(MQTTMessage(topic: "rt/q2", text: "two", qos: .exactlyOnce))
        sender.publish(MQTTMessage(topic: "rt/q0", text: "zero", qos: .atMostOnce))
        sender.publish(MQTTMessage(topic: "rt/empty", payload: [], qos: .atLeastOnce))

        let binary = await receiver.waitForMessage(topic: "rt/binary")
        #expect(binary?.payload == bytes)
        #expect(binary?.qos == .atLeastOnce)
        #expect(binary?.retain == false)
        #expect(await receiver.waitForMessage(topic: "rt/q2")?.qos == .exactlyOnce)
        #expect(await receiver.waitForMessage(topic: "rt/q0")?.qos == .atMostOnce)
        #expect(await receiver.waitForMessage(topic: "rt/empty")?.payload == [])

        await sender.stop()
        await receiver.stop()
        await broker.stop()
    }

    @Test(arguments: [MQTTProtocolVersion.v5, .v311])
    func retainedMessage_seenByLateSubscriber_carriesRetainFlagAndQoS(version: MQTTProtocolVersion) async throws {
        let broker = try await MosquittoBroker()
        let sender = try TestClient(port: broker.port, protocolVersion: version)
        #expect(await sender.waitForConnection())
        // Sent as a final message so `stop` returns only after the broker acknowledged it.
        await sender.stop(finalMessages: [
            MQTTMessage(topic: "ret/state", text: "kept", qos: .atLeastOnce, retain: true)
        ])

        let late = try TestClient(port: broker.port, subscriptions: ["ret/#"], protocolVersion: version)
        let retained = await late.waitForMessage(topic: "ret/state")
        #expect(retained?.payloadText == "kept")
        #expect(retained?.retain == true)
        #expect(retained?.qos == .atLeastOnce)

        await late.stop()
        await broker.stop()
    }

    @Test func v5Request_withResponseTopicAndCorrelationData_isAnsweredAtTheRequestersTopic() async throws {
        let broker = try await MosquittoBroker()
        let responder = try TestClient(port: broker.port, subscriptions: ["svc/req"])
        let requester = try TestClient(port: broker.port, subscriptions: ["svc/reply/me"])
        #expect(await responder.waitForSubscription(probeTopic: "svc/req"))
        #expect(await requester.waitForSubscription(probeTopic: "svc/reply/me"))

        let correlation: [UInt8] = [0xC0, 0xFF, 0xEE, 0x00, 0x01]
        requester.publish(
            MQTTMessage(
                topic: "svc/req", payload: Array("ping".utf8), qos: .atLeastOnce,
                responseTopic: "svc/reply/me", correlationData: correlation))

        let request = try #require(await responder.waitForMessage(topic: "svc/req"))
        #expect(request.responseTopic == "svc/reply/me")
        #expect(request.correlationData == correlation)
        let replyTopic = try #require(request.responseTopic)
        responder.publish(
            MQTTMessage(
                topic: replyTopic, payload: Array("pong".utf8), qos: .atLeastOnce,
                correlationData: request.correlationData))

        let reply = await requester.waitForMessage(topic: "svc/reply/me")
        #expect(reply?.payloadText == "pong")
        #expect(reply?.correlationData == correlation)

        await requester.stop()
        await responder.stop()
        await broker.stop()
    }

    @Test func v311Publish_withResponseTopic_isDeliveredWithoutProperties() async throws {
        let broker = try await MosquittoBroker()
        let receiver = try TestClient(port: broker.port, subscriptions: ["old/#"])
        let sender = try TestClient(port: broker.port, protocolVersion: .v311)
        #expect(await receiver.waitForSubscription(probeTopic: "old/probe"))
        #expect(await sender.waitForConnection())

        sender.publish(
            MQTTMessage(
                topic: "old/req", payload: Array("x".utf8), qos: .atLeastOnce, responseTopic: "old/reply",
                correlationData: [1]))
        let message = await receiver.waitForMessage(topic: "old/req")
        #expect(message?.payloadText == "x")
        #expect(message?.responseTopic == nil)
        #expect(message?.correlationData == nil)

        await sender.stop()
        await receiver.stop()
        await broker.stop()
    }
}
