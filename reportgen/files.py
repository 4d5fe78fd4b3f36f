"""The one way reportgen writes a file: whole or not at all, on disk before it is announced, readable.

``write_atomic`` writes a temporary file in the target's folder, flushes it to disk (fsync), gives it
the mode a new file gets (0o644 less the umask, so a web server can read the site), renames it over
the target (os.replace: readers see the old file or the new one, never half of one) and flushes the
folder, so that the rename itself survives a power cut.

Temporary names carry their owner (``owner()``: the process id and, on Linux, its start time), so
that a later command can tell the leftovers of a killed process (``owner_is_alive`` false) from the
files of one still writing, and remove only the former (reportgen/release/archive.py).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MODE = 0o644  # what a web server serving the site needs; mkstemp alone would leave 0o600
# The owner part of a temporary name: "<pid>" or "<pid>.<start time in clock ticks since boot>".
OWNER = r"(?P<pid>\d+)(?:\.(?P<start>\d+))?"


def _start_time(pid: int) -> str | None:
    """Return a process's start time (clock ticks since boot; Linux), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2, the command, is in parentheses and may hold spaces; field 22 is the start time.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def owner() -> str:
    """Return this process's owner token for temporary names (computed now: a fork has its own)."""
    pid = os.getpid()
    start = _start_time(pid)
    return f"{pid}.{start}" if start else str(pid)


def owner_is_alive(pid: int, start: str | None = None) -> bool:
    """Return whether the process that made a temporary name still runs (a zombie does not; a process
    that took its id later, with another start time, is not it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:
        return True  # cannot tell: keep its files
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): the id is all there is
    if stat[stat.rindex(")") + 2 :].split()[:1] == ["Z"]:
        return False  # killed, not yet reaped by its parent
    return start is None or _start_time(pid) in (None, start)


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}@{owner()}-", suffix=".tmp")
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
