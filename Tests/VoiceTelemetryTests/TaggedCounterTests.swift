// The ownership rules of TaggedCounter: adds land only under their own tag, take-backs are exact.
// (TaggedCounter is ~Copyable: results are bound to locals before #expect sees them.)
import Testing
@testable import VoiceTelemetry

@Test func addUnderOwnTagCounts() {
    let c = TaggedCounter(tag: 4)
    let first = c.add(5, tag: 4), second = c.add(7, tag: 4)
    let value = c.value()
    #expect(first && second)
    #expect(value == 12)
}

@Test func addUnderForeignTagLeavesNoTrace() {
    let c = TaggedCounter(tag: 4)
    let own = c.add(5, tag: 4)
    let stale = c.add(100, tag: 2)
    let value = c.value()
    #expect(own)
    #expect(!stale, "a stale tag must be refused")
    #expect(value == 5)
}

@Test func retagResetsAndReturnsTheFinalValue() {
    let c = TaggedCounter(tag: 4)
    _ = c.add(9, tag: 4)
    let final = c.retagResetting(to: 5)
    let afterReset = c.value()
    let oldTag = c.add(1, tag: 4)
    let newTag = c.add(1, tag: 5)
    let value = c.value()
    #expect(final == 9)
    #expect(afterReset == 0)
    #expect(!oldTag && newTag)
    #expect(value == 1)
}

@Test func retagKeepingPreservesTheCount() {
    let c = TaggedCounter(tag: 4)
    _ = c.add(3, tag: 4)
    c.retagKeeping(to: 5)
    let kept = c.value()
    c.leaveGuard()
    let left = c.value()
    #expect(kept == 3)
    #expect(left == 2)
}

@Test func takeBackStopsOnceTheWordWasRetagged() {
    // An add that landed under tag 5 is discarded by the retag to 6; its take-back must not
    // subtract from the new owner.
    let c = TaggedCounter(tag: 5)
    let old = c.word.wrappingAdd(10, ordering: .relaxed).oldValue
    _ = c.retagResetting(to: 6)
    _ = c.add(3, tag: 6)
    c.takeBack(10, addedUnder: old >> TaggedCounter.valueBits)
    let value = c.value()
    #expect(value == 3)
}

@Test func tagsFollowGenerations() {
    #expect(TaggedCounter.tag(ofGeneration: 2) != TaggedCounter.tag(ofGeneration: 3))
    #expect(TaggedCounter.tag(ofGeneration: (1 << 20) + 2) == TaggedCounter.tag(ofGeneration: 2))
}
