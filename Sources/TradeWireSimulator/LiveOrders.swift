/// A venue's live orders by id, with an index by client order id, so duplicate
/// checks and lookups by client id stay O(1) however many orders rest.
struct LiveOrders<Info>: Sequence {
    private var byID: [String: Info] = [:]
    private var idByClOrdID: [String: String] = [:]
    private let clOrdID: (Info) -> String?

    init(clOrdID: @escaping (Info) -> String?) { self.clOrdID = clOrdID }

    subscript(id: String) -> Info? {
        get { byID[id] }
        set {
            if let old = byID[id], let cl = clOrdID(old) { idByClOrdID[cl] = nil }
            byID[id] = newValue
            if let new = newValue, let cl = clOrdID(new) { idByClOrdID[cl] = id }
        }
    }

    /// The id of the live order with this client order id.
    func id(clOrdID cl: String) -> String? { idByClOrdID[cl] }

    var count: Int { byID.count }

    func makeIterator() -> Dictionary<String, Info>.Iterator { byID.makeIterator() }
}
