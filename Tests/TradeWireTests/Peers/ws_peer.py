"""Independent WebSocket peer for TradeWire's interop tests.

Two servers in one process:
  * a `websockets` server (ws:// or, with --cert/--key, wss://) whose path picks a scenario;
  * a raw TCP server that answers the upgrade by hand and then writes bytes given in
    the path (/raw/<hex>), so tests can send what no library would (masked server
    frames, reserved bits, bad UTF-8...). It prints what the client sends back as
    `CLIENT-CLOSE <code>` / `CLIENT-EOF` lines, so tests can check the close code.

Prints `READY <ws_port> <raw_port>` once both listen.
"""
import argparse
import asyncio
import base64
import hashlib
import ssl
import struct
import sys
from http import HTTPStatus
from urllib.parse import urlparse, parse_qs

from websockets.asyncio.server import serve

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BIG = bytes((i * 31 + 7) & 0xFF for i in range(1 << 20))


def say(line):
    print(line, flush=True)


async def handler(ws):
    url = urlparse(ws.request.path)
    q = parse_qs(url.query)
    path = url.path
    if path == "/echo":
        async for msg in ws:
            await ws.send(msg)
    elif path == "/fragmented":
        await ws.send(["frag-1 ", "frag-2 ", "frag-3 \u00e9\u20ac"])   # text in 3 fragments
        await ws.send([b"\x01\x02", b"", b"\x03"])                    # binary in 3 fragments
        async for msg in ws:
            await ws.send(msg)
    elif path == "/ping":
        waiter = await ws.ping(b"tw-ping")
        await waiter                                                  # our client must answer
        await ws.send("pong received")
        async for _ in ws:
            pass
    elif path == "/close":
        await ws.close(int(q.get("code", ["1000"])[0]), q.get("reason", ["bye"])[0])
    elif path == "/big":
        await ws.send(BIG)
        async for msg in ws:
            say(f"BIG-ECHO-OK {msg == BIG}")
            await ws.send(msg)
    elif path == "/headers":
        await ws.send(ws.request.headers.get("Authorization", "<none>"))
        async for _ in ws:
            pass
    else:
        await ws.close(1008, "unknown path")


def process_request(connection, request):
    if request.path.startswith("/unauthorized"):
        return connection.respond(HTTPStatus.UNAUTHORIZED, "bearer token rejected\n")
    return None


async def raw_client(reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except Exception:
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    key = next((l.split(":", 1)[1].strip() for l in lines if l.lower().startswith("sec-websocket-key:")), "")
    accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    if path.startswith("/bad-accept"):
        accept = base64.b64encode(b"\x00" * 20).decode()
    writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
    if path.startswith("/raw/"):
        writer.write(bytes.fromhex(path[5:]))
    await writer.drain()
    # Report the client's first close frame (client frames are masked).
    try:
        while True:
            b0, b1 = await reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", await reader.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", await reader.readexactly(8))[0]
            mask = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
            data = bytes(c ^ mask[i % 4] for i, c in enumerate(await reader.readexactly(n)))
            if b0 & 0x0F == 0x8:
                code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else 1005
                say(f"CLIENT-CLOSE {code}")
                break
    except asyncio.IncompleteReadError:
        say("CLIENT-EOF")
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    ctx = None
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
    async with serve(handler, "127.0.0.1", 0, ssl=ctx, max_size=None, compression=None,
                     process_request=process_request, ping_interval=None) as server:
        raw = await asyncio.start_server(raw_client, "127.0.0.1", 0)
        ws_port = server.sockets[0].getsockname()[1]
        raw_port = raw.sockets[0].getsockname()[1]
        say(f"READY {ws_port} {raw_port}")
        await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
