import TradeWire

/// The simulator's SBE answers on a WebSocket API connection opened with `responseFormat=sbe` (schema `spot_sbe`
/// 3:5, `sbe/schemas/spot_3_5.xml`), written by its own encoder from the schema, independently of the client's
/// reader: a `WebSocketResponse` (template 50) around the answer's message. Encoded: `order.place` ACK/RESULT/FULL
/// (300/301/302), `order.cancel` (305), `order.cancelReplace` (307, or an `ErrorResponse` holding it),
/// `order.status` (304), `openOrders.status` (308), the user data stream (503, 504 and its events), `ping` (101) and
/// every error (`ErrorResponse` 100). The simulator's other
/// answers go out as `NonRepresentableMessage` (999): it does not encode them in SBE. Prices and quantities are
/// mantissas at exponent -8 (the simulator's decimals are exact at 8 places); times are microseconds.
package enum BinanceSBEAnswerEncoder {
    static let schemaId: UInt16 = 3
    static let version: UInt16 = 5
    static let exponent: Int8 = -8
    static let null64 = Int64.min

    /// The envelope: status, the rate limits as (type, interval, num, limit, count) in the schema's enums, the
    /// request's id as text, and the answer's message.
    static func response(status: Int, limits: [(type: UInt8, interval: UInt8, num: UInt8, limit: Int64, count: Int64)],
                         id: String, result: [UInt8]) -> [UInt8] {
        var w = SBEWriter(blockLength: 3, templateId: 50, schemaId: schemaId, version: version)
        w.u8(0)                                         // sbeSchemaIdVersionDeprecated: False
        w.u16(UInt16(status))
        w.group16(entryLength: 19, count: limits.count)
        for l in limits { w.u8(l.type); w.u8(l.interval); w.u8(l.num); w.i64(l.limit); w.i64(l.count) }
        w.varString8(id)
        w.message32(result)
        return w.bytes
    }

    /// `ErrorResponse` (100); `data`: a nested message (a failed cancel-replace's legs), or none.
    static func error(code: Int, message: String, serverTimeUs: Int64?, retryAfterUs: Int64?, data: [UInt8] = []) -> [UInt8] {
        var w = SBEWriter(blockLength: 18, templateId: 100, schemaId: schemaId, version: version)
        w.i16(Int16(code)); w.i64(serverTimeUs ?? null64); w.i64(retryAfterUs ?? null64)
        w.varString16(message)
        w.message32(data)
        return w.bytes
    }

    /// `CancelReplaceOrderResponse` (307): the legs' outcomes (Success 0, Failure 1, NotAttempted 2), then each leg's
    /// message (the cancel's with a uint16 length, the new order's with a uint32 one; empty when not attempted).
    static func cancelReplace(cancel: UInt8, newOrder: UInt8, cancelResponse: [UInt8], newOrderResponse: [UInt8]) -> [UInt8] {
        var w = SBEWriter(blockLength: 2, templateId: 307, schemaId: schemaId, version: version)
        w.u8(cancel); w.u8(newOrder)
        w.message16(cancelResponse)
        w.message32(newOrderResponse)
        return w.bytes
    }

    /// `NewOrderAckResponse` (300).
    static func newOrderAck(orderID: Int64, transactTimeUs: Int64, symbol: String, clientOrderID: String) -> [UInt8] {
        var w = SBEWriter(blockLength: 24, templateId: 300, schemaId: schemaId, version: version)
        w.i64(orderID); w.i64(null64); w.i64(transactTimeUs)
        w.varString8(symbol); w.varString8(clientOrderID)
        return w.bytes
    }

    /// A whole ACK answer as the simulator sends it (the ORDERS/DAY and REQUEST_WEIGHT limits), for benchmarks.
    package static func orderAckResponse(id: String, orderID: Int64, transactTimeUs: Int64, symbol: String, clientOrderID: String,
                                         ordersPerDay: Int64) -> [UInt8] {
        response(status: 200, limits: [(3, 3, 1, ordersPerDay, 1), (2, 1, 1, 6000, 1)], id: id,
                 result: newOrderAck(orderID: orderID, transactTimeUs: transactTimeUs, symbol: symbol, clientOrderID: clientOrderID))
    }

    /// `OrderResponse` (304): `order.status`.
    static func order(_ o: BinanceVenueSimulator.SimOrder) -> [UInt8] {
        var w = SBEWriter(blockLength: statusBlockLength, templateId: 304, schemaId: schemaId, version: version)
        statusBlock(o, into: &w)
        w.varString8(o.symbol); w.varString8(o.currentClientOrderId)
        return w.bytes
    }

    /// `OrdersResponse` (308): `openOrders.status`, each order as `order.status` has it.
    static func orders(_ list: [BinanceVenueSimulator.SimOrder]) -> [UInt8] {
        var w = SBEWriter(blockLength: 0, templateId: 308, schemaId: schemaId, version: version)
        w.group32(entryLength: statusBlockLength, count: list.count)
        for o in list {
            statusBlock(o, into: &w)
            w.varString8(o.symbol); w.varString8(o.currentClientOrderId)
        }
        return w.bytes
    }

    static let statusBlockLength: UInt16 = 163

    /// The fields of `OrderResponse`'s root and of each `OrdersResponse` entry, in the schema's order.
    static func statusBlock(_ o: BinanceVenueSimulator.SimOrder, into w: inout SBEWriter) {
        w.i8(exponent); w.i8(exponent)
        w.i64(o.orderID); w.i64(null64)
        w.i64(mantissa(o.price ?? .zero)); w.i64(mantissa(o.quantity)); w.i64(mantissa(o.executed)); w.i64(mantissa(o.cumQuote))
        w.u8(orderStatus(o.status)); w.u8(timeInForce(o.timeInForce)); w.u8(orderType(o.type)); w.u8(o.side == .buy ? 0 : 1)
        w.i64(mantissa(o.stopPrice)); w.i64(o.trailingDelta ?? null64); w.i64(null64); w.i64(mantissa(o.icebergQty))
        w.i64(o.time * 1000); w.i64(o.updateTime * 1000); w.u8(o.workingTime >= 0 ? 1 : 0)
        w.i64(o.workingTime >= 0 ? o.workingTime * 1000 : null64)
        w.i64(0)                                                                                      // origQuoteOrderQty
        w.i64(o.strategyID ?? null64); w.i32(o.strategyType.map { Int32($0) } ?? Int32.min)
        w.u8(1); w.u8(1); w.u8(selfTradePreventionMode(o.selfTradePreventionMode))                   // Principal, Exchange
        w.i64(null64); w.i64(0); w.u8(0)                                                              // preventedMatchId, preventedQuantity, usedSor
        w.u8(255); w.u8(255); w.u8(255); w.i64(null64); w.u8(255)                                     // no peg, no expiryReason
    }

    /// `UserDataStreamSubscribeResponse` (503).
    static func subscribed(_ subscriptionID: Int64) -> [UInt8] {
        var w = SBEWriter(blockLength: 2, templateId: 503, schemaId: schemaId, version: version)
        w.u16(UInt16(subscriptionID))
        return w.bytes
    }

    /// `EventStreamTerminatedEvent` (602), a bare event.
    static func streamTerminated(_ subscriptionID: Int64, eventTimeUs: Int64) -> [UInt8] {
        var w = SBEWriter(blockLength: 10, templateId: 602, schemaId: schemaId, version: version)
        w.i64(eventTimeUs); w.u16(UInt16(subscriptionID))
        return w.bytes
    }

    /// `ServerShutdownEvent` (610), a bare event.
    static func serverShutdown(eventTimeUs: Int64) -> [UInt8] {
        var w = SBEWriter(blockLength: 8, templateId: 610, schemaId: schemaId, version: version)
        w.i64(eventTimeUs)
        return w.bytes
    }

    static func executionType(_ x: String) -> UInt8 {
        switch x {
        case "NEW": 0
        case "CANCELED": 1
        case "REPLACED": 2
        case "REJECTED": 3
        case "TRADE": 4
        case "EXPIRED": 5
        case "TRADE_PREVENTION": 8
        default: 253
        }
    }

    /// A message with an empty root: `PingResponse` (101), `OrderTestResponse` (303), `UserDataStreamUnsubscribeResponse`
    /// (504), `NonRepresentableMessage` (999).
    static func empty(templateId: UInt16) -> [UInt8] {
        SBEWriter(blockLength: 0, templateId: templateId, schemaId: schemaId, version: version).bytes
    }

    static func mantissa(_ d: FixedDecimal?) -> Int64 {
        guard let d else { return null64 }
        return BinanceSBEEncoder.mantissa(d, exponent: exponent)
    }

    static func orderStatus(_ s: String) -> UInt8 {
        switch s {
        case "NEW": 0
        case "PARTIALLY_FILLED": 1
        case "FILLED": 2
        case "CANCELED": 3
        case "PENDING_CANCEL": 4
        case "REJECTED": 5
        case "EXPIRED": 6
        case "EXPIRED_IN_MATCH": 9
        case "PENDING_NEW": 11
        default: 254
        }
    }

    static func timeInForce(_ s: String?) -> UInt8 { s == "IOC" ? 1 : s == "FOK" ? 2 : 0 }

    static func orderType(_ s: String) -> UInt8 {
        switch s {
        case "MARKET": 0
        case "LIMIT": 1
        case "STOP_LOSS": 2
        case "STOP_LOSS_LIMIT": 3
        case "TAKE_PROFIT": 4
        case "TAKE_PROFIT_LIMIT": 5
        case "LIMIT_MAKER": 6
        default: 254
        }
    }

    static func selfTradePreventionMode(_ s: String) -> UInt8 {
        switch s {
        case "NONE": 1
        case "EXPIRE_TAKER": 2
        case "EXPIRE_MAKER": 3
        case "EXPIRE_BOTH": 4
        case "DECREMENT": 5
        case "TRANSFER": 6
        default: 254
        }
    }
}

