/// A first-in, first-out queue on one array with a moving head: popping costs no shifting, and the
/// consumed prefix is dropped (one move) once it is most of the array and over 1024 entries.
/// The time-ordered queues of the stateful stages (open and closed operations in
/// `OperationAssembler`, `OperationOnce`'s records) are this.
struct FIFOQueue<Element> {
    private var items: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    /// The oldest element still queued.
    var first: Element? { head < items.count ? items[head] : nil }

    mutating func append(_ element: Element) { items.append(element) }

    /// Removes and returns the oldest element.
    @discardableResult
    mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head > 1024, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }

    mutating func removeAll() {
        items.removeAll()
        head = 0
    }
}
