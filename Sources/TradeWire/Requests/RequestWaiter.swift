import Synchronization

/// The awaiting caller of one request: resumed exactly once.
///
/// It is handed to the loop inside the task that issues the request and stored with the
/// request before its frame is sent, so a send that fails inside itself still finds it.
/// If it is released unresumed (a stopped loop drops the tasks it will never run; a client
/// is released with requests in flight), it resumes the caller with `.closed` instead of
/// leaving the caller suspended for ever.
public final class RequestWaiter<Value: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Value, Error>?>

    public init(_ continuation: CheckedContinuation<Value, Error>) {
        self.continuation = Mutex(continuation)
    }

    /// Resume the caller; later calls do nothing.
    public func resume(with result: Result<Value, Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }

    public func resume(returning value: Value) { resume(with: .success(value)) }
    public func resume(throwing error: Error) { resume(with: .failure(error)) }

    deinit {
        continuation.withLock { $0.take() }?.resume(throwing: TradeWireError(
            code: .closed, detail: "the request was dropped unanswered: its event loop stopped or its client was released"))
    }
}

extension EventLoop {
    /// Run `body` on the loop with a waiter for its result, and await it. The caller is
    /// always resumed: by `body` (through the waiter, now or later), or with `.closed` when
    /// the loop has stopped and drops the task.
    public func awaitResult<Value: Sendable>(_ body: @escaping @Sendable (RequestWaiter<Value>) -> Void) async throws -> Value {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Value, Error>) in
            let waiter = RequestWaiter(c)
            execute { body(waiter) }
        }
    }
}

extension EventLoop {
    /// `submit` for the typed API: its error as a `TradeWireError` (`.closed` once the loop has stopped).
    package func submitTyped<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws(TradeWireError) -> T {
        do { return try await submit(body) } catch { throw .wrapping(error) }
    }

    /// `awaitResult` for the typed API.
    package func awaitTyped<Value: Sendable>(_ body: @escaping @Sendable (RequestWaiter<Value>) -> Void) async throws(TradeWireError) -> Value {
        do { return try await awaitResult(body) } catch { throw .wrapping(error) }
    }
}