extension BinanceVenueSimulator {
    /// An `order.place` answer (300/301/302 by response type) or an `order.cancel` answer (305).
    func sbeOrder(_ o: SimOrder, shape: Shape, fills: [OrderBook.Fill] = []) -> [UInt8] {
        typealias E = BinanceSBEAnswerEncoder
        let transactUs = o.updateTime * 1000
        if shape == .ack {
            return E.newOrderAck(orderID: o.orderID, transactTimeUs: transactUs, symbol: o.symbol, clientOrderID: o.currentClientOrderId)
        }
        let cancel = shape == .cancel
        var w = SBEWriter(blockLength: cancel ? 137 : 154, templateId: cancel ? 305 : shape == .full ? 302 : 301,
                          schemaId: E.schemaId, version: E.version)
        w.i8(E.exponent); w.i8(E.exponent)
        w.i64(o.orderID); w.i64(E.null64); w.i64(transactUs)
        w.i64(E.mantissa(o.price ?? .zero)); w.i64(E.mantissa(o.quantity)); w.i64(E.mantissa(o.executed)); w.i64(E.mantissa(o.cumQuote))
        w.u8(E.orderStatus(o.status)); w.u8(E.timeInForce(o.timeInForce)); w.u8(E.orderType(o.type)); w.u8(o.side == .buy ? 0 : 1)
        w.i64(E.mantissa(o.stopPrice)); w.i64(o.trailingDelta ?? E.null64); w.i64(E.null64)          // trailingTime
        if !cancel { w.i64(o.workingTime >= 0 ? o.workingTime * 1000 : E.null64) }
        w.i64(E.mantissa(o.icebergQty)); w.i64(o.strategyID ?? E.null64); w.i32(o.strategyType.map { Int32($0) } ?? Int32.min)
        w.u8(1); w.u8(1)                                                                              // Principal, Exchange
        w.u8(E.selfTradePreventionMode(o.selfTradePreventionMode))
        if !cancel { w.i64(E.null64) }                                                                // tradeGroupId
        w.i64(0); w.u8(0); w.i64(0)                                                                   // prevented, usedSor, origQuoteOrderQty
        w.u8(255); w.u8(255); w.u8(255); w.i64(E.null64)                                              // no peg
        if !cancel { w.u8(255) }                                                                      // expiryReason
        if shape == .full {
            w.group32(entryLength: 42, count: fills.count)
            for f in fills {
                let (commission, asset) = self.commission(o, qty: f.quantity, price: f.price)
                nextTradeId += 1
                w.i8(E.exponent); w.u8(1)                                                             // AutoMatch
                w.i64(E.mantissa(f.price)); w.i64(E.mantissa(f.quantity)); w.i64(E.mantissa(commission))
                w.i64(nextTradeId); w.i64(E.null64)
                w.varString8(asset)
            }
            w.group32(entryLength: 40, count: 0)                                                      // preventedMatches
        }
        w.varString8(o.symbol)
        if cancel { w.varString8(o.previousClientOrderId ?? o.clientOrderID) }
        w.varString8(o.currentClientOrderId)
        return w.bytes
    }

