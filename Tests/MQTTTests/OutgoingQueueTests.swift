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

/// While connected, libmosquitto's queue has no bound: the queue decides what it gets.
@Suite struct ConnectedBoundTests {
    let limits = OutgoingQueue.InFlightLimits(congested: 100, bounded: 200)

    private func message(_ topic: String, _ text: String) -> MQTTMessage {
        MQTTMessage(topic: topic, text: text, qos: .atLeastOnce)
    }

    /// Routes one message (`key` nil: `.dropWhenOffline`, "event": `.bounded`, else `.latestWins`).
    private func route(
        _ queue: inout OutgoingQueue, _ queueing: MQTTQueueing, _ text: String = "x", inFlight: Int
    ) -> OutgoingQueue.ConnectedRoute {
        let topic: String =
            switch queueing {
            case .latestWins(let key): key
            case .bounded: "event"
            case .dropWhenOffline: "res"
            }
        return queue.routeWhileConnected(
            self.message(topic, text), queueing: queueing, inFlight: inFlight, limits: self.limits)
    }

    @Test func belowTheLimit_everythingIsSent() {
        var queue = OutgoingQueue(limit: 10)
        for queueing in [MQTTQueueing.dropWhenOffline, .bounded, .latestWins(key: "state")] {
            let route = self.route(&queue, queueing, inFlight: 99)
            #expect(route == .send)
        }
        #expect(queue.count == 0 && queue.droppedCount == 0)
    }

    @Test func congested_droppableShed_latestWinsHeldOnePerKey_eventsSentUpToTheHigherLimit() {
        var queue = OutgoingQueue(limit: 10)
        var sent = 0
        for index in 0..<1000 where self.route(&queue, .dropWhenOffline, "r\(index)", inFlight: 100) == .send {
            sent += 1
        }
        #expect(sent == 0)
        #expect(queue.droppedCount == 1000, "every shed answer is counted")
        // A flood of Home Assistant births republishes the same retained topics over and over.
        for index in 0..<1000 {
            _ = self.route(&queue, .latestWins(key: "state"), "s\(index)", inFlight: 150)
            _ = self.route(&queue, .latestWins(key: "ha"), "d\(index)", inFlight: 150)
        }
        #expect(queue.count == 2, "one held message per key, however many were published")
        #expect(queue.coalescedCount == 1998)
        let belowBound = self.route(&queue, .bounded, inFlight: 199)
        let atBound = self.route(&queue, .bounded, inFlight: 200)
        #expect(belowBound == .send, "events still go while answers are shed")
        #expect(atBound != .send)
        #expect(queue.droppedCount == 1001)
    }

    @Test func heldMessages_goOutOnceTheBacklogShrinks_newestPerKey() {
        var queue = OutgoingQueue(limit: 10)
        _ = self.route(&queue, .latestWins(key: "state"), "old", inFlight: 100)
        _ = self.route(&queue, .latestWins(key: "diag"), "d", inFlight: 100)
        let whileCongested = queue.release(inFlight: 100, limits: self.limits)
        #expect(whileCongested.isEmpty, "nothing while still congested")
        // Below the limit again, a newer message of a held key must not overtake the held one:
        // it replaces it, and both keys go out together.
        let newer = self.route(&queue, .latestWins(key: "state"), "new", inFlight: 50)
        #expect(newer == .held(.replaced))
        let released = queue.release(inFlight: 99, limits: self.limits)
        #expect(released.map(\.payloadText) == ["d", "new"])
        #expect(queue.count == 0)
        let next = self.route(&queue, .latestWins(key: "state"), "next", inFlight: 50)
        #expect(next == .send)
    }

    @Test func heldKeysBeyondTheQueueLimit_areDroppedAndCounted() {
        var queue = OutgoingQueue(limit: 3)
        for key in 0..<5 {
            _ = self.route(&queue, .latestWins(key: "k\(key)"), inFlight: 100)
        }
        #expect(queue.count == 3)
        #expect(queue.droppedCount == 2)
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

