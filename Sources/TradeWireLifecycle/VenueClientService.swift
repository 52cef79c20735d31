import ServiceLifecycle
import TradeWire

/// A venue client as a swift-service-lifecycle `Service`: `run()` connects, then waits for the group's
/// graceful shutdown (or task cancellation), then runs `onShutdown` if given (for example a cancel-all;
/// nothing by default) and closes the client, returning once its requests have all completed.
public struct VenueClientService<Client: VenueClient>: Service {
    public let client: Client
    private let onShutdown: (@Sendable (Client) async -> Void)?

    /// `onShutdown`: work to do on the open connection before it closes (off by default).
    public init(_ client: Client, onShutdown: (@Sendable (Client) async -> Void)? = nil) {
        self.client = client
        self.onShutdown = onShutdown
    }

    public func run() async throws {
        try await client.connect()
        // Returns when the group shuts down gracefully, or throws when the task is cancelled.
        try? await gracefulShutdown()
        if let onShutdown { await onShutdown(client) }
        await client.close()
    }
}

/// The event loop as a `Service`: stops the loop (aborting what is still open) at graceful shutdown.
/// Put it first in the group's services: the group shuts services down in reverse order, so the clients
/// close (and their requests complete) before the loop stops.
public struct EventLoopService: Service {
    public let loop: EventLoop
    public init(_ loop: EventLoop) { self.loop = loop }

    public func run() async throws {
        try? await gracefulShutdown()
        loop.shutdown()
    }
}
