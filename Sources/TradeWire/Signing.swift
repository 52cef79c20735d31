internal import CTradeWire

/// Request signatures venues ask for, computed by OpenSSL.
public enum Signing {
    /// Binance HMAC keys: hex(HMAC-SHA256(secret, payload)).
    public static func hmacSHA256Hex(key: String, message: String) throws -> String {
        var out = [CChar](repeating: 0, count: 65)
        let r = Array(key.utf8).withUnsafeBytes { k in
            Array(message.utf8).withUnsafeBytes { m in tw_hmac_sha256_hex(k.baseAddress, k.count, m.baseAddress, m.count, &out, 64) }
        }
        if r != 64 { throw TradeWireError(cCode: r, detail: "HMAC-SHA256") }
        return String(decoding: out.prefix(64).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Kraken REST (`API-Sign`): base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + postdata))).
    public static func krakenSignature(secretBase64: String, path: String, nonce: String, postData: String) throws -> String {
        let secret = Array(secretBase64.utf8)
        var key = [UInt8](repeating: 0, count: secret.count)
        let kn = secret.withUnsafeBufferPointer { s in
            s.withMemoryRebound(to: CChar.self) { tw_base64_decode($0.baseAddress, $0.count, &key, key.count) }
        }
        if kn < 0 { throw TradeWireError(code: .invalidArgument, detail: "the API secret is not base64") }
        var sha = [UInt8](repeating: 0, count: 32)
        let inner = Array((nonce + postData).utf8)
        _ = inner.withUnsafeBytes { tw_sha256($0.baseAddress, $0.count, &sha, 32) }
        let msg = Array(path.utf8) + sha
        var mac = [UInt8](repeating: 0, count: 64)
        _ = msg.withUnsafeBytes { m in key.withUnsafeBytes { k in tw_hmac_sha512(k.baseAddress, Int(kn), m.baseAddress, m.count, &mac, 64) } }
        var out = [CChar](repeating: 0, count: 89)
        let n = mac.withUnsafeBytes { tw_base64_encode($0.baseAddress, 64, &out, out.count) }
        return String(decoding: out.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Binance Ed25519 keys: base64(Ed25519(private key, payload)); the key as PEM (PKCS#8).
    public static func ed25519Base64(privateKeyPEM: String, message: String) throws -> String {
        try signature(tw_ed25519_sign_base64, key: privateKeyPEM, message: message, capacity: 90,
                      what: "Ed25519 signing (is the key an Ed25519 PEM?)")
    }

    /// Binance RSA keys: base64(RSASSA-PKCS1-v1_5(SHA-256, payload)); the key as PEM.
    public static func rsaSHA256Base64(privateKeyPEM: String, message: String) throws -> String {
        try signature(tw_rsa_sha256_sign_base64, key: privateKeyPEM, message: message, capacity: 1400,
                      what: "RSA signing (is the key an RSA private key PEM?)")
    }

    /// Check an RSA PKCS#1 v1.5 SHA-256 base64 signature with a public key PEM.
    public static func rsaSHA256Verify(publicKeyPEM: String, message: String, signatureBase64: String) -> Bool {
        verify(tw_rsa_sha256_verify_base64, publicKeyPEM: publicKeyPEM, message: message, signatureBase64: signatureBase64)
    }

    /// Check an Ed25519 base64 signature with a public key PEM.
    public static func ed25519Verify(publicKeyPEM: String, message: String, signatureBase64: String) -> Bool {
        verify(tw_ed25519_verify_base64, publicKeyPEM: publicKeyPEM, message: message, signatureBase64: signatureBase64)
    }

    /// The C core's contract for a signature in base64: (key, message) → bytes written, or < 0.
    private typealias SignBase64 = (UnsafePointer<CChar>?, Int, UnsafeRawPointer?, Int, UnsafeMutablePointer<CChar>?, Int) -> Int32
    /// (public key, message, base64 signature) → 1 valid, 0 invalid, < 0 error.
    private typealias VerifyBase64 = (UnsafePointer<CChar>?, Int, UnsafeRawPointer?, Int, UnsafePointer<CChar>?, Int) -> Int32

    private static func signature(_ sign: SignBase64, key: String, message: String, capacity: Int, what: String) throws -> String {
        var out = [CChar](repeating: 0, count: capacity)
        let r = Array(key.utf8).withUnsafeBytes { k in
            Array(message.utf8).withUnsafeBytes { m in
                sign(k.baseAddress!.assumingMemoryBound(to: CChar.self), k.count, m.baseAddress, m.count, &out, out.count)
            }
        }
        if r < 0 { throw TradeWireError(cCode: r, detail: what) }
        return String(decoding: out.prefix(Int(r)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func verify(_ check: VerifyBase64, publicKeyPEM: String, message: String, signatureBase64: String) -> Bool {
        Array(publicKeyPEM.utf8).withUnsafeBytes { p in
            Array(message.utf8).withUnsafeBytes { m in
                Array(signatureBase64.utf8).withUnsafeBytes { s in
                    check(p.baseAddress!.assumingMemoryBound(to: CChar.self), p.count, m.baseAddress, m.count,
                          s.baseAddress!.assumingMemoryBound(to: CChar.self), s.count) == 1
                }
            }
        }
    }

    /// A fresh Ed25519 key pair as PEM (private, public).
    public static func ed25519KeyPair() throws -> (privateKeyPEM: String, publicKeyPEM: String) {
        var a = [CChar](repeating: 0, count: 512), b = [CChar](repeating: 0, count: 512)
        let r = tw_ed25519_generate(&a, a.count, &b, b.count)
        if r != 0 { throw TradeWireError(cCode: r, detail: "Ed25519 key generation") }
        func text(_ c: [CChar]) -> String { String(decoding: c.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        return (text(a), text(b))
    }
}
