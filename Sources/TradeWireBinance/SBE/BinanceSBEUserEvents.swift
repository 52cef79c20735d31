import TradeWire

/// The user data stream on a WebSocket API connection answered in SBE (schema 3:5): each event is a bare message in
/// its own binary frame, with no `WebSocketResponse` around it and its `subscriptionId` among its own fields.
/// Read into the same values as the JSON events: `ExecutionReportEvent` (603) into `BinanceExecutionReport`,
/// `EventStreamTerminatedEvent` (602), `ServerShutdownEvent` (610); the others (`balanceUpdate` 601,
/// `outboundAccountPosition` 607, `listStatus` 606, …) as `.event(type:)`. Times are µs on the wire and ms here,
/// as the JSON events have them.
public enum BinanceSBEUserEvents {
    static let eventTemplates: ClosedRange<UInt16> = 600...610

    /// Whether a binary frame is a user data event (else a `WebSocketResponse`), from its header alone.
    public static func isEvent(_ frame: UnsafeRawBufferPointer) -> Bool {
        frame.count >= SBEHeader.size && eventTemplates.contains(UInt16(littleEndian: frame.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
    }

    public static func decode(_ frame: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceInbound {
        var m = try BinanceSBEAnswers.reader(frame, minimumBlockLength: 0)
        switch m.header.templateId {
        case 603:
            return .executionReport(try executionReport(&m))
        case 602:
            guard m.header.blockLength >= 8 else { throw BinanceSBEAnswers.tooShort(m.header) }
            return .streamTerminated(subscriptionID: subscriptionID(m, at: 8), timeMs: m.root(0, as: Int64.self) / 1000)
        case 610:
            guard m.header.blockLength >= 8 else { throw BinanceSBEAnswers.tooShort(m.header) }
            return .serverShutdown(timeMs: m.root(0, as: Int64.self) / 1000)
        case 600: return .event(type: "allocationReport")
        case 601: return .event(type: "balanceUpdate")
        case 604: return .event(type: "externalLockUpdate")
        case 606: return .event(type: "listStatus")
        case 607: return .event(type: "outboundAccountPosition")
        default: throw BinanceSBEAnswers.malformed("template \(m.header.templateId) is not a user data event")
        }
    }

    /// A `subscriptionId` (uint16, optional, null 65535) at `offset` of the root, when the block reaches it.
    static func subscriptionID(_ m: SBEReader, at offset: Int) -> Int64? {
        guard Int(m.header.blockLength) >= offset + 2 else { return nil }
        let v = m.root(offset, as: UInt16.self)
        return v == UInt16.max ? nil : Int64(v)
    }

    /// `ExecutionReportEvent` (603): root offsets as the schema lays the fields out.
    static func executionReport(_ m: inout SBEReader) throws(TradeWireError) -> BinanceExecutionReport {
        guard m.header.blockLength >= 268 else { throw BinanceSBEAnswers.tooShort(m.header) }   // up to counterOrderId (version 0)
        let pe = m.root(16, as: Int8.self), qe = m.root(17, as: Int8.self), ce = m.root(18, as: Int8.self)
        func i64(_ off: Int) -> Int64 { m.root(off, as: Int64.self) }
        func optional(_ off: Int) -> Int64? { BinanceSBEAnswers.optional(i64(off)) }
        func price(_ off: Int) -> FixedDecimal? { BinanceSBEAnswers.decimal(i64(off), exponent: pe) }
        func qty(_ off: Int) -> FixedDecimal? { BinanceSBEAnswers.decimal(i64(off), exponent: qe) }
        func u8(_ off: Int) -> UInt8 { m.root(off, as: UInt8.self) }
        func ms(_ off: Int) -> Int64? { optional(off).map { $0 / 1000 } }
        func text(_ b: UnsafeRawBufferPointer) -> String? { b.isEmpty ? nil : String(decoding: b, as: UTF8.self) }
        let symbol = String(decoding: try m.varData8(), as: UTF8.self)
        let clientOrderID = String(decoding: try m.varData8(), as: UTF8.self)
        let original = text(try m.varData8())
        let commissionAsset = text(try m.varData8())
        let rejectReason = text(try m.varData8()) ?? "NONE"
        let trailingDelta = m.root(176, as: UInt64.self)
        let strategyType = m.root(248, as: Int32.self)
        let expiryReason: UInt8? = m.header.blockLength >= 282 ? u8(281) : nil
        return BinanceExecutionReport(
            subscriptionID: subscriptionID(m, at: 268), eventTime: i64(0) / 1000, symbol: symbol, clientOrderID: clientOrderID,
            originalClientOrderID: original, side: u8(92) == 0 ? .buy : u8(92) == 1 ? .sell : nil,
            orderType: BinanceSBEAnswers.orderType(u8(91)) ?? "NON_REPRESENTABLE", timeInForce: BinanceSBEAnswers.timeInForce(u8(93)),
            executionType: executionType(u8(94)), status: BinanceOrderStatus(rawValue: BinanceSBEAnswers.orderStatus(u8(95)) ?? "UNKNOWN"),
            orderID: i64(35), orderListID: optional(43) ?? -1, quantity: qty(51), price: price(59), stopPrice: price(83),
            icebergQty: qty(75), quoteOrderQty: price(67), lastQty: qty(128), lastPrice: price(136), cumQty: qty(112),
            cumQuoteQty: price(120), lastQuoteQty: price(144), commission: BinanceSBEAnswers.decimal(i64(152), exponent: ce),
            commissionAsset: commissionAsset, tradeID: optional(96), executionID: i64(104), transactionTime: i64(8) / 1000,
            orderCreationTime: ms(19), workingTime: ms(27), isWorking: u8(160) == 1, isMaker: u8(161) == 1,
            rejectReason: rejectReason, selfTradePreventionMode: BinanceSBEAnswers.selfTradePreventionMode(u8(164)),
            preventedMatchID: optional(216), trailingDelta: trailingDelta == UInt64.max ? nil : Int64(truncatingIfNeeded: trailingDelta),
            strategyID: optional(252), strategyType: strategyType == Int32.min ? nil : Int64(strategyType),
            expiryReason: expiryReason.flatMap(Self.expiryReason), pegPriceType: nil, pegOffsetType: nil, pegOffsetValue: nil,
            peggedPrice: nil)
    }

    static func executionType(_ v: UInt8) -> String {
        switch v {
        case 0: "NEW"
        case 1: "CANCELED"
        case 2: "REPLACED"
        case 3: "REJECTED"
        case 4: "TRADE"
        case 5: "EXPIRED"
        case 8: "TRADE_PREVENTION"
        default: "UNKNOWN"
        }
    }

    static func expiryReason(_ v: UInt8) -> String? {
        switch v {
        case 1: "REJECTED"
        case 2: "EXCHANGE_CANCELED"
        case 3: "OCO_TRIGGER"
        case 4: "OTO_PHASE_ONE_EXPIRED"
        case 5: "UNFILLED_IOC_QUANTITY_EXPIRED"
        case 6: "UNFILLED_FOK_ORDER_EXPIRED"
        case 7: "INSUFFICIENT_LIQUIDITY"
        case 8: "EXECUTION_RULE_PRICE_RANGE_EXCEEDED"
        default: nil
        }
    }
}
