internal import CTradeWire

/// A venue key prepared once for signing many requests (`Signing` signs one-off): HMAC-SHA256 keeps the hash
/// states after the key's pads, so a signature costs two SHA-256 passes over the message and nothing else (no key
/// setup, no allocation); Ed25519 and RSA keep the parsed private key (no PEM parse per request). Signatures are
/// the same bytes `Signing` makes. Not thread-safe: a client signs on its loop.
public final class RequestSigner {
    public enum Algorithm: Sendable { case hmacSHA256Hex, privateKeyBase64 }
    public let algorithm: Algorithm
    private let signer: OpaquePointer
    /// Room for any signature (RSA-8192 in base64); allocated once the key is good (a failed init runs no deinit).
    private let out: UnsafeMutablePointer<CChar>

    /// HMAC-SHA256 with `secret` as its key (Binance HMAC keys): hex signatures.
    public init(hmacSHA256 secret: String) throws(TradeWireError) {
        guard let s = Array(secret.utf8).withUnsafeBytes({ tw_signer_hmac_sha256($0.baseAddress, $0.count) }) else {
            throw TradeWireError(code: .noSpace, detail: "HMAC signer: out of memory")
        }
        signer = s
        algorithm = .hmacSHA256Hex
        out = .allocate(capacity: 1400)
    }

    /// An Ed25519 or RSA private key as PEM (Ed25519: also its 32 raw seed bytes): base64 signatures.
    public init(privateKeyPEM pem: String) throws(TradeWireError) {
        guard let s = Array(pem.utf8).withUnsafeBytes({ b in tw_signer_private_key(b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count) }) else {
            throw TradeWireError(code: .invalidArgument, detail: "not an Ed25519 or RSA private key in PEM")
        }
        signer = s
        algorithm = .privateKeyBase64
        out = .allocate(capacity: 1400)
    }

    deinit {
        tw_signer_free(signer)
        out.deallocate()
    }

    /// Sign `message`; `body` sees the signature's ASCII bytes (lent: valid during the call).
    public func sign<R>(_ message: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let n = tw_signer_sign(signer, message.baseAddress, message.count, out, 1400)
        guard n > 0 else { throw TradeWireError(cCode: n, detail: "signing") }
        return try body(UnsafeRawBufferPointer(start: out, count: Int(n)))
    }

    /// Sign `message` into a `String` (off the zero-allocation path).
    public func sign(_ message: String) throws -> String {
        var m = message
        return try m.withUTF8 { b in try sign(UnsafeRawBufferPointer(b)) { String(decoding: $0, as: UTF8.self) } }
    }
}
