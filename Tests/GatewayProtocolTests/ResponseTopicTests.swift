import GatewayProtocol
import Testing

/// An MQTT v5 response topic is honoured only inside the panel's own `res/` tree: whoever may
/// command a panel must not make it publish anywhere else.
@Suite struct ResponseTopicTests {
    let topics = Topics(prefix: "rlt", deviceID: "p1", groups: ["ward"])

    @Test(arguments: ["rlt/p1/res/ha", "rlt/p1/res/cli-42", "rlt/p1/res/a/b"])
    func aLeafOfTheOwnResTree_isHonoured(topic: String) {
        #expect(self.topics.mayAnswer(on: topic))
    }

    @Test(arguments: [
        "rlt/p1/res",  // the tree itself is the default answer topic, not a leaf of it
        "rlt/p1/res/",
        "rlt/p1/state",  // its own retained state
        "rlt/p2/res/x",  // another panel
        "rlt/p1/resx/y",
        "homeassistant/device/rlt_p1/config",  // HA discovery
        "rlt/p1/res/+",
        "rlt/p1/res/#",
        "other/rlt/p1/res/x",
    ])
    func anyOtherTopic_isNot(topic: String) {
        #expect(!self.topics.mayAnswer(on: topic))
    }
}
