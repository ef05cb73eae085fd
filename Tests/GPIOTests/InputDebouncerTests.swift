import Testing

@testable import GPIO

@Suite struct InputDebouncerTests {
    private let ms: Int64 = 1_000_000

    @Test func bounceShorterThanWindow_reportsNothing() {
        var debouncer = InputDebouncer(inputs: [(name: "interlock", debounceMs: 20, level: true)])
        debouncer.activity(on: 0, at: 100 * self.ms)  // opens…
        debouncer.activity(on: 0, at: 105 * self.ms)  // …and closes again 5 ms later
        #expect(debouncer.dueLines(at: 120 * self.ms).isEmpty)  // window restarted at 105
        #expect(debouncer.nextDeadline == 125 * self.ms)
        #expect(debouncer.dueLines(at: 125 * self.ms) == [0])
        #expect(debouncer.settle(0, level: true) == nil)
        #expect(debouncer.nextDeadline == nil)
    }

    @Test func changeHeldForWindow_reportsOneEdgeStampedAtLastActivity() {
        var debouncer = InputDebouncer(inputs: [(name: "interlock", debounceMs: 20, level: true)])
        debouncer.activity(on: 0, at: 100 * self.ms)
        debouncer.activity(on: 0, at: 103 * self.ms)
        debouncer.activity(on: 0, at: 104 * self.ms)
        #expect(debouncer.dueLines(at: 124 * self.ms) == [0])
        #expect(
            debouncer.settle(0, level: false)
                == GPIOInputEdge(name: "interlock", active: false))
        #expect(debouncer.settle(0, level: false) == nil)
    }

    @Test func zeroDebounce_isDueAtOnce() {
        var debouncer = InputDebouncer(inputs: [
            (name: "a", debounceMs: 50, level: false), (name: "stop_button", debounceMs: 0, level: false),
        ])
        debouncer.activity(on: 1, at: 7)
        #expect(debouncer.nextDeadline == 7)
        #expect(debouncer.dueLines(at: 7) == [1])
        #expect(debouncer.settle(1, level: true)?.active == true)
    }

    @Test func linesAreIndependent() {
        var debouncer = InputDebouncer(inputs: [
            (name: "a", debounceMs: 10, level: false), (name: "b", debounceMs: 30, level: false),
        ])
        debouncer.activity(on: 0, at: 0)
        debouncer.activity(on: 1, at: 0)
        #expect(debouncer.nextDeadline == 10 * self.ms)
        #expect(debouncer.dueLines(at: 10 * self.ms) == [0])
        #expect(debouncer.nextDeadline == 30 * self.ms)
        #expect(debouncer.dueLines(at: 30 * self.ms) == [1])
    }
}
