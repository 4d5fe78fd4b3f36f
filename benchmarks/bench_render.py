"""Render speed and page weight of the report site, from the real 8-backend demo results.

    .venv/bin/python benchmarks/bench_render.py [--results tests/data/results_demo.json] [--versions 100]

Measures (median of --repeats runs, wall clock):
  * one report: render_report() in memory, build_site() of one version into an empty folder (the
    page, results.json, the assets copied once, the index), and the whole command
    `reportgen render results.json --site-dir <new folder>` in a fresh process (imports included);
  * an archive of --versions versions made from the demo results (each its own label, date and
    latencies): render_index() in memory; build_site() of one more version (it reads every archived
    results.json, then writes the page and the index over them all); and rebuild_pages(), which
    re-renders every page and the index from the files on disk (`reportgen render --all`);
and prints the size of a report page (HTML only, the shared Plotly bundle excluded), of the index,
and of the bundle. Targets: a report in under 1.5 s, 100 versions re-rendered in under 10 s, a report
page under 300 KB; --check exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reportgen.report import render as site
from reportgen.results.document import read_results, write_results

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"report_s": 1.5, "rebuild_100_s": 10.0, "page_kb": 300.0}


def _median_s(run: Callable[[], object], repeats: int, setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeats):
        if setup:
            setup()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _version(results: dict, i: int) -> dict:
    """Return the demo results as archived version i: its own label and date, latencies drifting."""
    doc = copy.deepcopy(results)
    doc["version"] = f"1.{i // 10}.{i % 10}"
    doc["created_at"] = f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}T12:00:00Z"
    factor = 1 + 0.2 * ((i * 37) % 11 - 5) / 5  # 0.8x .. 1.2x, deterministic
    ref_median = doc["backends"][doc["reference"]]["latency_ms"]["median"]
    for name, b in doc["backends"].items():
        if name == doc["reference"] or b["status"] != "ok":
            continue
        latency = b["latency_ms"]
        for key in ("median", "mean", "p90", "p99", "min", "max", "std"):
            latency[key] *= factor
        latency["samples"] = [s * factor for s in latency["samples"]]
        b["fps"] = 1000 / latency["median"]
        b["speedup"] = ref_median / latency["median"]
        if b.get("speedup_interval"):
            b["speedup_interval"] = [v / factor for v in b["speedup_interval"]]
    return doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "tests" / "data" / "results_demo.json")
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    results = read_results(args.results)
    site.render_report(results)  # load and compile the templates once, as a long build would

    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        report_s = _median_s(lambda: site.render_report(results), args.repeats)
        one = work / "one"
        build_s = _median_s(
            lambda: archive.build_site(one, results, None),
            args.repeats,
            setup=lambda: shutil.rmtree(one, ignore_errors=True),
        )
        page = (one / results["version"] / "index.html").stat().st_size
        cli = work / "cli"
        command = [sys.executable, "-m", "reportgen", "render", str(args.results), "--site-dir", str(cli)]
        cli_s = _median_s(
            lambda: subprocess.run(command, check=True, capture_output=True),
            max(1, min(args.repeats, 3)),
            setup=lambda: shutil.rmtree(cli, ignore_errors=True),
        )
        bundle = (one / "assets" / "plotly.min.js").stat().st_size

        archive = work / "archive"
        documents = [_version(results, i) for i in range(args.versions)]
        for doc in documents:  # the archive as `reportgen build` leaves it, written directly
            (archive / doc["version"]).mkdir(parents=True)
            write_results(archive / doc["version"] / "results.json", doc)
        archive.rebuild_pages(archive)
        index_s = _median_s(lambda: site.render_index(documents), args.repeats)
        rebuild_s = _median_s(lambda: archive.rebuild_pages(archive), max(1, min(args.repeats, 3)))
        extra = _version(results, args.versions)
        add_s = _median_s(
            lambda: archive.build_site(archive, extra, None),
            max(1, min(args.repeats, 3)),
            setup=lambda: shutil.rmtree(archive / extra["version"], ignore_errors=True),
        )
        index = (archive / "index.html").stat().st_size
        pages = [p.stat().st_size for p in archive.glob("*/index.html")]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = args.versions
    print(
        f"results: {args.results} ({len(results['backend_order'])} backends); medians of {args.repeats} runs"
    )
    print(f"  one report, render_report() in memory       {report_s * 1000:8.1f} ms")
    print(f"  one report, build_site() into a new site    {build_s * 1000:8.1f} ms")
    print(f"  one report, `reportgen render` command      {cli_s * 1000:8.1f} ms   (target < 1.5 s)")
    print(f"  index of {n} versions, render_index()       {index_s * 1000:8.1f} ms")
    print(f"  one more version into {n}, build_site()     {add_s * 1000:8.1f} ms")
    print(f"  {n} versions + index, rebuild_pages()       {rebuild_s:8.2f} s    (target < 10 s for 100)")
    print(f"  report page (HTML, Plotly bundle excluded)  {page / 1000:8.1f} KB   (target < 300 KB)")
    print(f"  largest of the {n} report pages              {max(pages) / 1000:8.1f} KB")
    print(f"  index page over {n} versions                {index / 1000:8.1f} KB")
    print(f"  shared assets/plotly.min.js (once per site) {bundle / 1000:8.1f} KB")
    missed = [
        name
        for name, value in (
            ("report_s", cli_s),
            ("rebuild_100_s", rebuild_s * 100 / n),
            ("page_kb", page / 1000),
        )
        if value >= TARGETS[name]
    ]
    print("targets: " + ("all met" if not missed else "MISSED " + ", ".join(missed)))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
