"""Where the time goes, on the page: every backend's profile side by side (issue 18).

A stacked bar of time per call by op family (analysis/optypes.py) and outside operators, a table of
what each profile accounts for (and what it does not: time outside operators, node time tied to no
module), and the top modules across backends. The speed findings cite the same profiles through
their causes (analysis/causes.py).
"""

from __future__ import annotations

from reportgen.analysis.causes import outside_ms
from reportgen.analysis.optypes import FAMILIES, family_ms
from reportgen.report.charts import backend_color, base_layout, horizontal, ok_backends, plain_label, rounded
from reportgen.report.locale import Locale
from reportgen.results.profile import Profile
from reportgen.results.schema import Document, Measured

FAMILY_ORDER = (*FAMILIES, "other")
AGREE = 0.15  # profiled operators within 15% of an unprofiled call: the profile accounts for the call
MODULE_ROWS = 10
MIN_GROUPS = 3  # fold modules to the shallowest depth that splits the time in at least this many


def _profiled(results: Document) -> list[tuple[int, str, Measured, Profile]]:
    out = []
    for i, name, b in ok_backends(results):
        profile = b.get("profile")
        if profile and profile["status"] == "ok":
            out.append((i, name, b, profile))
    return out


def view(results: Document) -> dict | None:
    """Return the section's tables; None when no backend was profiled (an older run, profile: false)."""
    profiled = _profiled(results)
    profiles = ((name, b.get("profile")) for _, name, b in ok_backends(results))
    failed = [(name, p["error"]) for name, p in profiles if p is not None and p["status"] == "failed"]
    if not profiled and not failed:
        return None
    return {
        "backends": [_summary(i, name, b, p) for i, name, b, p in profiled],
        "modules": _modules(profiled),
        "failed": failed,
    }


def _summary(i: int, name: str, b: Measured, p: Profile) -> dict:
    plain, kernel = p.get("plain_ms", 0.0), p.get("kernel_ms", 0.0)
    coverage = kernel / plain if plain else None
    return {
        "name": name,
        "color": i,
        "tool": p.get("tool"),
        "note": p.get("note"),
        "median_ms": b["latency_ms"]["median"],
        "plain_ms": plain,
        "kernel_ms": kernel,
        "coverage": coverage,
        "agrees": coverage is not None and abs(coverage - 1) <= AGREE,
        # The rounds' median may come from another of the machine's speed states than the profile pass.
        "state_gap": b["latency_ms"]["median"] / plain - 1 if plain else None,
        "outside_ms": outside_ms(p),
        "unattributed_ms": p.get("unattributed_ms", 0.0),
        "nodes": p.get("nodes"),
        # What each node adds when the operators exceed the call: the profiler's cost of recording it.
        "per_node_us": (kernel - plain) / p["nodes"] * 1000 if p.get("nodes") else None,
        "top_ops": sorted(p.get("by_op", {}).items(), key=lambda kv: -kv[1]["ms"])[:3],  # JSON sorts keys
        "kind": b["kind"],
    }


def _modules(profiled: list[tuple[int, str, Measured, Profile]]) -> dict | None:
    """Return the top modules (folded to one depth) with each backend's time per call in them."""
    with_modules = [(name, p["by_module"]) for _, name, _, p in profiled if p.get("by_module")]
    if not with_modules:
        return None
    depth = _depth(with_modules[0][1])
    folded = {name: _fold(modules, depth) for name, modules in with_modules}
    ranked = sorted(
        {m for f in folded.values() for m in f}, key=lambda m: -max(f.get(m, 0.0) for f in folded.values())
    )
    return {
        "depth": depth,
        "names": [name for name, _ in with_modules],
        "rows": [(m, [folded[name].get(m) for name, _ in with_modules]) for m in ranked[:MODULE_ROWS]],
        "more": max(len(ranked) - MODULE_ROWS, 0),
    }


def _depth(modules: dict[str, float]) -> int:
    for depth in range(1, 5):
        if len(_fold(modules, depth)) >= MIN_GROUPS:
            return depth
    return 4


def _fold(modules: dict[str, float], depth: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for path, ms in modules.items():
        key = ".".join(path.split(".")[:depth])
        out[key] = out.get(key, 0.0) + ms
    return out


def figure(results: Document, loc: Locale) -> dict | None:
    """Return stacked bars per backend: time per call by op family, and outside operators."""
    profiled = _profiled(results)
    if not profiled:
        return None
    names = [plain_label(name) for _, name, _, _ in profiled]
    by_family = [family_ms(p.get("by_op", {})) for _, _, _, p in profiled]
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": loc.t(f"time.family.{fam}"),
            "y": names,
            "x": [rounded(f.get(fam, 0.0)) for f in by_family],
            "marker": {"color": backend_color(k)},
        }
        for k, fam in enumerate(FAMILY_ORDER)
        if any(f.get(fam) for f in by_family)
    ]
    traces.append(
        {
            "type": "bar",
            "orientation": "h",
            "name": loc.t("time.outside"),
            "y": names,
            "x": [rounded(outside_ms(p)) for _, _, _, p in profiled],
            "marker": {"color": "#bbbbbb"},
        }
    )
    layout = base_layout(loc.t("time.chart_title"), loc.t("time.axis"), loc.t("chart.axis.backend"))
    layout["barmode"] = "stack"
    return {"data": traces, "layout": horizontal(layout, len(names), legend=len(traces))}
