"""Do speed verdicts reproduce? `reportgen run` of one config N times, then the runs side by side.

    .venv/bin/python benchmarks/bench_repeatability.py [-c configs/demo.yaml] [--runs 3] [--out build/repeat]
        [--pythonpath DIR]   # measure another checkout's reportgen (e.g. a worktree of an older commit)

Each run is a separate `reportgen run` (its own processes, one after the other). Printed: how each run's
measurement went (rounds, what stopped it, the precision reached, the machine's speed states seen by the
reference); per backend the median of each run and the spread across runs ((max - min) / median of the
run medians); each run's speed-up over the reference (stats.speedup: paired slices) with its 95%
interval, whether it contains every other run's speed-up, the speed-ups' spread across runs and the
widest half-width; each run's recommendation with the backends tied with it; the exit code of
`reportgen compare` between consecutive runs (0: no regression); and each run's wall time. Runs and
compares use the same reportgen (``--pythonpath``); the figures are computed by the reportgen imported
here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from reportgen import stats
from reportgen.results.document import read_results
from reportgen.states import speed_states


def _env(pythonpath: str | None) -> dict:
    return {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else dict(os.environ)


def _reportgen(args: list[str], pythonpath: str | None, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    # cwd outside the checkout: `python -m` puts the working folder first on sys.path, before PYTHONPATH.
    return subprocess.run([sys.executable, "-m", "reportgen", *args], env=_env(pythonpath), cwd=cwd, **kwargs)


def _recommendation(doc: dict) -> str:
    """Return today's judgement of a document: the recommendation's kind, backend and who is tied."""
    from reportgen.analysis.assess import assess

    chosen = assess(doc).recommendation
    if chosen is None:
        return "-"
    tied = "".join(f" ={n} {v:.2f}x" for n, v in chosen.tied)
    return f"{chosen.kind} {chosen.backend or ''}{tied}".strip()


def _timing(doc: dict) -> str:
    """Return how a run's measurement went and the machine states its reference saw."""
    t = doc.get("timing") or {}
    if not t.get("rounds"):
        return "no timing record (schema < 4)"
    ref = doc["backends"][doc["reference"]]
    states = speed_states(stats.slices(ref["slices"], ref["latency_ms"]["samples"]))
    seen = (
        f"states {states.fast_ms:.2f} / {states.slow_ms:.2f} ms, {100 * states.slow_share:.0f}% slow, "
        f"{states.switches} switches"
        if states.seen
        else f"one state ({states.fast_ms:.2f} ms)"
    )
    reached = t.get("precision_reached")
    return (
        f"{t['rounds']} rounds, stopped by {t['stopped']}, precision reached "
        f"{'-' if reached is None else f'{100 * reached:.1f}%'} (target {100 * t['precision']:.0f}%), "
        f"timed {t['timed_s']:.0f} s; reference: {seen}"
    )


def _contains(interval: list[float] | None, value: float | None) -> bool:
    return bool(interval) and value is not None and interval[0] <= value <= interval[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="configs/demo.yaml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("build/repeat"))
    parser.add_argument("--pythonpath", help="import reportgen from this folder (runs and compares)")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    config = str(Path(args.config).resolve())
    paths, walls = [], []
    for i in range(1, args.runs + 1):
        path = args.out / f"run{i}.json"
        started = time.monotonic()
        run = ["run", "-c", config, "-o", str(path), "--version", f"repeat-{i}"]
        _reportgen(run, args.pythonpath, args.out, check=True, stderr=subprocess.DEVNULL)
        walls.append(time.monotonic() - started)
        paths.append(path)
        print(f"run {i}: {walls[-1]:.0f} s", flush=True)
    docs = [read_results(p) for p in paths]
    _print(docs, walls)
    for a, b in zip(paths, paths[1:]):
        compare = ["compare", str(a), str(b), "--format", "json"]
        done = _reportgen(compare, args.pythonpath, args.out, capture_output=True, text=True)
        rows = json.loads(done.stdout)["rows"] if done.stdout.strip() else []
        flagged = [
            f"{r['backend']} {r['metric']} {r['status']}: {r['detail']}"
            for r in rows
            if r["status"] not in ("same", "info")
        ]
        print(f"compare {a.name} {b.name}: exit {done.returncode}" + "".join(f"\n  {r}" for r in flagged))


def _print(docs: list[dict], walls: list[float]) -> None:
    first = docs[0]
    ref = first["reference"]
    env = first["environment"]
    print(f"\n{env['cpu']}, {env['cores_logical']} cores, {env['threads']} threads per backend")
    shares = ", ".join(f"{100 * (d['environment'].get('other_cpu_share') or 0):.1f}%" for d in docs)
    steal = ", ".join(f"{100 * (d['environment'].get('steal_share') or 0):.1f}%" for d in docs)
    print(f"other processes' CPU share per run: {shares}; steal: {steal}")
    print(f"wall time per run: {', '.join(f'{w:.0f} s' for w in walls)}")
    for i, d in enumerate(docs, start=1):
        print(f"run {i}: {_timing(d)}")
    print()
    print(
        f"{'backend':18} {'median ms per run':>26} {'spread':>7}   "
        "speed-up per run (95% interval) [contains the others]; speed-up spread; widest half-width"
    )
    for name in first["backend_order"]:
        entries = [d["backends"].get(name) or {} for d in docs]
        if any(e.get("status") != "ok" for e in entries):
            print(f"{name:18} failed in a run")
            continue
        medians = [e["latency_ms"]["median"] for e in entries]
        spread = (max(medians) - min(medians)) / statistics.median(medians)
        cells = " ".join(f"{m:7.2f}" for m in medians)
        speedups = ""
        if name != ref:
            found = [stats.speedup(d["backends"][ref], e) for d, e in zip(docs, entries)]
            values = [s.value for s in found]
            speedups = "  ".join(
                f"{s.value:.2f}x ({s.low:.2f}-{s.high:.2f})"
                f" [{'yes' if all(_contains([s.low, s.high], v) for v in values) else 'no'}]"
                for s in found
            )
            spread_x = (max(values) - min(values)) / statistics.median(values)
            speedups += f"; {100 * spread_x:.1f}%; +-{100 * max(s.half_width for s in found):.1f}%"
        print(f"{name:18} {cells:>26} {100 * spread:6.1f}%   {speedups}")
    print("\nrecommendation per run: " + " | ".join(_recommendation(d) for d in docs))


if __name__ == "__main__":
    main()
