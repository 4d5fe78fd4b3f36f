"""Speed, memory and size of every backend, measured side by side in one run of the demo config.

    .venv/bin/python benchmarks/bench_backends.py [-c configs/demo.yaml] [--results build/bench.json]

Runs `reportgen run` (each backend in measurement.rounds interleaved fresh processes, equal threads,
warm-up excluded) unless --results names an existing results file, then prints the medians of the round
medians, speed-ups with their 95% intervals over the rounds, peak RSS and file sizes. One run is one
draw of this machine: for how far runs move, use bench_repeatability.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from reportgen.results.document import read_results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", default="configs/demo.yaml")
    parser.add_argument("--results", type=Path, default=Path("build/bench.json"))
    parser.add_argument("--reuse", action="store_true", help="print an existing results file, do not run")
    args = parser.parse_args()
    if not args.reuse:
        cmd = [sys.executable, "-m", "reportgen", "run", "-c", args.config, "-o", str(args.results)]
        subprocess.run(cmd, check=True)
    doc = read_results(args.results)
    env = doc["environment"]
    print(
        f"{env['cpu']}, {env['cores_logical']} cores, {env['threads']} threads; "
        f"other processes used {100 * (env.get('other_cpu_share') or 0):.1f}% of the CPU during the run"
    )
    header = f"{'backend':18} {'median ms':>9} {'p90 ms':>7} {'speed-up (95% CI)':>22} {'peak MB':>8}"
    print(header + f" {'file MB':>8}  dtype")
    for name in doc["backend_order"]:
        b = doc["backends"][name]
        if b["status"] != "ok":
            print(f"{name:18} failed: {b['error']}")
            continue
        lat = b["latency_ms"]
        interval = b["speedup_interval"]
        speedup = (
            f"{b['speedup']:.2f}x ({interval[0]:.2f}-{interval[1]:.2f})" if b["speedup"] else "reference"
        )
        size = f"{b['file_size_mb']:8.2f}" if b["file_size_mb"] else f"{'-':>8}"
        print(
            f"{name:18} {lat['median']:9.2f} {lat['p90']:7.2f} {speedup:>22} {b['memory_mb']['peak']:8.0f} "
            f"{size}  {b['weight_dtype']}"
        )


if __name__ == "__main__":
    main()
