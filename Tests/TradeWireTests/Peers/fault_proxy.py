"""A TCP proxy between a client and a venue that misbehaves as a bad network path does.

Faults are handed out in the order of --faults, each to the first connection that has carried a random
number of bytes from the venue (seeded) since it opened; once all are spent, connections are healthy.
(By traffic, not by the order of connections: a stray connection to the port takes no fault.) The fault
  cut    forwards half of the venue's next chunk (a frame cut in two), then closes both sides;
  reset  resets the client's side (RST) and closes the venue's;
  stall  forwards nothing either way, keeping what the client sends; once the client has given up on
         the connection, it delivers those bytes to the venue --flush-after seconds later (an old
         path's bytes reaching the venue after the client reconnected), then closes;
  drip   forwards the venue's next --drip-bytes bytes one per millisecond.
Prints "READY <port>", then one "FAULT <n> <mode>" line per fault as it happens.
"""
import argparse
import asyncio
import random
import socket
import struct
import sys



class Path:
    def __init__(self, n, take_fault, args, rng, client_reader, client_writer, venue_reader, venue_writer):
        self.n, self.take_fault, self.args = n, take_fault, args
        self.mode = "armed"
        self.trip_at = rng.randint(args.trip_min, args.trip_max)
        self.cr, self.cw, self.vr, self.vw = client_reader, client_writer, venue_reader, venue_writer
        self.down = 0
        self.stalled = False
        self.held = bytearray()
        self.client_gone = asyncio.Event()

    def announce(self):
        print(f"FAULT {self.n} {self.mode}", flush=True)

    async def upstream(self):
        """Client to venue: forwarded, or held while stalled."""
        try:
            while True:
                data = await self.cr.read(65536)
                if not data:
                    break
                if self.stalled:
                    self.held += data
                    continue
                self.vw.write(data)
                await self.vw.drain()
        except (ConnectionError, OSError):
            pass
        self.client_gone.set()
        if self.stalled:
            await asyncio.sleep(self.args.flush_after)
            try:
                self.vw.write(bytes(self.held))
                await self.vw.drain()
                await asyncio.sleep(0.2)     # let the venue read them before it sees the close
            except (ConnectionError, OSError):
                pass
        try:
            self.vw.close()
        except Exception:
            pass

    async def downstream(self):
        """Venue to client, with the fault."""
        try:
            while True:
                data = await self.vr.read(65536)
                if not data:
                    break
                if self.mode == "armed" and self.down + len(data) >= self.trip_at:
                    self.mode = self.take_fault()
                    if self.mode is not None:
                        self.announce()
                if self.mode in (None, "armed"):
                    self.down += len(data)
                    self.cw.write(data)
                    await self.cw.drain()
                    continue
                if self.mode == "cut":
                    self.cw.write(data[: max(1, len(data) // 2)])
                    await self.cw.drain()
                    self.cw.close()
                    self.vw.close()
                    return
                if self.mode == "reset":
                    sock = self.cw.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.cw.transport.abort()
                    self.vw.close()
                    return
                if self.mode == "stall":
                    self.stalled = True
                    # Nothing more reaches the client; the venue's answers are dropped.
                    while not self.client_gone.is_set():
                        more = await self.vr.read(65536)
                        if not more:
                            break
                    try:
                        self.cw.close()
                    except Exception:
                        pass
                    return
                if self.mode == "drip":
                    self.mode = None
                    slow = data[: self.args.drip_bytes]
                    for i in range(len(slow)):
                        self.cw.write(slow[i:i + 1])
                        await self.cw.drain()
                        await asyncio.sleep(0.001)
                    self.cw.write(data[len(slow):])
                    await self.cw.drain()
                    self.down += len(data)
        except (ConnectionError, OSError):
            pass
        try:
            self.cw.close()
        except Exception:
            pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--faults", default="cut,reset,stall,drip")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trip-min", type=int, default=2000)
    ap.add_argument("--trip-max", type=int, default=12000)
    ap.add_argument("--flush-after", type=float, default=0.25)
    ap.add_argument("--drip-bytes", type=int, default=600)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    faults = [f for f in args.faults.split(",") if f]
    count = 0

    def take_fault():
        return faults.pop(0) if faults else None

    async def handle(cr, cw):
        nonlocal count
        count += 1
        n = count
        try:
            vr, vw = await asyncio.open_connection("127.0.0.1", args.upstream_port)
        except OSError:
            cw.close()
            return
        for w in (cw, vw):
            w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        path = Path(n, take_fault, args, rng, cr, cw, vr, vw)
        await asyncio.gather(path.upstream(), path.downstream())

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
