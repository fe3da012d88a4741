"""A small HTTP proxy on 127.0.0.1 for tests: forwards absolute-URI requests (`GET
http://host/path`, what a client sends through `HTTP_PROXY`) and tunnels `CONNECT host:port`
(what it sends through `HTTPS_PROXY`), logging each. Names in `hosts` resolve to the given
(address, port), so a test can fetch `http://papers.example/` and reach its local server;
any other name is refused (502): no test reaches the internet.

    with LocalServer() as server, Proxy({"papers.example": ("127.0.0.1", server.port)}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        ... fetch http://papers.example/page ...
        assert proxy.log == ["GET http://papers.example/page"]
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class Proxy:
    def __init__(self, hosts: dict[str, tuple[str, int]]):
        self.hosts = hosts
        self.log: list[str] = []  # "METHOD target" of every request, in order
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def resolve(self, host: str) -> tuple[str, int] | None:
        return self.hosts.get(host.lower())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Proxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.log.append(f"GET {self.path}")
        target = urlsplit(self.path)
        where = owner.resolve(target.hostname or "")
        if target.scheme != "http" or where is None:
            self._refuse()
            return
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = "".join(
            f"{name}: {value}\r\n"
            for name, value in self.headers.items()
            if name.lower() not in ("proxy-connection", "connection", "proxy-authorization")
        )
        request = f"GET {path or '/'} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"
        with socket.create_connection(where, timeout=10) as upstream:
            upstream.sendall(request.encode("latin-1"))
            self.close_connection = True
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)

    def do_CONNECT(self) -> None:
        owner = self.server.owner
        owner.log.append(f"CONNECT {self.path}")
        where = owner.resolve(self.path.rpartition(":")[0])
        if where is None:
            self._refuse()
            return
        with socket.create_connection(where, timeout=10) as upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            _relay(self.connection, upstream)

    def _refuse(self) -> None:
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    with contextlib.suppress(OSError):
        while True:
            ready, _, _ = select.select([a, b], [], [], 10)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
