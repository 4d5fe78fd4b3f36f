"""Render the static, versioned report site: one Jinja2 environment, pages, archive layout, assets."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2

from reportgen import charts
from reportgen.errors import ReportgenError
from reportgen.locale import (
    DASH,
    FILTERS,
    fmt_mb,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_rate,
    fmt_ratio,
    fmt_sci,
    translate,
    translator,
)
from reportgen.results import read_results

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_ASSETS = ("style.css", "charts.js")
SEVERITY_RANK = {"fail": 0, "warn": 1, "info": 2, "pass": 3}
# Relative changes below these read as "no change". Speed and memory: eager PyTorch varies about ±5%
# between repeated runs on the same machine (docs: FACTS.md), so smaller differences are not evidence.
QUALITY_TOL, SPEED_TOL, SIZE_TOL = 0.01, 0.05, 0.02
# Below these rates of matched detections the answers are "different", not merely "close".
SAME_MATCH_RATE, CLOSE_MATCH_RATE = 0.99, 0.9


@dataclass(frozen=True)
class Metric:
    """One row of a comparison table: where the value lives in a backend and which way is better."""

    id: str
    path: tuple[str, ...]
    fmt: Callable[[float | None], str]
    better: str  # "higher", "lower", or "same" (closest to the reference is best)
    tol: float
    quality: bool = False  # an unchanged quality metric is a pass; an unchanged cost is only info
    speed: bool = False  # judged by the bootstrap interval of the speed-up when there is one

    @property
    def label(self) -> str:
        """Return the catalog key of the metric's name."""
        return f"metric.{self.id}"


def _quality(metric_id: str, better: str, fmt: Callable[[float | None], str] = fmt_num) -> Metric:
    return Metric(metric_id, ("metrics", metric_id), fmt, better, QUALITY_TOL, quality=True)


HEADLINE = (
    _quality("detections_per_image", "same"),
    _quality("mean_confidence", "same"),
    _quality("detection_rate", "same", fmt_rate),
    _quality("map50", "higher"),
    _quality("map50_95", "higher"),
    _quality("mask_map50", "higher"),
    Metric("fps", ("fps",), fmt_num, "higher", SPEED_TOL, speed=True),
    Metric("latency_median", ("latency_ms", "median"), fmt_ms, "lower", SPEED_TOL, speed=True),
    Metric("memory_peak", ("memory_mb", "peak"), fmt_mb, "lower", SPEED_TOL),
    Metric("file_size", ("file_size_mb",), fmt_mb, "lower", SIZE_TOL),
)
CHANGES = (
    Metric("latency_median", ("latency_ms", "median"), fmt_ms, "lower", SPEED_TOL),
    Metric("speedup", ("speedup",), fmt_ratio, "higher", SPEED_TOL),
    Metric("max_abs_diff", ("parity", "max_abs_diff"), fmt_sci, "lower", 0.0),
    _quality("map50", "higher"),
)


@jinja2.pass_context
def _t(context: jinja2.runtime.Context, key: str, **values: object) -> str:
    return translate(context["locale"], key, **values)


