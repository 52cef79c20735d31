/// A parsed `ws://` or `wss://` URL: host, port, and the request target (path and query).
public struct WebSocketURL: Sendable, Hashable, CustomStringConvertible {
    public var secure: Bool
    public var host: String
    public var port: UInt16
    /// Path and query, e.g. `/v2?token=x`; always starts with `/`.
    public var target: String

    public init(secure: Bool, host: String, port: UInt16? = nil, target: String = "/") {
        self.secure = secure
        self.host = host
        self.port = port ?? (secure ? 443 : 80)
        self.target = target.isEmpty ? "/" : target
    }

    /// Parse `ws[s]://host[:port][/path][?query]`; IPv6 hosts in brackets.
    public init(_ string: String) throws {
        let s = Substring(string)
        let secure: Bool
        var rest: Substring
        if s.lowercased().hasPrefix("wss://") {
            secure = true
            rest = s.dropFirst(6)
        } else if s.lowercased().hasPrefix("ws://") {
            secure = false
            rest = s.dropFirst(5)
        } else {
            throw TradeWireError.invalidURL(string)
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.hasPrefix("?") { target = "/" + target }
        if authority.contains("@") { throw TradeWireError.invalidURL(string) }
        var host: Substring
        var portText: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw TradeWireError.invalidURL(string) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw TradeWireError.invalidURL(string) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw TradeWireError.invalidURL(string) }
        var port: UInt16? = nil
        if let portText {
            guard let p = UInt16(portText), p > 0 else { throw TradeWireError.invalidURL(string) }
            port = p
        }
        if target.contains(" ") || target.contains("\r") || target.contains("\n") { throw TradeWireError.invalidURL(string) }
        self.init(secure: secure, host: String(host), port: port, target: target)
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(secure ? "wss" : "ws")://\(h):\(port)\(target)"
    }
}
