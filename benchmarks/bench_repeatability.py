"""Do speed verdicts reproduce? `reportgen run` of one config N times, then the runs side by side.

    .venv/bin/python benchmarks/bench_repeatability.py [-c configs/demo.yaml] [--runs 3] [--out build/repeat]
        [--pythonpath DIR]   # measure another checkout's reportgen (e.g. a worktree of an older commit)

Each run is a separate `reportgen run` (its own processes, one after the other). Printed: per backend the
median of each run and the spread across runs ((max - min) / median of the run medians); each run's
speed-up over the reference with its 95% interval, and whether it contains every other run's speed-up;
each run's recommendation; the exit code of `reportgen compare` between consecutive runs (0: no
regression); and each run's wall time. Runs and compares use the same reportgen (``--pythonpath``).
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


def _env(pythonpath: str | None) -> dict:
    return {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else dict(os.environ)


def _reportgen(args: list[str], pythonpath: str | None, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    # cwd outside the checkout: `python -m` puts the working folder first on sys.path, before PYTHONPATH.
    return subprocess.run([sys.executable, "-m", "reportgen", *args], env=_env(pythonpath), cwd=cwd, **kwargs)


def _recommendation(doc: dict) -> str:
    for f in doc["findings"]:
        if f["id"].startswith("recommend."):
            name = (f.get("params") or {}).get("name")
            return f"{f['key']} {name}" if name else f["key"]
    return "-"


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
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
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
    print(f"wall time per run: {', '.join(f'{w:.0f} s' for w in walls)}\n")
    print(
        f"{'backend':18} {'median ms per run':>26} {'spread':>7}   "
        "speed-up per run (95% interval) [contains the others]"
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
            values = [e["speedup"] for e in entries]
            speedups = "  ".join(
                f"{e['speedup']:.2f}x ({e['speedup_interval'][0]:.2f}-{e['speedup_interval'][1]:.2f})"
                f" [{'yes' if all(_contains(e['speedup_interval'], v) for v in values) else 'no'}]"
                for e in entries
            )
        print(f"{name:18} {cells:>26} {100 * spread:6.1f}%   {speedups}")
    print("\nrecommendation per run: " + " | ".join(_recommendation(d) for d in docs))


if __name__ == "__main__":
    main()
