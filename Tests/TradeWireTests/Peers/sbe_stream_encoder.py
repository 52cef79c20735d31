#!/usr/bin/env python3
"""Independent encoder for Binance Spot SBE market data stream events.

Written from the stream schema `sbe/schemas/stream_1_0.xml` (binance/binance-spot-api-docs;
messageSchema package="spot_stream" id="1" version="0" semanticVersion="5.2"
byteOrder="littleEndian"), not from any TradeWire code. See docs/venues-binance-sbe.md.

Standard library only. Layout of every message (SBE 1.0, little-endian, no padding):

    messageHeader (8)   blockLength u16 | templateId u16 | schemaId u16 | version u16
    root block          fixed fields, `blockLength` bytes
    groups              each: dimension (blockLength u16 + numInGroup u32 for
                        groupSizeEncoding, or u16 + u16 for groupSize16Encoding),
                        then numInGroup entries of blockLength bytes
    var data            symbol: varString8 = length u8 + UTF-8 bytes

CLI:
    python3 sbe_stream_encoder.py fixtures OUTDIR   write *.bin + *.json fixtures
    python3 sbe_stream_encoder.py selfcheck [DIR]   decode DIR's fixtures with the
                                                    independent decoder below and compare
                                                    (DIR defaults to ../Fixtures/binance-sbe)
    python3 sbe_stream_encoder.py hex KIND JSON     print the hex of encode(KIND, **JSON)

Library:
    from sbe_stream_encoder import encode
    frame = encode("trade", event_time=..., transact_time=..., price_exponent=-2,
                   qty_exponent=-8, trades=[{"id": 1, "price": 100, "qty": 5,
                   "is_buyer_maker": True}], symbol="BTCUSDT")
"""
import json
import os
import struct
import sys
from decimal import Decimal

SCHEMA_ID = 1
SCHEMA_VERSION = 0
SEMANTIC_VERSION = "5.2"

# kind -> (message name, templateId, root blockLength)
MESSAGES = {
    "trade":          ("TradesStreamEvent",        10000, 18),
    "best_bid_ask":   ("BestBidAskStreamEvent",    10001, 50),
    "depth_snapshot": ("DepthSnapshotStreamEvent", 10002, 18),
    "depth_diff":     ("DepthDiffStreamEvent",     10003, 26),
}
KIND_BY_TEMPLATE = {v[1]: k for k, v in MESSAGES.items()}

HEADER = struct.Struct("<HHHH")            # messageHeader
GROUP_SIZE = struct.Struct("<HI")          # groupSizeEncoding: blockLength u16, numInGroup u32
GROUP_SIZE16 = struct.Struct("<HH")        # groupSize16Encoding: blockLength u16, numInGroup u16
TRADE_ENTRY = struct.Struct("<qqqB")       # id, price, qty, isBuyerMaker (isBestMatch is constant)
LEVEL_ENTRY = struct.Struct("<qq")         # price, qty
ROOTS = {
    "trade":          struct.Struct("<qqbb"),      # eventTime, transactTime, priceExponent, qtyExponent
    "best_bid_ask":   struct.Struct("<qqbbqqqq"),  # eventTime, bookUpdateId, pExp, qExp, bidPx, bidQty, askPx, askQty
    "depth_snapshot": struct.Struct("<qqbb"),      # eventTime, bookUpdateId, pExp, qExp
    "depth_diff":     struct.Struct("<qqqbb"),     # eventTime, firstBookUpdateId, lastBookUpdateId, pExp, qExp
}
for _k, (_n, _t, _bl) in MESSAGES.items():
    assert ROOTS[_k].size == _bl, (_k, ROOTS[_k].size, _bl)
assert TRADE_ENTRY.size == 25 and LEVEL_ENTRY.size == 16


def _symbol_bytes(symbol):
    b = symbol.encode("utf-8") if isinstance(symbol, str) else bytes(symbol)
    if len(b) > 255:
        raise ValueError("varString8 symbol longer than 255 bytes (%d)" % len(b))
    return b


def _levels(levels):
    out = []
    for lv in levels or []:
        if isinstance(lv, dict):
            out.append((int(lv["price"]), int(lv["qty"])))
        else:
            p, q = lv
            out.append((int(p), int(q)))
    return out


