import TradeWire

/// What happened to a Binance connection's session (`BinanceClient.onSessionEvent`, on the loop thread).
public enum BinanceSessionEvent: Sendable {
    /// `session.logon` succeeded: signed requests now carry only their timestamp.
    case loggedOn
    /// `session.logon` failed (the key, the signature, the clock); requests stay signed one by one.
    case logonFailed(TradeWireError)
    /// Binance revoked the session (`{"id":null,"status":401,"error":{"code":-2015,…}}`): the API key stopped being
    /// valid for it. Later requests are signed again; the client does not log on again by itself.
    case revoked(code: Int, message: String)
    /// A user data stream subscription is active (`subscriptionId` when the venue names it).
    case userDataStreamSubscribed(subscriptionID: Int64?)
    /// A user data stream subscription ended (`eventStreamTerminated`).
    case userDataStreamTerminated(subscriptionID: Int64?)
    /// The server announced it will shut down (`serverShutdown`, with its time when given): with a reconnect
    /// policy, a replacement connection is opened at once.
    case serverShutdown(atMs: Int64?)
}

/// A Binance connection's session as a state machine without I/O: whether it is logged on, what to restore on a new
/// connection, and in which order (`session.logon` first; `userDataStream.subscribe` only once the logon succeeded;
/// `userDataStream.subscribe.signature` needs no logon). Loop-confined (owned by `BinanceClient`).
struct BinanceSession {
    enum Stream: Equatable {
        /// `userDataStream.subscribe` on an Ed25519 session.
        case logon
        /// `userDataStream.subscribe.signature` (any key type).
        case signature
    }

    /// The connection's session is logged on: signed requests may carry only their timestamp.
    private(set) var loggedOn = false
    /// To restore on a new connection.
    private(set) var wantsLogon = false
    private(set) var wantsStream: Stream?
    /// A subscription is active on this connection, or its request is in flight.
    private(set) var streamActive = false
    private var subscribePending = false

    /// A new connection: nothing is logged on or subscribed on it. What to send first: the logon, and a signature
    /// subscription. The logon's subscribe waits for the logon's answer.
    mutating func connectionOpened(restoring: Bool) -> [BinanceRequest] {
        loggedOn = false
        streamActive = false
        subscribePending = false
        guard restoring else { return [] }
        var out: [BinanceRequest] = []
        if wantsLogon { out.append(.sessionLogon) }
        if wantsStream == .signature { out.append(.userDataStreamSubscribeSignature); subscribePending = true }
        return out
    }

    mutating func connectionClosed() {
        loggedOn = false
        streamActive = false
        subscribePending = false
    }

    /// A request is about to go out (the caller's own subscribe counts as pending too).
    mutating func sending(_ r: BinanceRequest) {
        switch r {
        case .userDataStreamSubscribe, .userDataStreamSubscribeSignature: subscribePending = true
        default: break
        }
    }

    /// A session request was answered (`ok`: status 200). Returns what to send next and the event to raise.
    mutating func answered(_ r: BinanceRequest, ok: Bool, error: TradeWireError?, subscriptionID: Int64?)
        -> (next: [BinanceRequest], event: BinanceSessionEvent?) {
        switch r {
        case .sessionLogon:
            guard ok else { return ([], .logonFailed(error ?? TradeWireError(code: .venueRejected, detail: "session.logon failed"))) }
            loggedOn = true
            wantsLogon = true
            // Restoring an Ed25519 stream: subscribe now that the logon succeeded, not before.
            if wantsStream == .logon && !streamActive && !subscribePending {
                subscribePending = true
                return ([.userDataStreamSubscribe], .loggedOn)
            }
            return ([], .loggedOn)
        case .userDataStreamSubscribe, .userDataStreamSubscribeSignature:
            subscribePending = false
            guard ok else { return ([], nil) }
            streamActive = true
            if case .userDataStreamSubscribe = r { wantsStream = .logon } else { wantsStream = .signature }
            return ([], .userDataStreamSubscribed(subscriptionID: subscriptionID))
        case .userDataStreamUnsubscribe(let id):
            if ok && id == nil { streamActive = false; wantsStream = nil }
            return ([], nil)
        default:
            return ([], nil)
        }
    }

    /// The venue revoked the session (401, -2015, id null). Nothing is restored by itself afterwards: the key failed.
    mutating func revoked(code: Int, message: String) -> BinanceSessionEvent {
        loggedOn = false
        wantsLogon = false
        if wantsStream == .logon { wantsStream = nil; streamActive = false }
        return .revoked(code: code, message: message)
    }

    /// `eventStreamTerminated`: the subscription is gone (after `session.logout` or `userDataStream.unsubscribe`).
    mutating func streamTerminated(subscriptionID: Int64?) -> BinanceSessionEvent {
        streamActive = false
        return .userDataStreamTerminated(subscriptionID: subscriptionID)
    }
}
