/// What every venue client (Kraken, Binance, gateway, quotes) does alike: connect, report its
/// connection, and close for good once every request in flight has completed. The
/// service-lifecycle services (`TradeWireLifecycle`) and generic application code use it.
public protocol VenueClient: AnyObject, Sendable {
    /// The venue's name in the registry and in metrics ("kraken", "binance", "gateway", "quotes").
    static var venueName: String { get }
    /// Connect and wait for the upgrade (and, where the venue has one, the logon).
    func connect() async throws
    /// Close for good; returns once the connection is closed and every request has completed.
    func close() async
    /// Whether a connection is open now (a snapshot: it may change at once).
    var isConnected: Bool { get }
    /// Every connection event, as a stream (see `EventStream`).
    var connectionEvents: EventStream<ConnectionEvent> { get }
}
