"""Render the static, versioned report site: one Jinja2 environment, the pages, the archive on disk.

What a page shows is decided in reportgen/pages.py (and charts.py); this module renders it and keeps
the archive: site/<version>/{index.html, results.json, config.yaml}, site/index.html, site/assets/.
A version may be merged from several machines (reportgen/merge.py): one page, a section per machine.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2

from reportgen.errors import ReportgenError
from reportgen.report import charts, pages
from reportgen.report.locale import FILTER_NAMES, Locale, get_locale
from reportgen.results import merge
from reportgen.results.document import is_merged, machine_documents, read_results
from reportgen.shipped import templates_dir

STATIC_ASSETS = ("style.css", "charts.js")


def _filter(name: str):
    """Return a template filter that formats with the Locale method `name` of the page being rendered."""

    @jinja2.pass_context
    def apply(context: jinja2.runtime.Context, value: object, *args: object) -> str:
        return getattr(context["loc"], name)(value, *args)

    return apply


@jinja2.pass_context
def _t(context: jinja2.runtime.Context, key: str, **values: object) -> str:
    return context["loc"].t(key, **values)


@jinja2.pass_context
def _fmt(context: jinja2.runtime.Context, kind: str, value: object) -> str:
    return getattr(context["loc"], kind)(value)


def make_environment() -> jinja2.Environment:
    """Return the one Jinja2 environment: templates/, autoescaping, strict undefined, number filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({name: _filter(name) for name in FILTER_NAMES})
    env.globals.update(t=_t, fmt=_fmt)
    return env


@cache
def _environment() -> jinja2.Environment:
    return make_environment()


def _title(results: dict, loc: Locale) -> str:
    model = machine_documents(results)[0]["model"]["name"]
    return results["title"] or loc.t("report.default_title", model=model)


def render_report(
    results: dict, previous: dict | None = None, *, has_config: bool = True, locale: str | None = None
) -> str:
    """Return the HTML page of one version; `previous` adds a "changes since" table.

    A merged document gets one page with a section per machine (and no changes table). `locale`
    overrides the document's language (the page only; the document is not changed)."""
    loc = get_locale(locale or results["locale"])
    if is_merged(results):
        return _render_merged(results, loc)
    if previous is not None and is_merged(previous):
        previous = merge.counterpart(previous, results)  # the same machine's numbers, or none
    view = pages.report_view(results, previous, loc)
    return (
        _environment()
        .get_template("report.html")
        .render(
            results=results,
            previous=previous,
            view=view,
            title=_title(results, loc),
            date=loc.date(_created(results)),
            loc=loc,
            locale=loc.code,
            root="../",
            has_config=has_config,
            has_charts=bool(view["figures"]),
            anchor="",
            h=2,
            per_machine=False,
        )
    )


def _render_merged(merged: dict, loc: Locale) -> str:
    machines = pages.merged_view(merged, loc)
    return (
        _environment()
        .get_template("merged.html")
        .render(
            document=merged,
            machines=machines,
            title=_title(merged, loc),
            date=loc.date(_created(merged)),
            loc=loc,
            locale=loc.code,
            root="../",
            has_config=False,
            has_charts=any("latency" in m["view"]["figures"] for m in machines),
            h=3,
            per_machine=True,
        )
    )


def _created(results: dict) -> datetime:
    try:
        return datetime.fromisoformat(results["created_at"].replace("Z", "+00:00"))
    except (AttributeError, ValueError) as e:
        raise ReportgenError(
            f"version {results.get('version')}: bad created_at {results.get('created_at')!r}"
        ) from e


def _newest_first(all_results: list[dict]) -> list[dict]:
    return sorted(all_results, key=lambda r: (_created(r), r["version"]), reverse=True)


def render_index(all_results: list[dict]) -> str:
    """Return the archive page: every version newest first, with trend charts from two versions on.

    It speaks the language of the newest version."""
    if not all_results:
        raise ReportgenError("no versions to index")
    newest = _newest_first(all_results)
    loc = get_locale(newest[0]["locale"])
    rows = []
    for results in newest:
        row = pages.index_row(results, loc)
        created = _created(results)
        row.update(
            href=quote(results["version"]) + "/index.html",
            created_at=results["created_at"],
            date=loc.date(created),
        )
        rows.append(row)
    history = merge.trend_history(list(reversed(newest)))
    figures = charts.trend_figures(history, loc) if len(newest) >= 2 else {}
    figures = charts.localized(figures, loc)
    return (
        _environment()
        .get_template("index.html")
        .render(
            rows=rows,
            figures=figures,
            loc=loc,
            locale=loc.code,
            root="",
            has_charts=bool(figures),
            title=loc.t("index.title"),
        )
    )


