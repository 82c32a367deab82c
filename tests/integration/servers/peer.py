"""A scripted TCP peer for one connection: for replies no real server gives on demand
(a refused greeting, a cut TLS handshake, a hang-up before QUIT)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def scripted_peer(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """Listen on 127.0.0.1 and yield the port; ``handle(conn)`` speaks for the peer on
    the first connection (10 s socket timeout; errors of a client gone are ignored)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):
            conn.settimeout(10)
            handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(10)
        listener.close()
