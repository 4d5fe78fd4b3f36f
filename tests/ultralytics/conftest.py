"""Collect these tests only where ultralytics is installed: its own environment (`make test-ultralytics`).

Ultralytics brings its own torch, so the default environment cannot have it and `make test` leaves this
folder out. In the ultralytics environment nothing is skipped: `make test-ultralytics` collecting no
test fails (pytest exits 5).
"""

import importlib.util

# tests/ is on sys.path (tests/conftest.py), so where the real package is missing this very folder is
# found as a namespace package named ultralytics: only a package with an __init__ (spec.origin) counts.
_spec = importlib.util.find_spec("ultralytics")
collect_ignore_glob = [] if _spec is not None and _spec.origin is not None else ["test_*.py"]
