"""A server that follows the Autobahn|Testsuite fuzzingserver URL contract
(/getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A) with a small
set of cases modelled on the suite's sections 1-7. It judges the client as the
suite does: echoes must match, violations must be failed with the right close
code (or a dropped TCP connection), close handshakes must complete.
Prints READY <port>, then REPORT <agent> <passed> <total> <failed ids> at /updateReports.
"""
import asyncio, base64, hashlib, os, struct, sys
from urllib.parse import urlparse, parse_qs

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

def frame(op, payload=b"", fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    if n < 126: h = struct.pack("!BB", b0, n)
    elif n < 65536: h = struct.pack("!BBH", b0, 126, n)
    else: h = struct.pack("!BBQ", b0, 127, n)
    return h + payload

def close(code, reason=b""):
    return frame(8, struct.pack("!H", code) + reason)

async def read_frame(r):
    b0, b1 = await r.readexactly(2)
    n = b1 & 0x7F
    if n == 126: n = struct.unpack("!H", await r.readexactly(2))[0]
    elif n == 127: n = struct.unpack("!Q", await r.readexactly(8))[0]
    if not b1 & 0x80:
        raise ValueError("client frame not masked")
    mask = await r.readexactly(4)
    data = bytes(c ^ mask[i % 4] for i, c in enumerate(await r.readexactly(n)))
    return b0 & 0x0F, bool(b0 & 0x80), data

async def read_message(r):
    """Next data message (reassembled) or ('close', code); pongs are returned as ('pong', data)."""
    parts, op0 = [], None
    while True:
        op, fin, data = await read_frame(r)
        if op == 8:
            return "close", (struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005)
        if op == 10:
            return "pong", data
        if op in (1, 2):
            op0 = op
        parts.append(data)
        if fin:
            return ("text" if op0 == 1 else "binary"), b"".join(parts)

BIG = os.urandom(65536)
# (name, frames to send, expected reply: ("echo", kind, data) | ("fail", code) | ("pong", data))
CASES = [
    ("1.1.1 text", [frame(1, b"Hello")], ("echo", "text", b"Hello")),
    ("1.2.1 binary", [frame(2, bytes(range(256)) * 4)], ("echo", "binary", bytes(range(256)) * 4)),
    ("1.1.8 64 KiB text", [frame(1, base64.b64encode(BIG)[:65536])], ("echo", "text", base64.b64encode(BIG)[:65536])),
    ("2.2 ping", [frame(9, b"ping-payload")], ("pong", b"ping-payload")),
    ("5.3 fragmented text", [frame(1, b"frag", fin=False), frame(0, b"men", fin=False), frame(0, b"ted")], ("echo", "text", b"fragmented")),
    ("5.6 ping inside fragments", [frame(1, b"a", fin=False), frame(9, b"x"), frame(0, b"b")], ("pong", b"x")),
    ("6.3.1 invalid UTF-8", [frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")], ("fail", 1007)),
    ("3.1 reserved bit", [frame(1, b"x", rsv=4)], ("fail", 1002)),
    ("4.1.1 reserved opcode", [frame(3)], ("fail", 1002)),
    ("2.5 ping over 125 bytes", [frame(9, b"x" * 126)], ("fail", 1002)),
    ("5.1 fragmented ping", [frame(9, b"x", fin=False)], ("fail", 1002)),
    ("7.9.1 close code 0", [frame(8, b"\x00\x00")], ("fail", 1002)),
    ("7.5.1 close reason not UTF-8", [frame(8, b"\x03\xe8\xff")], ("fail", 1007)),
]
results = {}

async def run_case(idx, r, w):
    name, frames, expect = CASES[idx]
    for f in frames:
        w.write(f)
    await w.drain()
    try:
        if expect[0] == "fail":
            kind, val = await asyncio.wait_for(read_message(r), 5)
            return kind == "close" and val == expect[1]
        kind, val = await asyncio.wait_for(read_message(r), 5)
        if expect[0] == "pong":
            ok = kind == "pong" and val == expect[1]
            if ok and name.startswith("5.6"):      # the fragmented message must still be echoed
                kind, val = await asyncio.wait_for(read_message(r), 5)
                ok = kind == "text" and val == b"ab"
        else:
            ok = kind == expect[1] and val == expect[2]
        # Then a clean close handshake, initiated by the server.
        w.write(close(1000, b"done"))
        await w.drain()
        kind, val = await asyncio.wait_for(read_message(r), 5)
        return ok and kind == "close" and val == 1000
    except (asyncio.IncompleteReadError, ConnectionResetError):
        return expect[0] == "fail"                 # dropping TCP is also a valid failure
    except asyncio.TimeoutError:
        return False

async def client(r, w):
    head = (await r.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    url = urlparse(head[0].split(" ")[1])
    q = parse_qs(url.query)
    key = next(l.split(":", 1)[1].strip() for l in head if l.lower().startswith("sec-websocket-key:"))
    acc = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    w.write(f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {acc}\r\n\r\n".encode())
    try:
        if url.path == "/getCaseCount":
            w.write(frame(1, str(len(CASES)).encode()) + close(1000))
            await w.drain()
            await asyncio.wait_for(read_message(r), 5)
        elif url.path == "/runCase":
            n = int(q["case"][0])
            results.setdefault(q["agent"][0], {})[n] = await run_case(n - 1, r, w)
        elif url.path == "/updateReports":
            agent = q["agent"][0]
            res = results.get(agent, {})
            failed = [str(k) for k, v in sorted(res.items()) if not v]
            print(f"REPORT {agent} {sum(res.values())} {len(CASES)} {','.join(failed) or '-'}", flush=True)
            w.write(close(1000))
            await w.drain()
            await asyncio.wait_for(read_message(r), 5)
    except Exception:
        pass
    w.close()

async def main():
    srv = await asyncio.start_server(client, "127.0.0.1", 0)
    print(f"READY {srv.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
