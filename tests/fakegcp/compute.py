"""The fake's Compute Engine API, over REST (Compute speaks no gRPC), on the same port as its gRPC APIs.

`FrontDoor` listens on the fake's public port and looks at the first bytes of each connection: an HTTP/2 preface
(`PRI * HTTP/2.0`, what every gRPC client sends first) is spliced through to the gRPC server on its own internal
port; anything else is an HTTP/1.1 client, served here by `ComputeHandler`. So one `--endpoint HOST:PORT` reaches
both, as driftcheck sends gRPC to it and Compute's REST calls to `http://HOST:PORT`.

Served, as the real API answers (the exported JSON as is, `nextPageToken` paging on `maxResults`/`pageToken`):
`networks.get`, `subnetworks.get`, `routers.get`, `routers.list`, `firewalls.list`. Calls are recorded and faults
injected as for the gRPC methods, by the short names in `METHODS` ("ListFirewalls", "GetNetwork"...), on the
resource names recorded (`projects/P/global/networks/N`, `projects/P/regions/R` for a router listing, `projects/P`
for a firewall listing). A fault's gRPC code is answered with its HTTP status and Google's JSON error body.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from .server import FakeGcpServer

_PREFIX = "/compute/v1/"
# (short method name, path pattern below /compute/v1/, what its resource is recorded as)
_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GetNetwork", re.compile(r"^projects/(?P<project>[^/]+)/global/networks/(?P<name>[^/]+)$")),
    (
        "GetSubnetwork",
        re.compile(r"^projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/subnetworks/(?P<name>[^/]+)$"),
    ),
    ("GetRouter", re.compile(r"^projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/routers/(?P<name>[^/]+)$")),
    ("ListRouters", re.compile(r"^projects/(?P<project>[^/]+)/regions/(?P<region>[^/]+)/routers$")),
    ("ListFirewalls", re.compile(r"^projects/(?P<project>[^/]+)/global/firewalls$")),
)
_LISTED = re.compile(r"(/routers|/global/firewalls)$")
# The IAM permission each method needs: an injected PERMISSION_DENIED names it, as the real API does.
METHODS = {
    "GetNetwork": "compute.networks.get",
    "GetSubnetwork": "compute.subnetworks.get",
    "GetRouter": "compute.routers.get",
    "ListRouters": "compute.routers.list",
    "ListFirewalls": "compute.firewalls.list",
}
_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "invalid"),
    grpc.StatusCode.UNAUTHENTICATED: (401, "required"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "forbidden"),
    grpc.StatusCode.NOT_FOUND: (404, "notFound"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "rateLimitExceeded"),
    grpc.StatusCode.UNIMPLEMENTED: (501, "notImplemented"),
    grpc.StatusCode.UNAVAILABLE: (503, "backendError"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "deadlineExceeded"),
}
_PREFACE = b"PRI "  # the start of the HTTP/2 connection preface


class ComputeError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def compute_response(fake: FakeGcpServer, path: str, query: dict[str, str]) -> dict[str, Any]:
    """The JSON answer to one GET, or ComputeError; the call is recorded and its faults applied first."""
    relative = path[len(_PREFIX) :] if path.startswith(_PREFIX) else None
    route = next(((m, p.match(relative)) for m, p in _ROUTES if relative is not None and p.match(relative)), None)
    if route is None:
        fake._record("UNIMPLEMENTED", path)
        raise ComputeError(grpc.StatusCode.UNIMPLEMENTED, f"The fake Compute API does not serve {path}.")
    method, match = route
    assert match is not None and relative is not None
    name = _LISTED.sub("", relative)  # a listing is recorded as its parent: projects/P/regions/R, projects/P
    fake._record(method, name)
    fault = fake._fault_for(method, f"compute.v1/{method}", name)
    if fault is not None and fault.delay:
        threading.Event().wait(fault.delay)
    if fault is not None and fault.code is not None:
        from .server import _message

        raise ComputeError(fault.code, fault.message or _message(fault.code, method, name))
    world, project = fake.world, fake.world.project_id(match["project"])
    if method == "GetNetwork":
        return _found(world.networks.get((project, match["name"])), relative)
    if method == "GetSubnetwork":
        return _found(world.subnetworks.get((project, match["region"], match["name"])), relative)
    if method == "GetRouter":
        return _found(world.routers.get((project, match["region"], match["name"])), relative)
    if method == "ListRouters":
        routers = [
            r for (p, region, _), r in sorted(world.routers.items()) if (p, region) == (project, match["region"])
        ]
        return _page(fake, "compute#routerList", routers, query, relative)
    firewalls = [r for (p, _), r in sorted(world.firewalls.items()) if p == project]
    return _page(fake, "compute#firewallList", firewalls, query, relative)


def _found(resource: dict[str, Any] | None, relative: str) -> dict[str, Any]:
    if resource is None:
        raise ComputeError(grpc.StatusCode.NOT_FOUND, f"The resource '{relative}' was not found")
    return resource


def _page(fake: FakeGcpServer, kind: str, items: list[Any], query: dict[str, str], relative: str) -> dict[str, Any]:
    if query.get("filter"):
        raise ComputeError(grpc.StatusCode.INVALID_ARGUMENT, "The fake Compute API does not filter lists.")
    size = int(query.get("maxResults") or 0) or fake.page_size
    start = 0
    if query.get("pageToken"):
        token = re.fullmatch(r"page-(\d+)", query["pageToken"])
        if token is None:
            raise ComputeError(
                grpc.StatusCode.INVALID_ARGUMENT, f"Invalid value for field 'pageToken': {query['pageToken']!r}."
            )
        start = int(token[1])
    end = start + max(1, size)
    answer: dict[str, Any] = {"kind": kind, "id": relative, "items": items[start:end], "selfLink": relative}
    if end < len(items):
        answer["nextPageToken"] = f"page-{end}"
    return answer


class ComputeHandler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection of a REST client (keep-alive, as `requests` uses it)."""

    protocol_version = "HTTP/1.1"
    fake: FakeGcpServer  # set on the subclass FrontDoor makes

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = {key: values[-1] for key, values in urllib.parse.parse_qs(url.query).items()}
        fake = self.fake
        with fake._lock:
            fake.in_flight += 1
            fake.max_concurrency = max(fake.max_concurrency, fake.in_flight)
        try:
            if fake.latency:
                threading.Event().wait(fake.latency)
            status, body = 200, compute_response(fake, urllib.parse.unquote(url.path), query)
        except ComputeError as error:
            status, reason = _HTTP_STATUS.get(error.code, (500, "backendError"))
            errors = [{"message": error.message, "domain": "global", "reason": reason}]
            body = {"error": {"code": status, "message": error.message, "errors": errors}}
        finally:
            with fake._lock:
                fake.in_flight -= 1
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the fake records calls in `calls`, not on stderr


