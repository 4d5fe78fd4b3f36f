"""The one way reportgen writes a file: whole or not at all, on disk before it is announced, readable.

``write_atomic`` writes a temporary file in the target's folder, flushes it to disk (fsync), gives it
the mode a new file gets (0o644 less the umask, so a web server can read the site), renames it over
the target (os.replace: readers see the old file or the new one, never half of one) and flushes the
folder, so that the rename itself survives a power cut.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MODE = 0o644  # what a web server serving the site needs; mkstemp alone would leave 0o600


def _umask() -> int:
    """Return the process's umask without changing it (Linux reports it in /proc; elsewhere set and reset)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk, where the platform allows opening a folder."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return  # Windows cannot open a folder; its renames are flushed with the file system's journal
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (network mounts) refuse fsync on a folder; the rename still happened
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text is written as UTF-8) to ``path``: never half a file, fsynced, mode 0o644 & ~umask.

    The parent folders are made if missing. On any failure the temporary file is removed and the
    target is left as it was."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, MODE & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