def encode(kind, **f):
    """Encode one stream event as the bytes of one binary WebSocket frame payload.

    kind: "trade" | "best_bid_ask" | "depth_snapshot" | "depth_diff".
    Fields (snake_case; mantissas and ids are ints; exponents int8; times in microseconds):
      trade:          event_time, transact_time, price_exponent, qty_exponent,
                      trades=[{id, price, qty, is_buyer_maker}], symbol
      best_bid_ask:   event_time, book_update_id, price_exponent, qty_exponent,
                      bid_price, bid_qty, ask_price, ask_qty, symbol
      depth_snapshot: event_time, book_update_id, price_exponent, qty_exponent,
                      bids=[[price, qty], ...], asks=[[price, qty], ...], symbol
      depth_diff:     event_time, first_book_update_id, last_book_update_id,
                      price_exponent, qty_exponent, bids, asks, symbol
    Test knobs (defaults follow the schema exactly; change them only to make
    deliberately odd frames): template_id, schema_id, version, extra_root_bytes
    (zero bytes appended to the root block, header blockLength grown to match, as a
    later schema version could), extra_entry_bytes (same for each group entry).
    """
    if kind not in MESSAGES:
        raise ValueError("unknown kind %r (want one of %s)" % (kind, ", ".join(MESSAGES)))
    _, template_id, block_length = MESSAGES[kind]
    extra_root = int(f.get("extra_root_bytes", 0))
    extra_entry = int(f.get("extra_entry_bytes", 0))
    pe, qe = int(f["price_exponent"]), int(f["qty_exponent"])
    if kind == "trade":
        root = ROOTS[kind].pack(int(f["event_time"]), int(f["transact_time"]), pe, qe)
    elif kind == "best_bid_ask":
        root = ROOTS[kind].pack(int(f["event_time"]), int(f["book_update_id"]), pe, qe,
                                int(f["bid_price"]), int(f["bid_qty"]),
                                int(f["ask_price"]), int(f["ask_qty"]))
    elif kind == "depth_snapshot":
        root = ROOTS[kind].pack(int(f["event_time"]), int(f["book_update_id"]), pe, qe)
    else:
        root = ROOTS[kind].pack(int(f["event_time"]), int(f["first_book_update_id"]),
                                int(f["last_book_update_id"]), pe, qe)
    root += b"\x00" * extra_root

    out = bytearray(HEADER.pack(block_length + extra_root,
                                int(f.get("template_id", template_id)),
                                int(f.get("schema_id", SCHEMA_ID)),
                                int(f.get("version", SCHEMA_VERSION))))
    out += root

    if kind == "trade":
        trades = f.get("trades") or []
        out += GROUP_SIZE.pack(TRADE_ENTRY.size + extra_entry, len(trades))
        for t in trades:
            bm = t["is_buyer_maker"]
            bm = 1 if bm is True else 0 if bm is False else int(bm)   # boolEnum: False=0, True=1
            out += TRADE_ENTRY.pack(int(t["id"]), int(t["price"]), int(t["qty"]), bm)
            out += b"\x00" * extra_entry
    elif kind in ("depth_snapshot", "depth_diff"):
        for side in ("bids", "asks"):
            levels = _levels(f.get(side))
            if len(levels) > 0xFFFF:
                raise ValueError("groupSize16Encoding numInGroup > 65535")
            out += GROUP_SIZE16.pack(LEVEL_ENTRY.size + extra_entry, len(levels))
            for p, q in levels:
                out += LEVEL_ENTRY.pack(p, q) + b"\x00" * extra_entry

    sym = _symbol_bytes(f["symbol"])
    out += struct.pack("<B", len(sym)) + sym
    return bytes(out)


# --------------------------------------------------------------------------------------
# Expected-values JSON (what a decoder must read back from the .bin)
# --------------------------------------------------------------------------------------

def _dec(m, e):
    """Exact decimal string of mantissa * 10^exponent."""
    return format(Decimal(m).scaleb(e), "f")


