import TradeWire

/// Binance's WebSocket API answers in SBE (a connection opened with `responseFormat=sbe&sbeSchemaId=3&
/// sbeSchemaVersion=5`; schema `spot_sbe` 3:5, `sbe/schemas/spot_3_5.xml`; summary in docs/venues-binance.md),
/// read in place from binary frames into the same `BinanceResponse` the JSON path gives.
///
/// Every answer is a `WebSocketResponse` (template 50): `status`, the `rateLimits` group, `id` (a string), and
/// `result`: a whole nested message with its own header. Decoded here: `order.place` (ACK 300, RESULT 301,
/// FULL 302), `order.cancel` (305), `order.cancelReplace` (307, or an error whose `data` holds it), `order.status`
/// (304), `openOrders.status` (308), the user data stream's subscription by signature and its end (503, 504; its
/// events: `BinanceSBEUserEvents`), `ping` (101) and errors (`ErrorResponse` 100): what orders, their fills and
/// their reconciliation need. Another result is kept as bytes (`resultSBE`) with its status; `BinanceClient`
/// refuses, before sending, the requests whose SBE answers it does not read. Blocks and entries are skipped by the
/// lengths the message declares (a later version may append fields); optional fields read their null (INT64_MIN) as
/// nil; a cut or inconsistent frame is a `.malformedResponse` error.
public enum BinanceSBEAnswers {
    public static let schemaId: UInt16 = 3
    public static let schemaVersion: UInt16 = 5
    /// The query a WS API URL carries to be answered in SBE.
    public static let urlQuery = "responseFormat=sbe&sbeSchemaId=3&sbeSchemaVersion=5"

    public enum Template: UInt16, Sendable {
        case webSocketResponse = 50, error = 100, ping = 101
        case newOrderAck = 300, newOrderResult = 301, newOrderFull = 302, order = 304, cancelOrder = 305, cancelReplace = 307
        case orders = 308
        case userDataStreamSubscribe = 503, userDataStreamUnsubscribe = 504
        case nonRepresentable = 999
    }

    static let null64 = Int64.min

    /// Whether this version reads the SBE answer to `request` (the client refuses the others on an SBE connection).
    public static func readsAnswer(to request: BinanceRequest) -> Bool {
        switch request {
        case .orderPlace, .orderCancel, .orderCancelReplace, .orderStatus, .openOrdersStatus, .ping, .userDataStreamSubscribeSignature,
             .userDataStreamUnsubscribe: true
        default: false
        }
    }

