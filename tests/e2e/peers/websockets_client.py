"""An independent WebSocket client for the e2e tests: Python's `websockets` (Debian's
python3-websockets). It connects to the URL given, offers permessage-deflate (the library's
default) and the subprotocols given, echoes messages of several sizes, text and binary, checks
each answer, pings, closes with 1000, and prints one JSON line with what it saw."""

import asyncio
import json
import sys

import websockets


async def main(url: str, protocols: list[str]) -> None:
    sizes = [0, 1, 125, 126, 65535, 65536, 1 << 20]
    async with websockets.connect(url, subprotocols=protocols or None, max_size=None) as ws:
        seen = {"protocol": ws.subprotocol, "extensions": ws.response_headers.get("Sec-WebSocket-Extensions")}
        echoed = 0
        for size in sizes:
            text = ("héllo wörld " * (size // 13 + 1))[:size]
            await ws.send(text)
            if await ws.recv() != text:
                raise SystemExit(f"text of {size} characters came back changed")
            data = bytes((i * 7) & 0xFF for i in range(size))
            await ws.send(data)
            if await ws.recv() != data:
                raise SystemExit(f"binary of {size} bytes came back changed")
            echoed += 2
        # A fragmented message: websockets sends an iterable as fragments.
        await ws.send(["frag", "mented"])
        seen["fragmented"] = await ws.recv()
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        seen["echoed"] = echoed
        await ws.close(1000, "done")
        seen["close_code"] = ws.close_code
        seen["close_reason"] = ws.close_reason
    print(json.dumps(seen))


asyncio.run(main(sys.argv[1], sys.argv[2:]))