def expected_json(kind, fields, data):
    name, tid, bl = MESSAGES[kind]
    pe, qe = fields["price_exponent"], fields["qty_exponent"]
    j = {"kind": kind, "message": name, "template_id": tid, "schema_id": SCHEMA_ID,
         "version": SCHEMA_VERSION, "block_length": bl, "length": len(data),
         "event_time": fields["event_time"]}
    dec = {}
    if kind == "trade":
        j["transact_time"] = fields["transact_time"]
    elif kind in ("best_bid_ask", "depth_snapshot"):
        j["book_update_id"] = fields["book_update_id"]
    else:
        j["first_book_update_id"] = fields["first_book_update_id"]
        j["last_book_update_id"] = fields["last_book_update_id"]
    j["price_exponent"], j["qty_exponent"] = pe, qe
    if kind == "trade":
        j["trades"] = [{"id": t["id"], "price": t["price"], "qty": t["qty"],
                        "is_buyer_maker": bool(t["is_buyer_maker"]), "is_best_match": True}
                       for t in fields.get("trades") or []]
        dec["trades"] = [[_dec(t["price"], pe), _dec(t["qty"], qe)] for t in j["trades"]]
    elif kind == "best_bid_ask":
        for k in ("bid_price", "bid_qty", "ask_price", "ask_qty"):
            j[k] = fields[k]
            dec[k] = _dec(fields[k], pe if k.endswith("price") else qe)
    else:
        for side in ("bids", "asks"):
            j[side] = [list(lv) for lv in _levels(fields.get(side))]
            dec[side] = [[_dec(p, pe), _dec(q, qe)] for p, q in j[side]]
    j["symbol"] = fields["symbol"]
    j["symbol_utf8_length"] = len(fields["symbol"].encode("utf-8"))
    j["decimal"] = dec
    j["hex"] = data.hex()
    return j


# --------------------------------------------------------------------------------------
# Fixture set
# --------------------------------------------------------------------------------------

T0 = 1736899200123456                      # 2025-01-15T00:00:00.123456Z in microseconds
LONG_SYMBOL = "LONGSYMBOL" * 25 + "USDTX"  # 255 bytes: the longest a varString8 can hold


def _snapshot_levels(n, top, step, qbase):
    return [[top - i * step, qbase + 1000 * i] for i in range(n)]


FIXTURES = [
    ("trade_1", "trade", dict(
        event_time=T0 + 517, transact_time=T0, price_exponent=-2, qty_exponent=-8,
        trades=[{"id": 4123456789, "price": 9654321, "qty": 150000, "is_buyer_maker": True}],
        symbol="BTCUSDT")),
    ("trade_2", "trade", dict(
        event_time=T0 + 1_000_311, transact_time=T0 + 1_000_007, price_exponent=-2, qty_exponent=-4,
        trades=[{"id": 2000000001, "price": 334512, "qty": 12500, "is_buyer_maker": False},
                {"id": 2000000002, "price": 334511, "qty": 1, "is_buyer_maker": True},
                {"id": 2000000003, "price": 334510, "qty": 98765432, "is_buyer_maker": False}],
        symbol="ETHUSDT")),
    ("trade_3", "trade", dict(      # empty group, non-ASCII UTF-8 symbol, zero exponents, big id
        event_time=T0 + 2_000_000, transact_time=T0 + 1_999_999, price_exponent=0, qty_exponent=0,
        trades=[], symbol="\u5e01\u5b89\u4eba\u751fUSDT")),
    ("best_bid_ask_1", "best_bid_ask", dict(
        event_time=T0 + 42, book_update_id=71234567890, price_exponent=-2, qty_exponent=-8,
        bid_price=9654320, bid_qty=123456789, ask_price=9654321, ask_qty=5000000, symbol="BTCUSDT")),
    ("best_bid_ask_2", "best_bid_ask", dict(
        event_time=T0 + 3_000_001, book_update_id=9_000_000_000_000_001, price_exponent=-8,
        qty_exponent=0, bid_price=1234, bid_qty=250_000_000_000, ask_price=1235,
        ask_qty=7_777_777, symbol="SHIBUSDT")),
    ("best_bid_ask_3", "best_bid_ask", dict(   # positive/negative mix, 255-byte symbol
        event_time=T0 + 4_000_000, book_update_id=1, price_exponent=2, qty_exponent=-1,
        bid_price=0, bid_qty=0, ask_price=9_223_372_036_854_775_807, ask_qty=1,
        symbol=LONG_SYMBOL)),
    ("depth_snapshot_1", "depth_snapshot", dict(   # 20 levels per side
        event_time=T0 + 50_000, book_update_id=71234567999, price_exponent=-2, qty_exponent=-8,
        bids=_snapshot_levels(20, 9654320, 1, 100000),
        asks=[[9654321 + i, 200000 + 1000 * i] for i in range(20)], symbol="BTCUSDT")),
    ("depth_snapshot_2", "depth_snapshot", dict(   # asks group empty
        event_time=T0 + 100_000, book_update_id=555, price_exponent=-4, qty_exponent=-3,
        bids=[[25351900, 31210], [25351800, 1], [25350000, 999999], [25000000, 42], [1, 7]],
        asks=[], symbol="BNBUSDT")),
    ("depth_snapshot_3", "depth_snapshot", dict(   # both groups empty, long symbol
        event_time=T0 + 150_000, book_update_id=0, price_exponent=-8, qty_exponent=-8,
        bids=[], asks=[], symbol=LONG_SYMBOL)),
    ("depth_diff_1", "depth_diff", dict(   # qty 0 = remove the level
        event_time=T0 + 20_000, first_book_update_id=71234568000, last_book_update_id=71234568004,
        price_exponent=-2, qty_exponent=-8,
        bids=[[9654320, 0], [9654319, 250000000], [9654000, 1]],
        asks=[[9654321, 12345678], [9654400, 0]], symbol="BTCUSDT")),
    ("depth_diff_2", "depth_diff", dict(   # bids group empty
        event_time=T0 + 40_000, first_book_update_id=100, last_book_update_id=100,
        price_exponent=-8, qty_exponent=-8, bids=[],
        asks=[[1234, 100000000000], [1235, 5], [1300, 1], [2000, 123456789012345]],
        symbol="SHIBUSDT")),
    ("depth_diff_3", "depth_diff", dict(   # 300 bids > 255, so a u8 count would be wrong
        event_time=T0 + 60_000, first_book_update_id=500000, last_book_update_id=500299,
        price_exponent=-3, qty_exponent=-5,
        bids=[[1_000_000 - i, (i * 7919) % 100000] for i in range(300)],
        asks=[[1_000_001 + 3 * i, 1 + i] for i in range(7)], symbol="ETHBTC")),
]


