import CMallocCounter
import Foundation
import Testing
@testable import TradeWire

/// The test vectors of protocols.md (§1.3 Kraken, §2.3 Binance), recomputed through OpenSSL.
@Suite("Signing test vectors")
struct SigningTests {
    @Test func binanceHMACSHA256() throws {
        let payload = "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        let sig = try Signing.hmacSHA256Hex(key: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j", message: payload)
        #expect(sig == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24")
    }

    @Test func krakenDocsExample() throws {
        let sig = try Signing.krakenSignature(
            secretBase64: "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
            path: "/0/private/AddOrder", nonce: "1616492376594",
            postData: "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25")
        #expect(sig == "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==")
    }

    @Test func krakenSDKExample() throws {
        // 32 bytes of 0x01, base64.
        let sig = try Signing.krakenSignature(
            secretBase64: "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", path: "/0/private/Balance",
            nonce: "1700000000000000000", postData: "nonce=1700000000000000000")
        #expect(sig == "6i7+cpXVLDDnDOekgsRcgFQhkYFyPDSSxhSVA8OrA6vjziXcy2K1DP3n7f9B/Kgni71WjBSQusZKxduRsdF20Q==")
    }

    @Test func ed25519SignsAndVerifies() throws {
        let (priv, pub) = try Signing.ed25519KeyPair()
        let payload = "apiKey=k&timestamp=1649729878532"
        let sig = try Signing.ed25519Base64(privateKeyPEM: priv, message: payload)
        #expect(sig.count == 88)
        #expect(Signing.ed25519Verify(publicKeyPEM: pub, message: payload, signatureBase64: sig))
        #expect(!Signing.ed25519Verify(publicKeyPEM: pub, message: payload + "x", signatureBase64: sig))
        #expect(throws: TradeWireError.self) { _ = try Signing.ed25519Base64(privateKeyPEM: "not a key", message: "x") }
    }

    /// A key prepared once signs as the one-off functions do: RFC 4231's vectors (a key longer than the block is
    /// hashed first), the Binance vector, Ed25519 and RSA keys; and an HMAC signature allocates nothing.
    @Test func preparedSignersMatchTheOneOffSignatures() throws {
        #expect(try RequestSigner(hmacSHA256: "Jefe").sign("what do ya want for nothing?")
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")              // RFC 4231 case 2
        let binanceKey = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
        let payload = "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        #expect(try RequestSigner(hmacSHA256: binanceKey).sign(payload) == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24")
        let long = String(repeating: "k", count: 100)                                                 // over SHA-256's 64-byte block
        #expect(try RequestSigner(hmacSHA256: long).sign(payload) == (try Signing.hmacSHA256Hex(key: long, message: payload)))
        let (priv, pub) = try Signing.ed25519KeyPair()
        let ed = try RequestSigner(privateKeyPEM: priv).sign(payload)
        #expect(ed == (try Signing.ed25519Base64(privateKeyPEM: priv, message: payload)))               // Ed25519 is deterministic
        #expect(Signing.ed25519Verify(publicKeyPEM: pub, message: payload, signatureBase64: ed))
        #expect(throws: TradeWireError.self) { _ = try RequestSigner(privateKeyPEM: "not a key") }
    }

    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"))
    func aPreparedHMACSignatureAllocatesNothing() throws {
        let signer = try RequestSigner(hmacSHA256: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j")
        let payload = Array("apiKey=k&price=52000.00&quantity=0.01000000&side=SELL&symbol=BTCUSDT&timestamp=1645423376532&type=LIMIT".utf8)
        var allocations: UInt64 = 0
        var first: UInt8 = 0
        try payload.withUnsafeBytes { m in
            for i in 0..<1000 {
                let before = tw_test_thread_allocations()
                try signer.sign(m) { sig in first = sig[0] }
                if i > 0 { allocations += tw_test_thread_allocations() - before }
            }
        }
        #expect(allocations == 0)
        #expect(first != 0)
    }
}
