internal import CTradeWire

/// Certificates made at run time with OpenSSL: a fresh CA and a server
/// certificate signed by it. For tests, the demo and the simulator's wss://.
public struct GeneratedCertificate: Sendable {
    /// The CA certificate (PEM) clients should trust.
    public let caFile: String
    /// The server certificate (PEM).
    public let certificateFile: String
    /// The server's private key (PEM).
    public let privateKeyFile: String

    /// Make a CA and a certificate for `dnsName` and/or `ip`, valid from
    /// `notBefore` to `notAfter` seconds relative to now (negative: the past,
    /// for an expired certificate). Files go to `directory` with `prefix`.
    public static func generate(in directory: String, prefix: String = "server",
                                dnsName: String? = "localhost", ip: String? = "127.0.0.1",
                                notBefore: Int = -3600, notAfter: Int = 86_400 * 30) throws -> GeneratedCertificate {
        let c = GeneratedCertificate(caFile: "\(directory)/\(prefix)-ca.pem",
                                     certificateFile: "\(directory)/\(prefix)-cert.pem",
                                     privateKeyFile: "\(directory)/\(prefix)-key.pem")
        var err = [CChar](repeating: 0, count: 256)
        let r = tw_cert_generate(c.caFile, c.certificateFile, c.privateKeyFile, dnsName, ip,
                                 notBefore, notAfter, &err, err.count)
        if r != 0 {
            throw TradeWireError(cCode: r, detail: String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return c
    }
}