    /// The `reply` of an SBE session: the same status, limits and id, the answer in SBE (`result`: the success's
    /// message, or an error's nested `data`).
    func sbeReply(status: Int, id: JSONValue?, error: SimError?, result: (() -> [UInt8])?, hasJSONResult: Bool,
                  orders: Bool, counts: (tenSeconds: Int, day: Int), weightUsed: Int) -> [UInt8] {
        var limits: [(type: UInt8, interval: UInt8, num: UInt8, limit: Int64, count: Int64)] = []
        if orders {
            if let per10s = options.ordersPer10s { limits.append((3, 0, 10, Int64(per10s), Int64(counts.tenSeconds))) }
            limits.append((3, 3, 1, Int64(options.ordersPerDay), Int64(counts.day)))
        }
        limits.append((2, 1, 1, 6000, Int64(weightUsed)))
        let idText = id.map { $0.string ?? String(decoding: $0.rawBytes, as: UTF8.self) } ?? ""
        let message: [UInt8]
        if let error {
            message = BinanceSBEAnswerEncoder.error(code: error.code, message: error.msg,
                                                    serverTimeUs: error.retryAfterMs.map { _ in Self.nowMs() * 1000 },
                                                    retryAfterUs: error.retryAfterMs.map { $0 * 1000 }, data: result?() ?? [])
        } else if let result {
            message = result()
        } else {
            message = BinanceSBEAnswerEncoder.empty(templateId: hasJSONResult ? 999 : 101)
        }
        return BinanceSBEAnswerEncoder.response(status: status, limits: limits, id: idText == "null" ? "" : idText, result: message)
    }

