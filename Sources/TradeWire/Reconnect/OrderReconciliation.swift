/// After a reconnect: what the venue's snapshot says of an order whose outcome
/// was unknown when the connection went (it completed with `.connectionLost`).
/// TradeWire never resends an order by itself; this tells the application
/// whether it reached the venue.
public struct OrderReconciliation: Sendable, Equatable, CustomStringConvertible {
    public enum Finding: Sendable, Equatable {
        /// The venue has it, with its id and status as the snapshot gave them.
        case found(orderID: String, status: String)
        /// Not in the snapshot: it did not reach the venue, or it already ended
        /// (filled, cancelled) and the snapshot lists only live orders.
        case notFound
    }

    public let clientOrderID: String
    public let finding: Finding

    public init(clientOrderID: String, finding: Finding) {
        self.clientOrderID = clientOrderID
        self.finding = finding
    }

    public var description: String {
        switch finding {
        case .found(let id, let status): return "\(clientOrderID): at the venue as \(id) (\(status))"
        case .notFound: return "\(clientOrderID): not in the venue's snapshot"
        }
    }
}

/// The client order ids of orders lost with a connection, waiting for the next
/// snapshot. Loop-confined.
public struct UnknownOrders: Sendable {
    public private(set) var clientOrderIDs: [String] = []

    public init() {}

    public var isEmpty: Bool { clientOrderIDs.isEmpty }

    public mutating func add(_ clientOrderID: String) {
        if !clientOrderIDs.contains(clientOrderID) { clientOrderIDs.append(clientOrderID) }
    }

    /// Match against a snapshot's (client order id, order id, status) entries; empties the list.
    public mutating func reconcile(with snapshot: [(clientOrderID: String, orderID: String, status: String)]) -> [OrderReconciliation] {
        var byClient: [String: (String, String)] = [:]
        for e in snapshot { byClient[e.clientOrderID] = (e.orderID, e.status) }
        let result = clientOrderIDs.map { id in
            OrderReconciliation(clientOrderID: id, finding: byClient[id].map { .found(orderID: $0.0, status: $0.1) } ?? .notFound)
        }
        clientOrderIDs.removeAll()
        return result
    }
}