def make_environment() -> jinja2.Environment:
    """Return the one Jinja2 environment: templates/, autoescaping, strict undefined, number filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals["t"] = _t
    env.globals["fmt"] = lambda kind, value: FILTERS[kind](value)
    return env


@cache
def _environment() -> jinja2.Environment:
    return make_environment()


def _dig(backend: dict | None, path: tuple[str, ...]) -> float | None:
    value: object = backend
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value  # type: ignore[return-value]


def _ordered(results: dict) -> list[tuple[str, dict]]:
    """Return (name, backend) pairs, the reference first, the rest in config order."""
    ref = results["reference"]
    names = [ref] + [n for n in results["backend_order"] if n != ref]
    return [(n, results["backends"][n]) for n in names if n in results["backends"]]


def _compare(old, new, metric: Metric, tr, interval=None) -> dict:
    """Return the signed change from old to new and a badge saying whether it is better."""
    if old is None or new is None or old == 0:
        return {"change": DASH, "severity": None, "label": DASH}
    change = new / old - 1
    if metric.better == "same":
        same = abs(change) <= metric.tol
        severity, label = ("pass", tr("change.same")) if same else ("warn", tr("change.differs"))
    elif interval is not None and interval[0] <= 1 <= interval[1]:
        severity, label = "info", tr("change.within_noise")
    elif interval is None and abs(change) <= metric.tol:
        severity, label = ("pass" if metric.quality else "info"), tr("change.same")
    elif (change > 0) == (metric.better == "higher"):
        severity, label = "pass", tr("change.better")
    else:
        severity, label = "warn", tr("change.worse")
    return {"change": fmt_pct(change), "severity": severity, "label": label}


def _headline(results: dict, tr) -> list[dict]:
    (ref_name, ref), *others = _ordered(results)
    rows = []
    for m in HEADLINE:
        values = {name: _dig(b, m.path) for name, b in _ordered(results)}
        if all(v is None for v in values.values()):
            continue  # e.g. no mask mAP for a detection-only task, no mAP without labels
        cells = []
        for name, b in others:
            if b["status"] != "ok" or ref["status"] != "ok":
                value = tr("status.failed") if b["status"] != "ok" else m.fmt(values[name])
                cells.append(
                    {"value": value, "change": DASH, "severity": "fail", "label": tr("change.not_comparable")}
                )
                continue
            interval = b.get("speedup_interval") if m.speed else None
            cell = _compare(values[ref_name], values[name], m, tr, interval)
            if (
                m.id == "file_size"
                and cell["severity"] == "warn"
                and b["weight_dtype"] != ref["weight_dtype"]
            ):
                cell.update(severity="info", label=tr("change.precision"))
            cells.append({"value": m.fmt(values[name]), **cell})
        reference = m.fmt(values[ref_name]) if ref["status"] == "ok" else tr("status.failed")
        rows.append({"id": m.id, "label": tr(m.label), "reference": reference, "cells": cells})
    return rows


def _verdict(results: dict, name: str, tr) -> dict:
    """Return one sentence and badges: same answers? faster? smaller? than the reference."""
    ref_name = results["reference"]
    ref, b = results["backends"][ref_name], results["backends"][name]
    if b["status"] != "ok":
        return {
            "backend": name,
            "sentence": tr("verdict.failed", backend=name, error=b["error"] or DASH),
            "parts": [{"severity": "fail", "short": tr("status.failed")}],
        }
    if ref["status"] != "ok":
        return {
            "backend": name,
            "sentence": tr("verdict.reference_failed", backend=name, reference=ref_name),
            "parts": [{"severity": "fail", "short": tr("change.not_comparable")}],
        }
    parity, rate = b["parity"] or {}, _dig(b, ("parity", "detection_match_rate"))
    if not parity:
        answers = ("info", tr("verdict.answers.unknown"), tr("badge.answers_unknown"))
    elif parity["allclose"] and (rate is None or rate >= SAME_MATCH_RATE):
        answers = ("pass", tr("verdict.answers.same", reference=ref_name), tr("badge.same_answers"))
    elif rate is not None and rate < CLOSE_MATCH_RATE:
        answers = (
            "fail",
            tr("verdict.answers.different", rate=fmt_rate(rate)),
            tr("badge.different_answers"),
        )
    else:
        answers = ("warn", tr("verdict.answers.close", rate=fmt_rate(rate)), tr("badge.close_answers"))
    speedup, interval = b["speedup"], b.get("speedup_interval")
    if speedup is None:
        speed = ("info", tr("verdict.speed.unknown"), tr("badge.speed_unknown"))
    elif (interval and interval[0] <= 1 <= interval[1]) or (not interval and abs(speedup - 1) <= SPEED_TOL):
        speed = ("info", tr("verdict.speed.same"), tr("badge.speed_same"))
    elif speedup > 1:
        speed = (
            "pass",
            tr("verdict.speed.faster", ratio=fmt_ratio(speedup)),
            tr("badge.faster", ratio=fmt_ratio(speedup)),
        )
    else:
        speed = (
            "warn",
            tr("verdict.speed.slower", ratio=fmt_ratio(1 / speedup)),
            tr("badge.slower", ratio=fmt_ratio(1 / speedup)),
        )
    size_ratio = (
        b["file_size_mb"] / ref["file_size_mb"] if b["file_size_mb"] and ref["file_size_mb"] else None
    )
    if size_ratio is None:
        size = ("info", tr("verdict.size.unknown"), tr("badge.size_unknown"))
    elif abs(size_ratio - 1) <= SIZE_TOL:
        size = ("info", tr("verdict.size.same"), tr("badge.size_same"))
    elif size_ratio < 1:
        size = (
            "pass",
            tr("verdict.size.smaller", ratio=fmt_ratio(1 / size_ratio)),
            tr("badge.smaller", ratio=fmt_ratio(1 / size_ratio)),
        )
    elif b["weight_dtype"] != ref["weight_dtype"]:
        size = (
            "info",
            tr(
                "verdict.size.larger_dtype",
                ratio=fmt_ratio(size_ratio),
                dtype=b["weight_dtype"],
                reference_dtype=ref["weight_dtype"],
            ),
            tr("badge.larger", ratio=fmt_ratio(size_ratio)),
        )
    else:
        size = (
            "warn",
            tr("verdict.size.larger", ratio=fmt_ratio(size_ratio)),
            tr("badge.larger", ratio=fmt_ratio(size_ratio)),
        )
    sentence = tr("verdict.sentence", backend=name, answers=answers[1], speed=speed[1], size=size[1])
    parts = [{"severity": s, "short": short} for s, _, short in (answers, speed, size)]
    return {"backend": name, "sentence": sentence, "parts": parts}


def _best(results: dict, verdicts: list[dict]) -> tuple[str, float] | None:
    """Return the fastest backend that gives the same answers and is measurably faster, if any."""
    equivalent = [
        (results["backends"][v["backend"]]["speedup"], v["backend"])
        for v in verdicts
        if len(v["parts"]) == 3
        and v["parts"][0]["severity"] == "pass"
        and v["parts"][1]["severity"] == "pass"
    ]
    if not equivalent:
        return None
    speedup, name = max(equivalent)
    return name, speedup


def _conclusion(results: dict, verdicts: list[dict], tr) -> str:
    """Return one paragraph generated from the numbers."""
    ref_name = results["reference"]
    ref = results["backends"][ref_name]
    env = results["environment"]
    sentences = [tr("conclusion.setup", cpu=env["cpu"], threads=fmt_num(env["threads"]), reference=ref_name)]
    if ref["status"] != "ok":
        return " ".join([*sentences, tr("conclusion.reference_failed", reference=ref_name)])
    for (name, b), verdict in zip(_ordered(results)[1:], verdicts, strict=True):
        if b["status"] != "ok":
            sentences.append(verdict["sentence"])
            continue
        parity = b["parity"] or {}
        sentences.append(
            tr(
                "conclusion.backend",
                backend=name,
                max_abs=fmt_sci(parity.get("max_abs_diff")),
                match=fmt_rate(parity.get("detection_match_rate")),
                latency=fmt_ms(_dig(b, ("latency_ms", "median"))),
                reference=ref_name,
                reference_latency=fmt_ms(_dig(ref, ("latency_ms", "median"))),
                speedup=fmt_ratio(b["speedup"]),
                memory=fmt_mb(_dig(b, ("memory_mb", "peak"))),
                reference_memory=fmt_mb(_dig(ref, ("memory_mb", "peak"))),
            )
        )
    counts = {s: sum(f["severity"] == s for f in results["findings"]) for s in ("fail", "warn")}
    sentences.append(tr("conclusion.findings", fail=counts["fail"], warn=counts["warn"]))
    best = _best(results, verdicts)
    if best:
        sentences.append(
            tr("conclusion.recommend", backend=best[0], reference=ref_name, speedup=fmt_ratio(best[1]))
        )
    else:
        sentences.append(tr("conclusion.keep_reference", reference=ref_name))
    return " ".join(sentences)


def _changes(results: dict, previous: dict, tr) -> list[dict]:
    rows = []
    for name, b in _ordered(results):
        old = previous["backends"].get(name)
        if not old or old["status"] != "ok" or b["status"] != "ok":
            continue
        for m in CHANGES:
            before, after = _dig(old, m.path), _dig(b, m.path)
            if before is None and after is None:
                continue
            rows.append(
                {
                    "backend": name,
                    "metric": tr(m.label),
                    "old": m.fmt(before),
                    "new": m.fmt(after),
                    **_compare(before, after, m, tr),
                }
            )
    return rows


def _flatten(value: object, prefix: str = ""):
    """Yield (dotted key, text) pairs of a nested config, for the method appendix."""
    if isinstance(value, dict) and value:
        for key in sorted(value):
            yield from _flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{i}]")
    else:
        yield (
            prefix,
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True),
        )


def report_context(results: dict, previous: dict | None, tr) -> dict:
    """Return everything report.html needs beyond the results document itself."""
    ordered = _ordered(results)
    verdicts = [_verdict(results, name, tr) for name, _ in ordered[1:]]
    dtypes = {b["weight_dtype"] for _, b in ordered if b["status"] == "ok"}
    figures = {
        "latency": charts.latency_figure(results, tr),
        "fps": charts.fps_figure(results, tr),
        "memory": charts.memory_figure(results, tr),
        "size": charts.size_figure(results, tr),
    }
    findings = sorted(results["findings"], key=lambda f: SEVERITY_RANK[f["severity"]])
    return {
        "backends": ordered,
        "candidates": ordered[1:],
        "verdicts": verdicts,
        "headline": _headline(results, tr),
        "findings": findings,
        "conclusion": _conclusion(results, verdicts, tr),
        "changes": _changes(results, previous, tr) if previous else None,
        "fp16_vs_fp32": {"float16", "float32"} <= dtypes,
        "figures": {k: v for k, v in figures.items() if v is not None},
        "config_items": list(_flatten(results["config"])),
        "settings_items": [(name, list(_flatten(b["settings"] or {}))) for name, b in ordered],
    }


def _title(results: dict, tr) -> str:
    return results["title"] or tr("report.default_title", model=results["model"]["name"])


def render_report(results: dict, previous: dict | None = None, *, has_config: bool = True) -> str:
    """Return the HTML page of one version; `previous` adds a "changes since" table."""
    tr = translator(results["locale"])
    view = report_context(results, previous, tr)
    return (
        _environment()
        .get_template("report.html")
        .render(
            results=results,
            previous=previous,
            view=view,
            title=_title(results, tr),
            date=_date(results),
            locale=results["locale"],
            root="../",
            has_config=has_config,
            has_charts=bool(view["figures"]),
        )
    )


def _created(results: dict) -> datetime:
    try:
        return datetime.fromisoformat(results["created_at"].replace("Z", "+00:00"))
    except (AttributeError, ValueError) as e:
        raise ReportgenError(
            f"version {results.get('version')}: bad created_at {results.get('created_at')!r}"
        ) from e


def _date(results: dict) -> str:
    return _created(results).strftime("%Y-%m-%d %H:%M UTC")


def _newest_first(all_results: list[dict]) -> list[dict]:
    return sorted(all_results, key=lambda r: (_created(r), r["version"]), reverse=True)


def _index_row(results: dict, tr) -> dict:
    verdicts = [_verdict(results, name, tr) for name, _ in _ordered(results)[1:]]
    best = _best(results, verdicts)
    failed = [v for v in verdicts if v["parts"][0]["severity"] == "fail"]
    differs = any(v["parts"][0]["severity"] != "pass" for v in verdicts)
    return {
        "version": results["version"],
        "href": quote(results["version"]) + "/index.html",
        "created_at": results["created_at"],
        "date": _date(results),
        "title": results["title"],
        "model": results["model"]["name"],
        "verdicts": verdicts,
        "best": {"backend": best[0], "speedup": fmt_ratio(best[1])} if best else None,
        "reference": results["reference"],
        "parity": "fail" if failed else ("warn" if differs else "pass"),
    }


def render_index(all_results: list[dict]) -> str:
    """Return the archive page: every version newest first, with trend charts from two versions on."""
    if not all_results:
        raise ReportgenError("no versions to index")
    newest = _newest_first(all_results)
    locale = newest[0]["locale"]
    tr = translator(locale)
    history = list(reversed(newest))
    figures = {}
    if len(history) >= 2:
        figures = {
            "trend_latency": charts.latency_trend_figure(history, tr),
            "trend_speedup": charts.speedup_trend_figure(history, tr),
        }
    return (
        _environment()
        .get_template("index.html")
        .render(
            rows=[_index_row(r, tr) for r in newest],
            figures=figures,
            locale=locale,
            root="",
            has_charts=bool(figures),
            title=tr("index.title"),
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
    older = [r for r in others if _created(r) < _created(results)]
    return _newest_first(older)[0] if older else None


def _copy_assets(site_dir: Path) -> None:
    """Copy the Plotly bundle, the CSS and charts.js to site/assets/ unless identical copies exist."""
    assets = site_dir / "assets"
    assets.mkdir(exist_ok=True)
    sources = {
        "plotly.min.js": resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    }
    sources.update({name: (TEMPLATES_DIR / "assets" / name).read_bytes() for name in STATIC_ASSETS})
    for name, data in sources.items():
        target = assets / name
        if not target.is_file() or target.read_bytes() != data:
            _atomic_write(target, data)


def _write_index(site_dir: Path) -> None:
    _atomic_write(site_dir / "index.html", render_index(_read_archive(site_dir)).encode("utf-8"))


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


def build_site(site_dir: Path, results: dict, config_text: str | None, force: bool = False) -> Path:
    """Archive one version under site_dir/<version>/, refresh assets and index; return its page's path."""
    site_dir = Path(site_dir)
    version = results["version"]
    ensure_version_free(site_dir, version, force)
    target = site_dir / version
    site_dir.mkdir(parents=True, exist_ok=True)
    others = [r for r in _read_archive(site_dir) if r["version"] != version]
    # Render before touching the disk, so a template error leaves the site as it was.
    page = render_report(results, _previous(results, others), has_config=config_text is not None)
    render_index([*others, results])
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
    _write_index(site_dir)
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
    _write_index(site_dir)
    return pages
