#!/usr/bin/env python3
"""An independent Kraken `level3` feed for the tests: a seeded random order-by-order book, written as the venue
writes it (a snapshot, then updates of add/modify/delete events), each message with the checksum this script
computes itself as the "L3 checksum (WebSocket v2)" guide defines it. It keeps the book as the channel page says a
client must: adds at the back of their level, modifies in place, empty levels removed, the book truncated to the
subscribed depth with no delete sent for what falls out, and the orders of a level that comes back into the window
sent again as adds. Prints one JSON message per line, then a last line {"final": {"bids": ..., "asks": ...}}.

    kraken_level3_stream.py SEED MESSAGES [DEPTH]
"""
import json
import random
import sys
import zlib
from decimal import Decimal

PRICE_PLACES, QTY_PLACES = 1, 8
SYMBOL = "BTC/USD"


def text(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def checksum_digits(value: Decimal, places: int) -> str:
    return text(value, places).replace(".", "").lstrip("0")


class Venue:
    """The venue's full book (every order) and, per client, the window of `depth` levels it has been sent."""

    def __init__(self, rng: random.Random, depth: int):
        self.rng, self.depth = rng, depth
        self.book = {"bids": {}, "asks": {}}     # side -> price -> [[id, qty], ...] in queue order
        self.sent = {"bids": {}, "asks": {}}     # what the client holds: the top `depth` levels
        self.next_id = 0

    def new_id(self) -> str:
        self.next_id += 1
        return f"O{self.next_id:05d}-L3TST-{self.rng.randrange(16**6):06X}"

    def top(self, side: str):
        prices = sorted(self.book[side], reverse=(side == "bids"))
        return prices[: self.depth]

    def window(self, side: str):
        return {p: [list(o) for o in self.book[side][p]] for p in self.top(side)}

    def checksum(self, held) -> int:
        s = ""
        for side, reverse in (("asks", False), ("bids", True)):
            for p in sorted(held[side], reverse=reverse)[:10]:
                for oid, q in held[side][p]:
                    s += checksum_digits(p, PRICE_PLACES) + checksum_digits(q, QTY_PLACES)
        return zlib.crc32(s.encode()) & 0xFFFFFFFF

    @staticmethod
    def order_json(oid, price, qty, event=None):
        o = {"order_id": oid, "limit_price": float(price) if random.random() < 0.5 else text(price, PRICE_PLACES),
             "order_qty": text(qty, QTY_PLACES), "timestamp": "2026-12-06T07:00:00.000000000Z"}
        if event:
            o = {"event": event, **o}
        return o

    def seed_book(self):
        mid = Decimal("50000.0")
        for side, sign in (("bids", -1), ("asks", 1)):
            for k in range(1, self.depth + 6):
                price = mid + sign * Decimal(k) * Decimal("0.5")
                self.book[side][price] = [[self.new_id(), self.qty()] for _ in range(self.rng.randint(1, 3))]

    def qty(self) -> Decimal:
        return Decimal(self.rng.randint(1, 500_000_000)) / Decimal(10**QTY_PLACES)

    def snapshot(self):
        self.sent = {s: self.window(s) for s in ("bids", "asks")}
        entry = {"symbol": SYMBOL, "checksum": self.checksum(self.sent),
                 "bids": [self.order_json(o[0], p, o[1]) for p in self.top("bids") for o in self.book["bids"][p]],
                 "asks": [self.order_json(o[0], p, o[1]) for p in self.top("asks") for o in self.book["asks"][p]]}
        return {"channel": "level3", "type": "snapshot", "data": [entry]}

    def mutate(self):
        """One venue event somewhere in the book (inside or outside the client's window)."""
        side = self.rng.choice(("bids", "asks"))
        levels = self.book[side]
        r = self.rng.random()
        if r < 0.4 or not levels:
            best = max(levels) if side == "bids" and levels else min(levels) if levels else Decimal("50000.0")
            step = Decimal(self.rng.randint(-3, 12)) * Decimal("0.5")
            price = best - step if side == "bids" else best + step
            other = self.book["asks" if side == "bids" else "bids"]
            if other and ((side == "bids" and price >= min(other)) or (side == "asks" and price <= max(other))):
                return                              # never cross the book
            levels.setdefault(price, []).append([self.new_id(), self.qty()])
        elif r < 0.7:
            price = self.rng.choice(list(levels))
            order = self.rng.choice(levels[price])
            # A partial fill: the remaining quantity, at the pair's precision.
            order[1] = max(Decimal("0.00000001"), (order[1] / 2).quantize(Decimal(10) ** -QTY_PLACES))
        else:
            price = self.rng.choice(list(levels))
            queue = levels[price]
            queue.pop(self.rng.randrange(len(queue)))
            if not queue:
                del levels[price]

    def update(self, events: int):
        """A message: several venue events, then what the client's window gained, changed and lost."""
        for _ in range(events):
            self.mutate()
        entry = {"symbol": SYMBOL, "bids": [], "asks": []}
        for side in ("bids", "asks"):
            old, new = self.sent[side], self.window(side)
            old_ids = {o[0]: (p, o[1]) for p, q in old.items() for o in q}
            new_ids = {o[0]: (p, o[1]) for p, q in new.items() for o in q}
            for oid, (p, q) in old_ids.items():
                if oid not in new_ids and p in self.book[side] and any(o[0] == oid for o in self.book[side][p]):
                    continue                        # still at the venue, out of the window: no delete is sent
                if oid not in new_ids:
                    entry[side].append(self.order_json(oid, p, q, "delete"))
            for p in (sorted(new, reverse=(side == "bids"))):
                for oid, q in new[p]:
                    if oid not in old_ids:
                        entry[side].append(self.order_json(oid, p, q, "add"))
                    elif old_ids[oid][1] != q:
                        entry[side].append(self.order_json(oid, p, q, "modify"))
            self.sent[side] = new
        entry["checksum"] = self.checksum(self.sent)
        return {"channel": "level3", "type": "update", "data": [entry]}


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    rng = random.Random(seed)
    random.seed(seed + 1)
    v = Venue(rng, depth)
    v.seed_book()
    print(json.dumps(v.snapshot(), separators=(",", ":")))
    for _ in range(count):
        print(json.dumps(v.update(rng.randint(1, 4)), separators=(",", ":")))
    final = {s: [[text(p, PRICE_PLACES), [[o[0], text(o[1], QTY_PLACES)] for o in v.sent[s][p]]]
                 for p in sorted(v.sent[s], reverse=(s == "bids"))] for s in ("bids", "asks")}
    print(json.dumps({"final": final}, separators=(",", ":")))


if __name__ == "__main__":
    main()
