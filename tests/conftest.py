"""Shared fixtures: the CLI run in-process, Debian's headless Chromium driven by Playwright, a local HTTP server,
the demo and v1 results documents."""

from __future__ import annotations

import functools
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium_browser():
    """Return a headless Chromium; fail (never skip) when it is not installed."""
    if not Path(CHROMIUM).is_file() and not shutil.which("chromium"):
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium) before the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Serve tmp_path on 127.0.0.1 at a random port; yield (folder, base URL)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def reportgen(monkeypatch, capsys):
    """Run the CLI in this process through main(), in ``cwd`` if given; return (exit code, stdout, stderr)."""
    from reportgen.cli import main

    def run(*args: object, cwd: Path | None = None) -> tuple[int, str, str]:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["reportgen", *map(str, args)])
        with pytest.raises(SystemExit) as exit_info:
            main()
        out, err = capsys.readouterr()
        return exit_info.value.code, out, err

    return run


@pytest.fixture
def demo() -> dict:
    """The real results document of the 8-backend demo (tests/data/results_demo.json), as read_results gives it."""
    from reportgen.results.document import read_results

    return read_results(Path(__file__).parent / "data" / "results_demo.json")


@pytest.fixture
def v1() -> dict:
    """The older hand-written schema-1 document (tests/data/results_v1.json), upgraded by read_results."""
    from reportgen.results.document import read_results

    return read_results(Path(__file__).parent / "data" / "results_v1.json")


# Hypothesis profiles for the property tests (tests/test_config_fuzz.py): "ci" in `make test`, a few
# hundred examples in all; HYPOTHESIS_PROFILE=thorough for a long run (thousands per test). No example
# database (it would write .hypothesis/ into the checkout): a failure prints the seed to reproduce it.
import os  # noqa: E402

from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_hypothesis_settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
