import DedicatedThread
import Foundation
import Synchronization
import TestKit
import Testing

/// The one way blocking work gets a thread: named where `top -H` shows it, and joined only once
/// its body has returned.
@Suite struct DedicatedThreadTests {
    @Test func thread_carriesItsName_andJoinWaitsForTheBody() throws {
        let seen = Mutex<String?>(nil)
        let finished = Atomic<Bool>(false)
        let thread = try #require(
            DedicatedThread.start(name: "rlt-test-thread-name-longer") {
                let comm = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
                seen.withLock { $0 = comm?.trimmingCharacters(in: .whitespacesAndNewlines) }
                Thread.sleep(forTimeInterval: 0.05)
                finished.store(true, ordering: .releasing)
            })
        thread.join()
        let finishedAtJoin = finished.load(ordering: .acquiring)
        #expect(finishedAtJoin, "join returned before the body did")
        #expect(seen.withLock { $0 } == "rlt-test-thread", "Linux keeps the first 15 bytes of the name")
        thread.join()  // A second join returns at once.
    }

    @Test func joinFromTheBody_doesNotDeadlock() async throws {
        let box = Mutex<DedicatedThread?>(nil)
        let done = Atomic<Bool>(false)
        let started = Atomic<Bool>(false)
        let thread = try #require(
            DedicatedThread.start(name: "rlt-self-join") {
                while !started.load(ordering: .acquiring) { Thread.sleep(forTimeInterval: 0.001) }
                box.withLock { $0 }?.join()
                done.store(true, ordering: .releasing)
            })
        box.withLock { $0 = thread }
        started.store(true, ordering: .releasing)
        let joined = await eventually(timeout: .seconds(10), every: .milliseconds(5)) { done.load(ordering: .acquiring) }
        #expect(joined)
    }
}
