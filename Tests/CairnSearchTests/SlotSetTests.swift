import CairnSearch
import Testing

@Suite struct SlotSetTests {
    @Test func insertsCountsAndListsSlots() {
        var set = SlotSet(capacity: 10)
        for slot: IndexSlot in [3, 200, 3, 64, 0] { set.insert(slot) }
        #expect(set.count == 4)
        #expect(set.slots == [0, 3, 64, 200])
        #expect(set.contains(200) && !set.contains(199) && !set.contains(10_000))
    }
}