def dump_results(results: dict) -> str:
    """Return the results document as archived: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(results, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a web server must be able to read the site
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# The config's rule for `version`: a folder name and a URL segment; never a path, never a reserved name.
_VERSION_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _check_version(version: object) -> str:
    ok = isinstance(version, str) and _VERSION_LABEL.fullmatch(version) is not None
    if not ok or version.lower() in ("assets", "index"):  # lower(): case-insensitive file systems
        raise ReportgenError(f"version {version!r} cannot name a folder of the site")
    return version


def ensure_version_free(site_dir: Path, version: str, force: bool = False) -> None:
    """Raise unless site_dir/<version> is free or force is set (call before minutes of measuring)."""
    target = Path(site_dir) / _check_version(version)
    if target.exists() and not force:
        raise ReportgenError(f"version {version} already exists in {site_dir}; pass --force to rebuild it")


def _read_archive(site_dir: Path) -> list[dict]:
    archive = []
    for path in sorted(site_dir.glob("*/results.json")):
        if path.parent.name.startswith(".") or path.parent.name == "assets":
            continue  # staging folders of a build in progress, never a version
        # Older schemas are upgraded in memory (the archived file stays as written); newer are refused.
        archive.append(read_results(path))
    return archive


def _previous(results: dict, others: list[dict]) -> dict | None:
    """Return the version a page's "changes since" compares with: the newest older one that measured
    the same machine, if it is merged (a merged page itself has no changes table)."""
    if is_merged(results):
        return None
    older = [r for r in others if _created(r) < _created(results)]
    older = [r for r in older if not is_merged(r) or merge.counterpart(r, results) is not None]
    return _newest_first(older)[0] if older else None


def _copy_assets(site_dir: Path) -> None:
    """Copy the Plotly bundle, the CSS and charts.js to site/assets/ unless identical copies exist."""
    assets = site_dir / "assets"
    assets.mkdir(exist_ok=True)
    sources = {
        "plotly.min.js": resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    }
    sources.update({name: (templates_dir() / "assets" / name).read_bytes() for name in STATIC_ASSETS})
    for name, data in sources.items():
        target = assets / name
        if not target.is_file() or target.read_bytes() != data:
            _atomic_write(target, data)


def _write_index(site_dir: Path, archive: list[dict]) -> None:
    _atomic_write(site_dir / "index.html", render_index(archive).encode("utf-8"))


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
    site_dir: Path, results: dict, config_text: str | None, force: bool = False, locale: str | None = None
) -> Path:
    """Archive one version under site_dir/<version>/, refresh assets and index; return its page's path.

    `locale` (a --locale option) renders the page in that language and records it in the archived
    results.json, so that `render --all` renders it in the same language again."""
    site_dir = Path(site_dir)
    if locale is not None and locale != results["locale"]:
        get_locale(locale)  # an unknown locale fails before anything is written
        results = {**results, "locale": locale}
    version = results["version"]
    ensure_version_free(site_dir, version, force)
    target = site_dir / version
    site_dir.mkdir(parents=True, exist_ok=True)
    others = [r for r in _read_archive(site_dir) if r["version"] != version]
    # Render before touching the disk, so a template error leaves the site as it was.
    page = render_report(results, _previous(results, others), has_config=config_text is not None)
    index = render_index([*others, results])
    staging = Path(tempfile.mkdtemp(dir=site_dir, prefix=f".{version}.building-"))
    try:
        os.chmod(staging, 0o755)
        (staging / "index.html").write_bytes(page.encode("utf-8"))
        (staging / "results.json").write_bytes(dump_results(results).encode("utf-8"))
        if config_text is not None:
            (staging / "config.yaml").write_bytes(config_text.encode("utf-8"))
        if target.exists() and _exchange(staging, target):
            shutil.rmtree(staging)  # now the replaced version
        elif target.exists():
            # Two renames: a kill -9 between them leaves the old version in .<version>.replaced-*.
            trash = Path(tempfile.mkdtemp(dir=site_dir, prefix=f".{version}.replaced-"))
            os.replace(target, trash / version)
            os.replace(staging, target)
            shutil.rmtree(trash)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _copy_assets(site_dir)
    _atomic_write(site_dir / "index.html", index.encode("utf-8"))  # rendered above, from the same archive
    return target / "index.html"


def rebuild_pages(site_dir: Path) -> list[Path]:
    """Re-render every archived version's page and the index with the current templates."""
    site_dir = Path(site_dir)
    archive = _read_archive(site_dir)
    if not archive:
        raise ReportgenError(f"{site_dir}: no archived versions to re-render (no <version>/results.json)")
    pages = []
    for results in archive:
        folder = site_dir / _check_version(results["version"])
        others = [r for r in archive if r["version"] != results["version"]]
        html = render_report(
            results, _previous(results, others), has_config=(folder / "config.yaml").is_file()
        )
        _atomic_write(folder / "index.html", html.encode("utf-8"))
        pages.append(folder / "index.html")
    _copy_assets(site_dir)
    _write_index(site_dir, archive)
    return pages