def write_fixtures(outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, kind, fields in FIXTURES:
        data = encode(kind, **fields)
        with open(os.path.join(outdir, name + ".bin"), "wb") as fh:
            fh.write(data)
        with open(os.path.join(outdir, name + ".json"), "w", encoding="utf-8") as fh:
            json.dump(expected_json(kind, fields, data), fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        print("%-18s %-15s %5d bytes" % (name, kind, len(data)))


# --------------------------------------------------------------------------------------
# Independent decoder (explicit offsets, int.from_bytes; shares nothing with the encoder)
# --------------------------------------------------------------------------------------

class DecodeError(Exception):
    pass


def _u(buf, off, n):
    if off + n > len(buf):
        raise DecodeError("truncated at %d (+%d) of %d" % (off, n, len(buf)))
    return int.from_bytes(buf[off:off + n], "little", signed=False)


def _s(buf, off, n):
    if off + n > len(buf):
        raise DecodeError("truncated at %d (+%d) of %d" % (off, n, len(buf)))
    return int.from_bytes(buf[off:off + n], "little", signed=True)


def decode(buf):
    """Decode one frame; honours header blockLength and group blockLength (SBE extension rules)."""
    bl, tid, sid, ver = _u(buf, 0, 2), _u(buf, 2, 2), _u(buf, 4, 2), _u(buf, 6, 2)
    if sid != 1:
        raise DecodeError("schemaId %d != 1" % sid)
    r = 8                                  # root block start
    d = {"template_id": tid, "schema_id": sid, "version": ver, "block_length": bl,
         "length": len(buf), "event_time": _s(buf, r, 8)}
    if tid == 10000:
        if bl < 18: raise DecodeError("short root")
        d["kind"] = "trade"
        d["transact_time"] = _s(buf, r + 8, 8)
        d["price_exponent"], d["qty_exponent"] = _s(buf, r + 16, 1), _s(buf, r + 17, 1)
        p = r + bl
        ebl, n = _u(buf, p, 2), _u(buf, p + 2, 4)
        if ebl < 25: raise DecodeError("short trade entry")
        p += 6
        d["trades"] = []
        for i in range(n):
            e = p + i * ebl
            bm = _u(buf, e + 24, 1)
            if bm not in (0, 1): raise DecodeError("boolEnum %d" % bm)
            d["trades"].append({"id": _s(buf, e, 8), "price": _s(buf, e + 8, 8),
                                "qty": _s(buf, e + 16, 8), "is_buyer_maker": bm == 1,
                                "is_best_match": True})
        p += n * ebl
    elif tid == 10001:
        if bl < 50: raise DecodeError("short root")
        d["kind"] = "best_bid_ask"
        d["book_update_id"] = _s(buf, r + 8, 8)
        d["price_exponent"], d["qty_exponent"] = _s(buf, r + 16, 1), _s(buf, r + 17, 1)
        d["bid_price"], d["bid_qty"] = _s(buf, r + 18, 8), _s(buf, r + 26, 8)
        d["ask_price"], d["ask_qty"] = _s(buf, r + 34, 8), _s(buf, r + 42, 8)
        p = r + bl
    elif tid in (10002, 10003):
        if tid == 10002:
            if bl < 18: raise DecodeError("short root")
            d["kind"] = "depth_snapshot"
            d["book_update_id"] = _s(buf, r + 8, 8)
            eo = r + 16
        else:
            if bl < 26: raise DecodeError("short root")
            d["kind"] = "depth_diff"
            d["first_book_update_id"] = _s(buf, r + 8, 8)
            d["last_book_update_id"] = _s(buf, r + 16, 8)
            eo = r + 24
        d["price_exponent"], d["qty_exponent"] = _s(buf, eo, 1), _s(buf, eo + 1, 1)
        p = r + bl
        for side in ("bids", "asks"):
            ebl, n = _u(buf, p, 2), _u(buf, p + 2, 2)
            if ebl < 16: raise DecodeError("short level entry")
            p += 4
            d[side] = [[_s(buf, p + i * ebl, 8), _s(buf, p + i * ebl + 8, 8)] for i in range(n)]
            p += n * ebl
    else:
        raise DecodeError("unknown templateId %d" % tid)
    ln = _u(buf, p, 1)
    if p + 1 + ln > len(buf):
        raise DecodeError("symbol overruns frame")
    d["symbol"] = bytes(buf[p + 1:p + 1 + ln]).decode("utf-8")
    d["symbol_utf8_length"] = ln
    if p + 1 + ln != len(buf):
        raise DecodeError("%d trailing bytes" % (len(buf) - p - 1 - ln))
    return d


def _golden_checks():
    """Byte strings written out by hand from the schema, not via encode()."""
    le = lambda v, n: (v & ((1 << (8 * n)) - 1)).to_bytes(n, "little")
    bba = (le(50, 2) + le(10001, 2) + le(1, 2) + le(0, 2)                 # header
           + le(1000, 8) + le(7, 8) + le(-2, 1) + le(-3, 1)               # eventTime, bookUpdateId, exps
           + le(101, 8) + le(2, 8) + le(102, 8) + le(3, 8)                # bid px/qty, ask px/qty
           + le(3, 1) + b"ABC")                                           # varString8
    assert bba.hex() == ("3200112701000000" "e803000000000000" "0700000000000000" "fefd"
                         "6500000000000000" "0200000000000000" "6600000000000000" "0300000000000000"
                         "03414243"), bba.hex()
    got = encode("best_bid_ask", event_time=1000, book_update_id=7, price_exponent=-2,
                 qty_exponent=-3, bid_price=101, bid_qty=2, ask_price=102, ask_qty=3, symbol="ABC")
    assert got == bba, (got.hex(), bba.hex())
    trade = (le(18, 2) + le(10000, 2) + le(1, 2) + le(0, 2) + le(5, 8) + le(4, 8) + le(-1, 1) + le(-2, 1)
             + le(25, 2) + le(1, 4)                                       # groupSizeEncoding (u16, u32)
             + le(9, 8) + le(10, 8) + le(11, 8) + le(1, 1)
             + le(1, 1) + b"X")
    assert len(trade) == 8 + 18 + 6 + 25 + 2
    got = encode("trade", event_time=5, transact_time=4, price_exponent=-1, qty_exponent=-2,
                 trades=[{"id": 9, "price": 10, "qty": 11, "is_buyer_maker": True}], symbol="X")
    assert got == trade, (got.hex(), trade.hex())
    diff = (le(26, 2) + le(10003, 2) + le(1, 2) + le(0, 2) + le(1, 8) + le(2, 8) + le(3, 8)
            + le(-8, 1) + le(-8, 1)
            + le(16, 2) + le(1, 2) + le(4, 8) + le(5, 8)                  # bids: groupSize16Encoding
            + le(16, 2) + le(0, 2)                                        # asks: empty
            + le(0, 1))                                                   # empty symbol
    got = encode("depth_diff", event_time=1, first_book_update_id=2, last_book_update_id=3,
                 price_exponent=-8, qty_exponent=-8, bids=[[4, 5]], asks=[], symbol="")
    assert got == diff, (got.hex(), diff.hex())
    snap = (le(18, 2) + le(10002, 2) + le(1, 2) + le(0, 2) + le(1, 8) + le(2, 8) + le(0, 1) + le(1, 1)
            + le(16, 2) + le(0, 2) + le(16, 2) + le(1, 2) + le(6, 8) + le(7, 8) + le(2, 1) + b"YZ")
    got = encode("depth_snapshot", event_time=1, book_update_id=2, price_exponent=0, qty_exponent=1,
                 bids=[], asks=[[6, 7]], symbol="YZ")
    assert got == snap, (got.hex(), snap.hex())
    # extension rules: a longer root / entry (later schema version) must still decode
    ext = encode("trade", event_time=5, transact_time=4, price_exponent=-1, qty_exponent=-2,
                 trades=[{"id": 9, "price": 10, "qty": 11, "is_buyer_maker": False}] * 2,
                 symbol="X", extra_root_bytes=6, extra_entry_bytes=3, version=1)
    dd = decode(ext)
    assert dd["block_length"] == 24 and dd["trades"][1]["qty"] == 11 and dd["symbol"] == "X", dd


def selfcheck(fixdir):
    _golden_checks()
    names = sorted(n[:-4] for n in os.listdir(fixdir) if n.endswith(".bin"))
    if not names:
        raise SystemExit("no .bin fixtures in %s" % fixdir)
    by_name = {n: (k, f) for n, k, f in FIXTURES}
    bad = 0
    for name in names:
        with open(os.path.join(fixdir, name + ".bin"), "rb") as fh:
            data = fh.read()
        jpath = os.path.join(fixdir, name + ".json")
        if not os.path.exists(jpath):
            print("MISSING JSON", name); bad += 1; continue
        with open(jpath, encoding="utf-8") as fh:
            want = json.load(fh)
        try:
            got = decode(data)
        except DecodeError as exc:
            print("FAIL", name, "decode error:", exc); bad += 1; continue
        problems = []
        for k, v in want.items():
            if k in ("decimal", "hex", "message"):
                continue
            if got.get(k) != v:
                problems.append("%s: json=%r decoded=%r" % (k, v, got.get(k)))
        extra = set(got) - set(want)
        if extra:
            problems.append("decoded keys absent from json: %s" % sorted(extra))
        if want.get("hex") is not None and want["hex"] != data.hex():
            problems.append("hex in json differs from .bin")
        if name in by_name:
            kind, fields = by_name[name]
            if encode(kind, **fields) != data:
                problems.append(".bin differs from a fresh encode()")
        if problems:
            bad += 1
            print("FAIL", name); [print("   ", p) for p in problems]
        else:
            print("ok   %-18s template %d, %d bytes" % (name, got["template_id"], len(data)))
    for hx in sorted(n for n in os.listdir(fixdir) if n.endswith(".hex")):
        print("note: %s present (docs example); not checked here" % hx)
    if bad:
        raise SystemExit("%d fixture(s) failed" % bad)
    print("selfcheck passed: %d fixtures + golden byte checks" % len(names))


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    default_dir = os.path.normpath(os.path.join(here, "..", "Fixtures", "binance-sbe"))
    if len(argv) >= 2 and argv[1] == "fixtures":
        write_fixtures(argv[2] if len(argv) > 2 else default_dir)
    elif len(argv) >= 2 and argv[1] == "selfcheck":
        selfcheck(argv[2] if len(argv) > 2 else default_dir)
    elif len(argv) == 4 and argv[1] == "hex":
        print(encode(argv[2], **json.loads(argv[3])).hex())
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
