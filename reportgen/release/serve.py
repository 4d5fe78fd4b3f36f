"""Serve the built site over HTTP for a local look; loopback only unless another host is asked for.

Only the site is served: hidden files and folders (the staging folders of a build in progress or
killed, temporary files) answer 404, and folders are never listed."""

from __future__ import annotations

import functools
import socket
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from reportgen.errors import ReportgenError

DEFAULT_HOST = "127.0.0.1"  # never all interfaces by default: a report may not be meant for the LAN


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _SiteHandler(SimpleHTTPRequestHandler):
    """The standard file handler, without hidden paths and without folder listings."""

    def send_head(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if any(part.startswith(".") for part in path.split("/")):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None


def make_server(site_dir: Path, host: str = DEFAULT_HOST, port: int = 8000) -> ThreadingHTTPServer:
    """Return an HTTP server of the site folder, bound to host:port (port 0: any free port)."""
    site_dir = Path(site_dir)
    if not (site_dir / "index.html").is_file():
        raise ReportgenError(f"{site_dir}: no site to serve (no index.html); run reportgen build first")
    handler = functools.partial(_SiteHandler, directory=str(site_dir))
    server_class = _Server6 if ":" in host else _Server
    try:
        return server_class((host, port), handler)
    except OSError as e:
        raise ReportgenError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None


def url_of(server: ThreadingHTTPServer) -> str:
    """Return the URL of the site's index on a server."""
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else host
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
