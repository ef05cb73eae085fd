import TestKit
import Testing

@testable import MQTT

@Suite struct OutgoingQueueTests {
    private func message(_ text: String) -> MQTTMessage {
        MQTTMessage(topic: "t", text: text)
    }

    @Test func latestWins_sameKeyOffered3Times_keepsOnlyTheNewest() {
        var queue = OutgoingQueue(limit: 10)
        #expect(queue.offer(self.message("1"), queueing: .latestWins(key: "state")) == .queued)
        #expect(queue.offer(self.message("2"), queueing: .latestWins(key: "state")) == .replaced)
        #expect(queue.offer(self.message("3"), queueing: .latestWins(key: "state")) == .replaced)
        #expect(queue.drain().map(\.payloadText) == ["3"])
        #expect(queue.droppedCount == 0)
    }

    @Test func bounded_beyondTheLimit_dropsNewcomersAndCountsThem() {
        var queue = OutgoingQueue(limit: 3)
        for index in 0..<5 {
            _ = queue.offer(self.message("\(index)"), queueing: .bounded)
        }
        #expect(queue.count == 3)
        #expect(queue.droppedCount == 2)
        #expect(queue.drain().map(\.payloadText) == ["0", "1", "2"])
    }

    @Test func dropWhenOffline_neverQueues_butCounts() {
        var queue = OutgoingQueue(limit: 3)
        #expect(queue.offer(self.message("x"), queueing: .dropWhenOffline) != .queued)
        #expect(queue.count == 0)
        #expect(queue.droppedCount == 1)
    }

    @Test func latestWins_replacedEntry_movesBehindOlderMessages() {
        var queue = OutgoingQueue(limit: 10)
        _ = queue.offer(self.message("state-1"), queueing: .latestWins(key: "state"))
        _ = queue.offer(self.message("event"), queueing: .bounded)
        _ = queue.offer(self.message("state-2"), queueing: .latestWins(key: "state"))
        #expect(queue.drain().map(\.payloadText) == ["event", "state-2"])
    }
}

@Suite struct ReconnectBackoffTests {
    @Test(arguments: [UInt64(1), 42, 9001])
    func delays_growExponentiallyWithJitter_andStayWithinBounds(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var backoff = ReconnectBackoff(minimum: 1, maximum: 60)
        var delays: [Double] = []
        for _ in 0..<12 {
            delays.append(backoff.nextDelay(using: &random))
        }
        for (attempt, delay) in delays.enumerated() {
            let ceiling = min(60, Double(1 << attempt))
            #expect(delay >= ceiling / 2 && delay <= ceiling, "seed \(seed) attempt \(attempt): \(delay)")
        }
        #expect(delays.last ?? 0 >= 30, "seed \(seed): the delay must reach the cap region")
        backoff.reset()
        #expect(backoff.nextDelay(using: &random) <= 1)
    }
}

