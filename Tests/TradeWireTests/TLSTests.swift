import Testing
@testable import TradeWire

/// Certificates made at test time with OpenSSL; the peer is Python's ssl + websockets.
@Suite("TLS verification", .serialized)
struct TLSTests {
    static let dir = try! TempDir()

    @Test(arguments: allBackends)
    func trustedCAAndMatchingNameConnects(_ backend: Backend) throws {
        let cert = try GeneratedCertificate.generate(in: Self.dir.path, prefix: "good-\(backend)")
        let p = try PythonPeer(cert: cert.certificateFile, key: cert.privateKeyFile)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown() }
        for host in ["127.0.0.1", "localhost"] {
            let client = TestClient()
            client.onOpen = { c in _ = try? c.send(text: "tls") }
            _ = try loop.connect("wss://\(host):\(p.wsPort)/echo",
                                 tls: TLSConfiguration(additionalTrust: [.caFile(cert.caFile)]), client: client)
            #expect(client.waitMessages(1), "\(host)")
            #expect(client.messages.first?.text == "tls")
        }
    }

    @Test func caGivenAsPEMText() throws {
        let cert = try GeneratedCertificate.generate(in: Self.dir.path, prefix: "pem")
        let p = try PythonPeer(cert: cert.certificateFile, key: cert.privateKeyFile)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let pem = try String(contentsOfFile: cert.caFile, encoding: .utf8)
        let (_, client) = try loop.connect("wss://127.0.0.1:\(p.wsPort)/echo", tls: TLSConfiguration(additionalTrust: [.caPEM(pem)]))
        #expect(client.waitOpen())
    }

    @Test func untrustedCAIsRefused() throws {
        let cert = try GeneratedCertificate.generate(in: Self.dir.path, prefix: "untrusted")
        let p = try PythonPeer(cert: cert.certificateFile, key: cert.privateKeyFile)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let (_, client) = try loop.connect("wss://127.0.0.1:\(p.wsPort)/echo")   // system store only
        let close = client.waitClose()
        #expect(close?.error?.code == .tlsVerification)
        #expect(close?.error?.detail.contains("unable to get local issuer certificate") == true, "\(String(describing: close?.error))")
        #expect(client.isOpen == false)
    }

    @Test func wrongHostNameIsRefused() throws {
        let cert = try GeneratedCertificate.generate(in: Self.dir.path, prefix: "wrongname", dnsName: "venue.example", ip: nil)
        let p = try PythonPeer(cert: cert.certificateFile, key: cert.privateKeyFile)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        var tls = TLSConfiguration(additionalTrust: [.caFile(cert.caFile)])
        // By IP (no IP SAN) and by a name the certificate does not hold.
        for name in [nil, "other.example"] as [String?] {
            tls.serverName = name
            let (_, client) = try loop.connect("wss://127.0.0.1:\(p.wsPort)/echo", tls: tls)
            let close = client.waitClose()
            #expect(close?.error?.code == .tlsVerification, "\(String(describing: name))")
            #expect(close?.error?.detail.contains("mismatch") == true, "\(String(describing: close?.error))")
        }
        // The right name passes, through SNI and the host check.
        tls.serverName = "venue.example"
        let (_, ok) = try loop.connect("wss://127.0.0.1:\(p.wsPort)/echo", tls: tls)
        #expect(ok.waitOpen())
    }

    @Test func expiredCertificateIsRefused() throws {
        let cert = try GeneratedCertificate.generate(in: Self.dir.path, prefix: "expired", notBefore: -86_400 * 10, notAfter: -86_400)
        let p = try PythonPeer(cert: cert.certificateFile, key: cert.privateKeyFile)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let (_, client) = try loop.connect("wss://127.0.0.1:\(p.wsPort)/echo", tls: TLSConfiguration(additionalTrust: [.caFile(cert.caFile)]))
        let close = client.waitClose()
        #expect(close?.error?.code == .tlsVerification)
        #expect(close?.error?.detail.contains("expired") == true, "\(String(describing: close?.error))")
    }

    @Test func insecureMustBeNamedAndThenConnectsToAnything() throws {
        #expect(TLSConfiguration.default.verifiesPeer)
        #expect(TLSConfiguration().verifiesPeer)
        let cert = try GeneratedCertificate.generate(in: Self.dir.path, prefix: "insecure", notBefore: -86_400 * 10, notAfter: -86_400)
        let p = try PythonPeer(cert: cert.certificateFile, key: cert.privateKeyFile)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let (_, client) = try loop.connect("wss://127.0.0.1:\(p.wsPort)/echo", tls: .insecureNoVerification())
        #expect(client.waitOpen())
    }
}
