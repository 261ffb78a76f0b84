"""An independent sans-I/O WebSocket peer for the e2e tests: Python's `wsproto` (Debian's
python3-wsproto) over a plain socket. It runs the handshake, sends a text message in three
fragments with a ping between them, a binary message, and a close, and prints one JSON line with
every event it received."""

import json
import socket
import sys

from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Message, Ping, Pong, Request,
                            TextMessage)


def main(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host=f"127.0.0.1:{port}", target="/wsproto")))
    seen: list = []
    closed = False

    def pump() -> None:
        nonlocal closed
        data = sock.recv(65536)
        ws.receive_data(data or None)
        for event in ws.events():
            if isinstance(event, AcceptConnection):
                seen.append({"type": "accept"})
            elif isinstance(event, TextMessage):
                seen.append({"type": "text", "data": event.data, "final": event.message_finished})
            elif isinstance(event, BytesMessage):
                seen.append({"type": "bytes", "data": event.data.hex(), "final": event.message_finished})
            elif isinstance(event, Pong):
                seen.append({"type": "pong", "data": event.payload.hex()})
            elif isinstance(event, CloseConnection):
                seen.append({"type": "close", "code": event.code, "reason": event.reason})
                closed = True
        if not data:
            closed = True

    pump()
    sock.sendall(ws.send(Message(data="one ", message_finished=False)))
    sock.sendall(ws.send(Ping(payload=b"between")))
    sock.sendall(ws.send(Message(data="two ", message_finished=False)))
    sock.sendall(ws.send(Message(data="three", message_finished=True)))
    sock.sendall(ws.send(Message(data=b"\x00\x01\x02")))
    while len([e for e in seen if e["type"] in ("text", "bytes", "pong")]) < 3:
        pump()
    sock.sendall(ws.send(CloseConnection(code=1000, reason="bye")))
    while not closed:
        pump()
    # After the close handshake the server closes TCP first (RFC 6455 §7.1.1).
    seen.append({"type": "eof", "clean": sock.recv(1) == b""})
    print(json.dumps(seen))


main(int(sys.argv[1]))
