"""Serve the built site over HTTP for a local look; loopback only unless another host is asked for."""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from reportgen.errors import ReportgenError

DEFAULT_HOST = "127.0.0.1"  # never all interfaces by default: a report may not be meant for the LAN


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def make_server(site_dir: Path, host: str = DEFAULT_HOST, port: int = 8000) -> ThreadingHTTPServer:
    """Return an HTTP server of the site folder, bound to host:port (port 0: any free port)."""
    site_dir = Path(site_dir)
    if not (site_dir / "index.html").is_file():
        raise ReportgenError(f"{site_dir}: no site to serve (no index.html); run reportgen build first")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site_dir))
    server_class = _Server
    if ":" in host:
        server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
    try:
        return server_class((host, port), handler)
    except OSError as e:
        raise ReportgenError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None


def url_of(server: ThreadingHTTPServer) -> str:
    """Return the URL of the site's index on a server."""
    host, port = server.server_address[:2]
    return f"http://[{host}]:{port}/" if ":" in str(host) else f"http://{host}:{port}/"


def serve(
    site_dir: Path,
    host: str = DEFAULT_HOST,
    port: int = 8000,
    on_ready: Callable[[str], None] = lambda _: None,
) -> None:
    """Serve the site until interrupted (Ctrl-C)."""
    with make_server(site_dir, host, port) as server:
        on_ready(url_of(server))
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