    /// An `executionReport` as `ExecutionReportEvent` (603), a bare event: the same facts as the JSON report.
    func sbeExecutionReport(_ o: SimOrder, x: String, last: (qty: FixedDecimal, price: FixedDecimal, maker: Bool)?,
                            originalClientOrderID: String?, fee: (FixedDecimal, String)?, trade: Int64?, execution: Int64,
                            nowMs: Int64, subscriptionID: Int64) -> [UInt8] {
        typealias E = BinanceSBEAnswerEncoder
        var w = SBEWriter(blockLength: 282, templateId: 603, schemaId: E.schemaId, version: E.version)
        w.i64(nowMs * 1000); w.i64(nowMs * 1000)                                                     // eventTime, transactTime
        w.i8(E.exponent); w.i8(E.exponent); w.i8(E.exponent)                                         // price, qty, commission
        w.i64(o.time * 1000); w.i64(o.workingTime >= 0 ? o.workingTime * 1000 : E.null64)
        w.i64(o.orderID); w.i64(E.null64)
        w.i64(E.mantissa(o.quantity)); w.i64(E.mantissa(o.price ?? .zero)); w.i64(0)                 // origQuoteOrderQty
        w.i64(E.mantissa(o.icebergQty ?? .zero)); w.i64(E.mantissa(o.stopPrice ?? .zero))
        w.u8(E.orderType(o.type)); w.u8(o.side == .buy ? 0 : 1); w.u8(E.timeInForce(o.timeInForce))
        w.u8(E.executionType(x)); w.u8(E.orderStatus(o.status))
        w.i64(trade ?? E.null64); w.i64(execution)
        w.i64(E.mantissa(o.executed)); w.i64(E.mantissa(o.cumQuote))
        w.i64(E.mantissa(last?.qty ?? .zero)); w.i64(E.mantissa(last?.price ?? .zero))
        w.i64(E.mantissa(last.map { $0.qty * $0.price } ?? .zero)); w.i64(E.mantissa(fee?.0 ?? .zero))
        w.u8(isOpen(o) ? 1 : 0); w.u8(last?.maker == true ? 1 : 0); w.u8(0); w.u8(1)                  // isWorking, isMaker, isBestMatch, AutoMatch
        w.u8(E.selfTradePreventionMode(o.selfTradePreventionMode)); w.u8(1); w.u8(1); w.u8(0)          // Principal, Exchange, no SOR
        w.i64(E.null64); w.u64(o.trailingDelta.map { UInt64($0) } ?? UInt64.max); w.i64(E.null64); w.i64(E.null64)
        w.i64(0); w.i64(E.null64); w.i64(E.null64); w.i64(E.null64); w.i64(E.null64); w.i64(E.null64)   // prevented quantities, ids
        w.i32(o.strategyType.map { Int32($0) } ?? Int32.min); w.i64(o.strategyID ?? E.null64); w.i64(E.null64)
        w.u16(UInt16(subscriptionID))
        w.u8(255); w.u8(255); w.u8(255); w.i64(E.null64); w.u8(255)                                  // no peg, no expiryReason
        w.varString8(o.symbol); w.varString8(o.currentClientOrderId); w.varString8(originalClientOrderID ?? "")
        w.varString8(fee?.1 ?? ""); w.varString8(""); w.varString8("")                               // rejectReason NONE, counterSymbol
        return w.bytes
    }
}