class FrontDoor:
    """The fake's public port: gRPC connections go through to `grpc_port`, HTTP/1.1 ones to the Compute fake."""

    def __init__(self, fake: FakeGcpServer, grpc_port: int, port: int = 0) -> None:
        self.grpc_port = grpc_port
        self.handler = type("Handler", (ComputeHandler,), {"fake": fake})
        self.listener = socket.create_server(("127.0.0.1", port), backlog=128)
        self.port: int = self.listener.getsockname()[1]
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, name="fakegcp-front", daemon=True)

    def start(self) -> FrontDoor:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            sockets = [self.listener, *self.open]
        for sock in sockets:
            _close(sock)
        self.thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed by stop()
            if not self._track(conn):
                return
            threading.Thread(target=self._serve, args=(conn,), name="fakegcp-conn", daemon=True).start()

    def _track(self, sock: socket.socket) -> bool:
        with self.lock:
            if self.stopped:
                _close(sock)
                return False
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.open.add(sock)
            return True

    def _forget(self, *socks: socket.socket) -> None:
        with self.lock:
            for sock in socks:
                self.open.discard(sock)
        for sock in socks:
            _close(sock)

    def _serve(self, conn: socket.socket) -> None:
        try:
            first = _peek(conn, len(_PREFACE))
            if first.startswith(_PREFACE):
                self._splice(conn)
            elif first:
                self.handler(conn, conn.getpeername(), self)
        except OSError:
            pass
        finally:
            self._forget(conn)

    def _splice(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.grpc_port))
        if not self._track(upstream):
            return
        back = threading.Thread(target=_pump, args=(upstream, conn, self._forget), daemon=True)
        back.start()
        _pump(conn, upstream, self._forget)
        back.join()


def _peek(conn: socket.socket, size: int) -> bytes:
    """The first `size` bytes the client sent (fewer at end of stream), left in the socket to be read."""
    while True:
        data = conn.recv(size, socket.MSG_PEEK)
        if len(data) >= size or not data:
            return data
        threading.Event().wait(0.001)


def _pump(source: socket.socket, sink: socket.socket, forget: Callable[..., None]) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        forget(source, sink)  # either side ending ends the connection


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