    /// Decode one binary frame: a `WebSocketResponse`.
    public static func decode(_ frame: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceResponse {
        var recycler = ByteRecycler(slots: 1)
        return try decode(frame, recycling: &recycler)
    }

    /// One frame, its result kept in `recycler`'s storage (a client's: no allocation per answer).
    public static func decode(_ frame: UnsafeRawBufferPointer, recycling recycler: inout ByteRecycler) throws(TradeWireError) -> BinanceResponse {
        var r = try reader(frame, minimumBlockLength: 3)
        guard r.header.templateId == Template.webSocketResponse.rawValue else {
            throw malformed("template \(r.header.templateId) where a WebSocketResponse (50) was expected")
        }
        let status = Int(r.root(1, as: UInt16.self))
        let (entryLength, count) = try r.groupDimension(countWidth: 2, minimumEntryLength: 19)
        var limits = RateLimitUsage()
        if count > 0 {
            for _ in 0..<count {
                let at = try r.entryBlock(length: entryLength)
                let type = r.field(at, as: UInt8.self), interval = r.field(at + 1, as: UInt8.self)
                let num = Int64(r.field(at + 2, as: UInt8.self))
                let count = Int(r.field(at + 11, as: Int64.self)), limit = Int(r.field(at + 3, as: Int64.self))
                if let known = knownWindow(type: type, interval: interval, num: num) {
                    limits.append(knownWindow: known, count: count, limit: limit)
                } else {
                    limits.append((window(type: type, interval: interval, num: num), count, limit))
                }
            }
        }
        let id = String(decoding: try r.varData8(), as: UTF8.self)
        let result = try r.varData32()
        return try answer(id: id, status: status, limits: limits, result: result, recycling: &recycler)
    }

    /// The envelope's fields and its nested result, as a `BinanceResponse`.
    static func answer(id: String, status: Int, limits: RateLimitUsage, result: UnsafeRawBufferPointer,
                       recycling recycler: inout ByteRecycler) throws(TradeWireError) -> BinanceResponse {
        var m = try reader(result, minimumBlockLength: 0)
        var orderID: Int64?, clientOrderID: String?, origClientOrderID: String?, orderStatus: String?, executedQty: FixedDecimal?
        var code: Int?, message: String?, retryAfterMs: Int64?, serverTimeMs: Int64?, subscriptionID: Int64?, errorData: [UInt8]?
        switch Template(rawValue: m.header.templateId) {
        case .error?:
            guard m.header.blockLength >= 18 else { throw tooShort(m.header) }
            code = Int(m.root(0, as: Int16.self))
            serverTimeMs = optional(m.root(2, as: Int64.self)).map { $0 / 1000 }
            retryAfterMs = optional(m.root(10, as: Int64.self)).map { $0 / 1000 }
            message = String(decoding: try m.varData16(), as: UTF8.self)
            let data = try m.varData32()
            if !data.isEmpty { errorData = Array(data) }
        case .newOrderAck?:
            guard m.header.blockLength >= 24 else { throw tooShort(m.header) }
            orderID = m.root(0, as: Int64.self)
            _ = try m.varData8()                                        // symbol
            clientOrderID = String(decoding: try m.varData8(), as: UTF8.self)
        case .newOrderResult?, .newOrderFull?, .cancelOrder?:
            let t = m.header.templateId
            guard m.header.blockLength >= (t == Template.cancelOrder.rawValue ? 126 : 142) else { throw tooShort(m.header) }
            orderID = m.root(2, as: Int64.self)
            orderStatus = Self.orderStatus(m.root(58, as: UInt8.self))
            executedQty = decimal(m.root(42, as: Int64.self), exponent: m.root(1, as: Int8.self))
            if t == Template.newOrderFull.rawValue { try skipFillsAndPreventedMatches(&m) }
            _ = try m.varData8()                                        // symbol
            if t == Template.cancelOrder.rawValue {
                origClientOrderID = String(decoding: try m.varData8(), as: UTF8.self)
            }
            clientOrderID = String(decoding: try m.varData8(), as: UTF8.self)
        case .order?:
            guard m.header.blockLength >= StatusBlock.minimum else { throw tooShort(m.header) }
            orderID = m.root(2, as: Int64.self)
            orderStatus = Self.orderStatus(m.root(50, as: UInt8.self))
            executedQty = decimal(m.root(34, as: Int64.self), exponent: m.root(1, as: Int8.self))
            _ = try m.varData8()                                        // symbol
            clientOrderID = String(decoding: try m.varData8(), as: UTF8.self)
        case .userDataStreamSubscribe?:
            subscriptionID = BinanceSBEUserEvents.subscriptionID(m, at: 0)
        case .orders?, .cancelReplace?, .ping?, .userDataStreamUnsubscribe?, .webSocketResponse?, .nonRepresentable?, nil:
            break
        }
        if status != 200 && code == nil && status < 500 { throw malformed("status \(status) without an ErrorResponse") }
        return BinanceResponse(
            id: id, status: status, result: status == 200 ? recycler.keep(result) : nil, resultFormat: .sbe, orderID: orderID,
            clientOrderID: clientOrderID, origClientOrderID: origClientOrderID, orderStatus: orderStatus, executedQty: executedQty,
            subscriptionID: subscriptionID, errorCode: code, errorMessage: message, retryAfterMs: retryAfterMs,
            serverTimeMs: serverTimeMs, rateLimits: limits, errorDataSBE: errorData)
    }

    // MARK: typed results

    /// An `order.place` (300/301/302) or `order.cancel` (305) result as the JSON path's report.
    static func orderReport(_ result: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceOrderReport {
        var m = try reader(result, minimumBlockLength: 0)
        switch Template(rawValue: m.header.templateId) {
        case .newOrderAck?:
            guard m.header.blockLength >= 24 else { throw tooShort(m.header) }
            let symbol = String(decoding: try m.varData8(), as: UTF8.self)
            let cl = String(decoding: try m.varData8(), as: UTF8.self)
            return BinanceOrderReport(
                symbol: symbol, orderID: m.root(0, as: Int64.self), orderListID: optional(m.root(8, as: Int64.self)) ?? -1,
                clientOrderID: cl, origClientOrderID: nil, transactTime: m.root(16, as: Int64.self) / 1000, price: nil, origQty: nil,
                executedQty: nil, origQuoteOrderQty: nil, cummulativeQuoteQty: nil, status: nil, timeInForce: nil, type: nil,
                side: nil, stopPrice: nil, icebergQty: nil, trailingDelta: nil, trailingTime: nil, strategyID: nil,
                strategyType: nil, selfTradePreventionMode: nil, workingTime: nil, time: nil, updateTime: nil, isWorking: nil,
                preventedMatchID: nil, preventedQuantity: nil, pegPriceType: nil, pegOffsetType: nil, pegOffsetValue: nil,
                peggedPrice: nil, fills: [])
        case .newOrderResult?, .newOrderFull?, .cancelOrder?:
            let cancel = m.header.templateId == Template.cancelOrder.rawValue
            guard m.header.blockLength >= (cancel ? 126 : 142) else { throw tooShort(m.header) }
            let pe = m.root(0, as: Int8.self), qe = m.root(1, as: Int8.self)
            func price(_ at: Int) -> FixedDecimal? { decimal(m.root(at, as: Int64.self), exponent: pe) }
            func qty(_ at: Int) -> FixedDecimal? { decimal(m.root(at, as: Int64.self), exponent: qe) }
            var fills: [BinanceOrderReport.Fill] = []
            if m.header.templateId == Template.newOrderFull.rawValue {
                let (length, count) = try m.groupDimension(countWidth: 4, minimumEntryLength: 42)
                for _ in 0..<count {
                    let at = try m.entryBlock(length: length)
                    let asset = try m.varData8()
                    guard let p = decimal(m.field(at + 2, as: Int64.self), exponent: pe),
                          let q = decimal(m.field(at + 10, as: Int64.self), exponent: qe) else { throw malformed("a fill without price/qty") }
                    fills.append(.init(price: p, qty: q,
                                       commission: decimal(m.field(at + 18, as: Int64.self), exponent: m.field(at, as: Int8.self)) ?? .zero,
                                       commissionAsset: asset.isEmpty ? nil : String(decoding: asset, as: UTF8.self),
                                       tradeID: optional(m.field(at + 26, as: Int64.self))))
                }
                try skipGroup(&m, minimumEntryLength: 40)              // preventedMatches
            }
            let symbol = String(decoding: try m.varData8(), as: UTF8.self)
            let orig = cancel ? String(decoding: try m.varData8(), as: UTF8.self) : nil
            let cl = String(decoding: try m.varData8(), as: UTF8.self)
            // 301/302 carry `workingTime` (root 86) and `tradeGroupId` where 305 does not: the later offsets differ.
            let icebergAt = cancel ? 86 : 94, strategyIDAt = cancel ? 94 : 102, strategyTypeAt = cancel ? 102 : 110
            let stpAt = cancel ? 108 : 116, preventedAt = cancel ? 109 : 125, quoteAt = cancel ? 118 : 134
            let strategyType = m.root(strategyTypeAt, as: Int32.self)
            return BinanceOrderReport(
                symbol: symbol, orderID: m.root(2, as: Int64.self), orderListID: optional(m.root(10, as: Int64.self)) ?? -1,
                clientOrderID: cl, origClientOrderID: orig, transactTime: m.root(18, as: Int64.self) / 1000, price: price(26),
                origQty: qty(34), executedQty: qty(42), origQuoteOrderQty: price(quoteAt), cummulativeQuoteQty: price(50),
                status: orderStatus(m.root(58, as: UInt8.self)).map(BinanceOrderStatus.init(rawValue:)),
                timeInForce: timeInForce(m.root(59, as: UInt8.self)), type: orderType(m.root(60, as: UInt8.self)),
                side: m.root(61, as: UInt8.self) == 0 ? .buy : m.root(61, as: UInt8.self) == 1 ? .sell : nil,
                stopPrice: price(62), icebergQty: qty(icebergAt), trailingDelta: optional(m.root(70, as: Int64.self)),
                trailingTime: optional(m.root(78, as: Int64.self)), strategyID: optional(m.root(strategyIDAt, as: Int64.self)),
                strategyType: strategyType == Int32.min ? nil : Int64(strategyType),
                selfTradePreventionMode: selfTradePreventionMode(m.root(stpAt, as: UInt8.self)),
                workingTime: cancel ? nil : optional(m.root(86, as: Int64.self)).map { $0 / 1000 }, time: nil, updateTime: nil,
                isWorking: nil, preventedMatchID: nil, preventedQuantity: qty(preventedAt), pegPriceType: nil, pegOffsetType: nil,
                pegOffsetValue: nil, peggedPrice: nil, fills: fills)
        case .order?:
            guard m.header.blockLength >= StatusBlock.minimum else { throw tooShort(m.header) }
            return try StatusBlock.report(&m, at: SBEHeader.size)
        default:
            throw malformed("result template \(m.header.templateId) is not an order")
        }
    }

    /// An `order.cancelReplace` result (307, the success's `result` or a failure's `data`): the legs' outcomes and
    /// each leg's answer (the cancel's with a uint16 length, the new order's with a uint32 one; empty: not attempted).
    static func cancelReplace(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceCancelReplaceResult {
        var m = try reader(bytes, minimumBlockLength: 2)
        guard m.header.templateId == Template.cancelReplace.rawValue else { throw malformed("template \(m.header.templateId) is not a cancel-replace") }
        func outcome(_ v: UInt8) throws(TradeWireError) -> BinanceCancelReplaceResult.Outcome {
            switch v {
            case 0: return .success
            case 1: return .failure
            case 2: return .notAttempted
            default: throw malformed("cancel-replace outcome \(v)")
            }
        }
        let c = try outcome(m.root(0, as: UInt8.self)), n = try outcome(m.root(1, as: UInt8.self))
        let cancel = try m.varData16(), new = try m.varData32()
        return BinanceCancelReplaceResult(cancelResult: c, newOrderResult: n, cancelResponse: cancel.isEmpty ? nil : try leg(cancel),
                                          newOrderResponse: new.isEmpty ? nil : try leg(new))
    }

    /// One leg of a cancel-replace: an order, or the venue's `ErrorResponse` for it.
    static func leg(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceCancelReplaceResult.Leg {
        var m = try reader(bytes, minimumBlockLength: 0)
        guard m.header.templateId == Template.error.rawValue else { return .order(try orderReport(bytes)) }
        guard m.header.blockLength >= 18 else { throw tooShort(m.header) }
        return .error(code: Int(m.root(0, as: Int16.self)), message: String(decoding: try m.varData16(), as: UTF8.self))
    }

    /// An `openOrders.status` result (308): every order, each read as `order.status` reads one.
    static func orderReports(_ result: UnsafeRawBufferPointer) throws(TradeWireError) -> [BinanceOrderReport] {
        var m = try reader(result, minimumBlockLength: 0)
        guard m.header.templateId == Template.orders.rawValue else { throw malformed("result template \(m.header.templateId) is not an order list") }
        let (length, count) = try m.groupDimension(countWidth: 4, minimumEntryLength: StatusBlock.minimum)
        var out: [BinanceOrderReport] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let at = try m.entryBlock(length: length)
            out.append(try StatusBlock.report(&m, at: at))
        }
        return out
    }

    /// The block `OrderResponse` (304) has as its root and `OrdersResponse` (308) as each entry, then the order's
    /// `symbol` and `clientOrderId`: offsets from the block's start.
    enum StatusBlock {
        /// Up to `usedSor` (version 0); the peg fields and `expiryReason` came later.
        static let minimum = 151

        static func report(_ m: inout SBEReader, at base: Int) throws(TradeWireError) -> BinanceOrderReport {
            let pe = m.field(base, as: Int8.self), qe = m.field(base + 1, as: Int8.self)
            func i64(_ off: Int) -> Int64 { m.field(base + off, as: Int64.self) }
            func price(_ off: Int) -> FixedDecimal? { decimal(i64(off), exponent: pe) }
            func qty(_ off: Int) -> FixedDecimal? { decimal(i64(off), exponent: qe) }
            func u8(_ off: Int) -> UInt8 { m.field(base + off, as: UInt8.self) }
            let strategyType = m.field(base + 127, as: Int32.self)
            let symbol = String(decoding: try m.varData8(), as: UTF8.self)
            let cl = String(decoding: try m.varData8(), as: UTF8.self)
            return BinanceOrderReport(
                symbol: symbol, orderID: i64(2), orderListID: optional(i64(10)) ?? -1, clientOrderID: cl, origClientOrderID: nil,
                transactTime: nil, price: price(18), origQty: qty(26), executedQty: qty(34), origQuoteOrderQty: price(111),
                cummulativeQuoteQty: price(42), status: orderStatus(u8(50)).map(BinanceOrderStatus.init(rawValue:)),
                timeInForce: timeInForce(u8(51)), type: orderType(u8(52)), side: u8(53) == 0 ? .buy : u8(53) == 1 ? .sell : nil,
                stopPrice: price(54), icebergQty: qty(78), trailingDelta: optional(i64(62)), trailingTime: optional(i64(70)),
                strategyID: optional(i64(119)), strategyType: strategyType == Int32.min ? nil : Int64(strategyType),
                selfTradePreventionMode: selfTradePreventionMode(u8(133)), workingTime: optional(i64(103)).map { $0 / 1000 },
                time: i64(86) / 1000, updateTime: i64(94) / 1000, isWorking: u8(102) == 1, preventedMatchID: optional(i64(134)),
                preventedQuantity: qty(142), pegPriceType: nil, pegOffsetType: nil, pegOffsetValue: nil, peggedPrice: nil, fills: [])
        }
    }

    // MARK: reading

    static func reader(_ bytes: UnsafeRawBufferPointer, minimumBlockLength: Int) throws(TradeWireError) -> SBEReader {
        let r = try SBEReader(bytes, minimumBlockLength: minimumBlockLength)
        guard r.header.schemaId == schemaId else {
            throw malformed("schema \(r.header.schemaId), not the WS API's schema \(schemaId)")
        }
        return r
    }

    /// A group of `groupSizeEncoding` whose entries each end with one `optionalVarString8` (fills, prevented matches).
    static func skipGroup(_ m: inout SBEReader, minimumEntryLength: Int) throws(TradeWireError) {
        let (length, count) = try m.groupDimension(countWidth: 4, minimumEntryLength: minimumEntryLength)
        for _ in 0..<count {
            _ = try m.entryBlock(length: length)
            _ = try m.varData8()
        }
    }

    static func skipFillsAndPreventedMatches(_ m: inout SBEReader) throws(TradeWireError) {
        try skipGroup(&m, minimumEntryLength: 42)
        try skipGroup(&m, minimumEntryLength: 40)
    }

    @inline(__always) static func optional(_ v: Int64) -> Int64? { v == null64 ? nil : v }

    /// mantissa × 10^exponent, exact; nil for the null mantissa or a value that does not fit.
    static func decimal(_ mantissa: Int64, exponent: Int8) -> FixedDecimal? {
        guard mantissa != null64 else { return nil }
        if exponent <= 0 { return FixedDecimal(mantissa: mantissa, scale: UInt8(-Int(exponent))) }
        var m = mantissa
        for _ in 0..<Int(exponent) {
            let (r, o) = m.multipliedReportingOverflow(by: 10)
            if o { return nil }
            m = r
        }
        return FixedDecimal(mantissa: m, scale: 0)
    }

    /// The schema's enums, as the JSON answers spell them.
    static func orderStatus(_ v: UInt8) -> String? {
        switch v {
        case 0: "NEW"
        case 1: "PARTIALLY_FILLED"
        case 2: "FILLED"
        case 3: "CANCELED"
        case 4: "PENDING_CANCEL"
        case 5: "REJECTED"
        case 6: "EXPIRED"
        case 9: "EXPIRED_IN_MATCH"
        case 11: "PENDING_NEW"
        default: nil
        }
    }

    static func timeInForce(_ v: UInt8) -> String? { v == 0 ? "GTC" : v == 1 ? "IOC" : v == 2 ? "FOK" : nil }

    static func orderType(_ v: UInt8) -> String? {
        switch v {
        case 0: "MARKET"
        case 1: "LIMIT"
        case 2: "STOP_LOSS"
        case 3: "STOP_LOSS_LIMIT"
        case 4: "TAKE_PROFIT"
        case 5: "TAKE_PROFIT_LIMIT"
        case 6: "LIMIT_MAKER"
        default: nil
        }
    }

    static func selfTradePreventionMode(_ v: UInt8) -> String? {
        switch v {
        case 1: "NONE"
        case 2: "EXPIRE_TAKER"
        case 3: "EXPIRE_MAKER"
        case 4: "EXPIRE_BOTH"
        case 5: "DECREMENT"
        case 6: "TRANSFER"
        default: nil
        }
    }

    /// A documented `rateLimits` window by its enum values: its index in `RateLimitUsage.knownWindows`.
    static func knownWindow(type: UInt8, interval: UInt8, num: Int64) -> Int? {
        switch (type, interval, num) {
        case (2, 1, 1): 0           // REQUEST_WEIGHT/MINUTE/1
        case (3, 0, 10): 1          // ORDERS/SECOND/10
        case (3, 3, 1): 2           // ORDERS/DAY/1
        case (0, 1, 5): 3           // RAW_REQUESTS/MINUTE/5
        default: nil
        }
    }

    /// A `rateLimits` entry's window as the JSON path keys it ("ORDERS/SECOND/10").
    static func window(type: UInt8, interval: UInt8, num: Int64) -> String {
        if let known = knownWindow(type: type, interval: interval, num: num) { return RateLimitUsage.knownWindows[known] }
        let types = ["RAW_REQUESTS", "CONNECTIONS", "REQUEST_WEIGHT", "ORDERS"], intervals = ["SECOND", "MINUTE", "HOUR", "DAY"]
        let t = Int(type) < types.count ? types[Int(type)] : "NON_REPRESENTABLE"
        let i = Int(interval) < intervals.count ? intervals[Int(interval)] : "NON_REPRESENTABLE"
        return "\(t)/\(i)/\(num)"
    }

    static func malformed(_ what: String) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "Binance SBE answer: \(what)")
    }

    static func tooShort(_ h: SBEHeader) -> TradeWireError {
        malformed("template \(h.templateId): root block of \(h.blockLength) bytes is too short")
    }
}
