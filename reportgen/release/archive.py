"""The site archive on disk: site/<version>/{index.html, results.json, config.yaml}, site/index.html,
site/assets/. Pages are rendered to strings by reportgen/report/render.py; this module writes them.

A version is built once and never half: its files are written to a hidden staging folder that is
renamed into place (a --force rebuild swaps it in with RENAME_EXCHANGE), so a kill -9 at any moment
leaves each version folder either as it was or as the build makes it. What a killed build leaves
(``.<version>.building-<owner>-*`` folders, ``.<name>@<owner>-*.tmp`` files) names its process, and
the next build or render of the site removes it once that process is gone (``remove_leftovers``).
Hidden entries are never versions: not indexed, not served, not published.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import cast

from reportgen.errors import ReportgenError
from reportgen.files import OWNER, fsync_folder, owner, owner_is_alive, write_atomic
from reportgen.report.locale import get_locale
from reportgen.report.render import previous_version, render_index, render_report
from reportgen.results import reader
from reportgen.results.document import dumps, read_results
from reportgen.results.schema import Document, Merged
from reportgen.results.version import check_version_label
from reportgen.shipped import templates_dir

STATIC_ASSETS = ("style.css", "charts.js")
# What a build leaves while it runs: a staging folder (or, where RENAME_EXCHANGE is missing, the old
# version moved aside) and temporary files of write_atomic, each named with its process (OWNER).
# Older reportgen named neither with its process: those are removed once UNOWNED_AGE_S old.
_STAGING = re.compile(rf"\.(?P<version>.+)\.(?P<kind>building|replaced)-(?:{OWNER}-)?[A-Za-z0-9_]+")
_TEMPORARY = re.compile(rf"\..+(?:@{OWNER}-|\.)[A-Za-z0-9_]+\.tmp")
UNOWNED_AGE_S = 3600.0


def ensure_version_free(site_dir: Path, version: str, force: bool = False, source: str = "results") -> None:
    """Raise unless site_dir/<version> is free or force is set (call before minutes of measuring).

    A label that cannot name a folder of the site is refused first (exit 2, naming ``source``)."""
    target = Path(site_dir) / check_version_label(version, source)
    if target.exists() and not force:
        raise ReportgenError(f"version {version} already exists in {site_dir}; pass --force to rebuild it")


def version_folders(tree: Path) -> dict[str, Path]:
    """Return version label -> results.json of every version folder of a site tree, by label.

    Hidden folders (a build's staging folders) and assets/ are never versions."""
    return {
        p.parent.name: p
        for p in sorted(Path(tree).glob("*/results.json"))
        if not p.parent.name.startswith(".") and p.parent.name != "assets"
    }


def read_archive(site_dir: Path) -> list[Document | Merged]:
    """Return the results document of every archived version.

    Older schemas are upgraded in memory (the archived file stays as written); newer are refused."""
    return [read_results(path) for path in version_folders(site_dir).values()]


def _is_dead(match: re.Match, path: Path) -> bool:
    """Return whether the process that left `path` is gone (unowned: whether it is old)."""
    if match["pid"] is not None:
        return not owner_is_alive(int(match["pid"]), match["start"])
    try:
        return time.time() - path.lstat().st_mtime > UNOWNED_AGE_S
    except OSError:
        return False


def remove_leftovers(site_dir: Path) -> list[Path]:
    """Remove what killed builds left in the site, never what a live process is writing; return it.

    A version that a killed build had moved aside (``.<version>.replaced-*``, on file systems without
    RENAME_EXCHANGE) is moved back first when its folder is missing, so no version is ever lost."""
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        return []
    removed = []
    versions = [path.parent for path in version_folders(site_dir).values()]
    for folder in [site_dir, site_dir / "assets", *versions]:
        for path in sorted(folder.glob(".*")) if folder.is_dir() else []:
            staging = folder == site_dir and path.is_dir() and not path.is_symlink()
            match = (_STAGING if staging else _TEMPORARY).fullmatch(path.name)
            if match is None or not (staging or path.is_file()) or not _is_dead(match, path):
                continue
            if staging:
                aside, target = path / match["version"], site_dir / match["version"]
                if match["kind"] == "replaced" and aside.is_dir() and not target.exists():
                    os.replace(aside, target)
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        fsync_folder(site_dir)
    return removed


def copy_assets(site_dir: Path) -> None:
    """Copy the Plotly bundle, the CSS and charts.js to site/assets/ unless identical copies exist."""
    assets = site_dir / "assets"
    assets.mkdir(exist_ok=True)
    plotly = resources.files("plotly").joinpath("package_data").joinpath("plotly.min.js")
    sources = {"plotly.min.js": plotly.read_bytes()}
    sources.update({name: (templates_dir() / "assets" / name).read_bytes() for name in STATIC_ASSETS})
    for name, data in sources.items():
        target = assets / name
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported.

    A --force rebuild swaps the new version in this way, so that a kill -9 at any moment finds either
    the old or the new version in place, never none (os.replace cannot replace a non-empty folder).
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False  # not glibc/Linux
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    at_fdcwd, rename_exchange = -100, 2  # <fcntl.h>, <linux/fs.h>
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # an old kernel, or a file system without exchange
    raise OSError(error, os.strerror(error), str(b))


def build_site(
    site_dir: Path,
    results: Document | Merged,
    config_text: str | None,
    force: bool = False,
    locale: str | None = None,
    source: str = "results",
) -> Path:
    """Archive one version under site_dir/<version>/, refresh assets and index; return its page's path.

    `locale` (a --locale option) renders the page in that language and records it in the archived
    results.json, so that `render --all` renders it in the same language again. `source` names the
    results (a file) in the message when their version label cannot name a folder.

    ``results`` must come from ``read_results`` (upgraded and checked): pages never hedge on older
    schemas, so an unread document (an older schema, a broken key) is refused here with one line."""
    reader.check(results, source)
    site_dir = Path(site_dir)
    if locale is not None and locale != results["locale"]:
        get_locale(locale)  # an unknown locale fails before anything is written
        results = cast("Document | Merged", {**results, "locale": locale})  # checked just above
    version = results["version"]
    ensure_version_free(site_dir, version, force, source)
    target = site_dir / version
    site_dir.mkdir(parents=True, exist_ok=True)
    if remove_leftovers(site_dir):
        ensure_version_free(site_dir, version, force, source)  # a version moved back is taken again
    others = [r for r in read_archive(site_dir) if r["version"] != version]
    # Render before touching the disk, so a template error leaves the site as it was.
    page = render_report(results, previous_version(results, others), has_config=config_text is not None)
    index = render_index([*others, results])
    staging = Path(tempfile.mkdtemp(dir=site_dir, prefix=f".{version}.building-{owner()}-"))
    try:
        os.chmod(staging, 0o755)
        write_atomic(staging / "index.html", page)
        write_atomic(staging / "results.json", dumps(results))
        if config_text is not None:
            write_atomic(staging / "config.yaml", config_text)
        if target.exists() and _exchange(staging, target):
            shutil.rmtree(staging)  # now the replaced version
        elif target.exists():
            # Two renames: a kill -9 between them leaves the old version in .<version>.replaced-*.
            trash = Path(tempfile.mkdtemp(dir=site_dir, prefix=f".{version}.replaced-{owner()}-"))
            os.replace(target, trash / version)
            os.replace(staging, target)
            shutil.rmtree(trash)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_folder(site_dir)  # the version's rename reaches the disk before the index names it
    copy_assets(site_dir)
    write_atomic(site_dir / "index.html", index)  # rendered above, from the same archive
    return target / "index.html"


def rebuild_pages(site_dir: Path) -> list[Path]:
    """Re-render every archived version's page and the index with the current templates."""
    site_dir = Path(site_dir)
    remove_leftovers(site_dir)
    files = list(version_folders(site_dir).values())
    if not files:
        raise ReportgenError(f"{site_dir}: no archived versions to re-render (no <version>/results.json)")
    archive = [read_results(path) for path in files]
    written = []
    for path, results in zip(files, archive):
        folder = site_dir / check_version_label(results["version"], str(path))
        others = [r for r in archive if r["version"] != results["version"]]
        html = render_report(
            results, previous_version(results, others), has_config=(folder / "config.yaml").is_file()
        )
        write_atomic(folder / "index.html", html)
        written.append(folder / "index.html")
    copy_assets(site_dir)
    write_atomic(site_dir / "index.html", render_index(archive))
    return written
