"""The regression gate's error rates, measured: false alarms on the same code, planted slowdowns caught.

    .venv/bin/python benchmarks/bench_gate.py [--pairs 10] [--sizes 0.05,0.1,0.2] [--out build/gate]
        [--regression-pct 5] [--tolerance-pct 2] [--rounds 6] [--round-s 2.5] [--max-time-s 75]

The demo net is exported once (`reportgen run` of a two-backend config: eager PyTorch, the reference,
and ONNX Runtime on a given file). For each slowdown size a planted copy of the file is made: the
same graph plus a chain of real 64x64 MatMuls on the input whose result, times zero, is added to an
output (the answers stay bit-identical; ONNX Runtime computes the chain on every call). The chain's
length is calibrated so that it costs that share of the file's own latency, measured in one process
by alternating the two files (the realized share is printed). Then `--pairs + 1` runs time the plain
file and `--pairs` runs per size time the planted one, each a fresh `reportgen run`, interleaved
(plain 0, planted 0, plain 1, ...: a slow stretch of the machine falls on both kinds alike). Each run
is `--rounds` fresh processes per backend of `--round-s` seconds of slices each, within `--max-time-s`:
a process now and then reads 10-30% off the others (3 of 63 in 3-round runs read 11-32% off), and
with three the bootstrap over processes draws that one three times in 1 of 27 replicates, which
widens the interval past the gate's tolerance; six rounds make that rare. Same-code pairs are plain
runs i and i+1; a planted pair is plain run i against planted run i, timed right after it. Every
pair goes through `reportgen compare` (the gate, exit 1 on a regression), with the thresholds the runs' configs
set (a slowdown over ``--regression-pct`` whose interval lies beyond ``--tolerance-pct``); printed:
false alarms among the same-code pairs and detections per size, with each pair's judged change of
ONNX Runtime's latency (against PyTorch timed beside it in both runs).
Nothing else may run on the machine meanwhile (each run's other-CPU share is printed).
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

import numpy as np
import onnx
from onnx import helper, numpy_helper

WIDTH = 64  # of the planted MatMuls: fine steps of cost (a few percent of the demo's latency each)
CALIBRATION_LINKS = 24


def _config(out: Path, name: str, onnx_file: Path | None, gate: tuple[float, float], timing: str) -> Path:
    """Write the bench's config: the demo net, PyTorch against ONNX Runtime, quick data, paired slices
    (``timing``: the measurement's round and budget keys), and the gate's thresholds (``gate``:
    regression and speed tolerance, percent)."""
    given = f"  onnx_file: {onnx_file}\n" if onnx_file else ""
    path = out / f"{name}.yaml"
    path.write_text(
        f"version: {name}\n"
        "model: {source: builtin, task: segmentation, input_size: 160}\n"
        "dataset: {source: synthetic, images: 4}\n"
        f"export:\n  exporter: dynamo\n  opset: 18\n{given}"
        "backends:\n  - {name: pytorch, kind: pytorch}\n  - {name: onnxruntime, kind: onnxruntime}\n"
        f"measurement: {{precision: 0.03, profile: false, {timing}}}\n"
        f"analysis: {{regression_latency_pct: {gate[0]:g}, speed_tolerance_pct: {gate[1]:g}}}\n"
    )
    return path


def _reportgen(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reportgen", *args], cwd=cwd, env=dict(os.environ), **kwargs)


def _run(out: Path, name: str, onnx_file: Path | None, gate: tuple[float, float], timing: str) -> Path:
    result = out / f"{name}.json"
    config = _config(out, name, onnx_file, gate, timing)
    _reportgen(["run", "-c", str(config), "-o", str(result)], out, check=True, capture_output=True)
    return result


def plant(base: onnx.ModelProto, links: int) -> onnx.ModelProto:
    """Return ``base`` with a chain of ``links`` MatMuls on its first input added, times 0, to its first
    output: real work on every call, the same answers. The weight is orthogonal, so the chain neither
    overflows nor vanishes."""
    model = onnx.ModelProto()
    model.CopyFrom(base)
    graph = model.graph
    weight = np.linalg.qr(np.random.default_rng(0).standard_normal((WIDTH, WIDTH)))[0].astype(np.float32)
    graph.initializer.extend(
        [
            numpy_helper.from_array(weight, "planted_w"),
            numpy_helper.from_array(np.array([-1, WIDTH], np.int64), "planted_shape"),
            numpy_helper.from_array(np.array(0.0, np.float32), "planted_zero"),
        ]
    )
    out = graph.output[0].name
    nodes = [helper.make_node("Reshape", [graph.input[0].name, "planted_shape"], ["planted_0"])]
    for i in range(links):
        nodes.append(helper.make_node("MatMul", [f"planted_{i}", "planted_w"], [f"planted_{i + 1}"]))
    nodes += [
        helper.make_node("ReduceSum", [f"planted_{links}"], ["planted_sum"], keepdims=0),
        helper.make_node("Mul", ["planted_sum", "planted_zero"], ["planted_nothing"]),
    ]
    for node in graph.node:  # the first output now comes out of the planted Add
        node.output[:] = [f"{out}_unplanted" if o == out else o for o in node.output]
    nodes.append(helper.make_node("Add", [f"{out}_unplanted", "planted_nothing"], [out]))
    graph.node.extend(nodes)
    return model


def _latencies(paths: list[Path], seconds: float = 12.0) -> list[float]:
    """Return each file's median latency (ms) under ONNX Runtime (2 threads), timed in alternating
    blocks in one process so that every file sees the same machine states."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    sessions = [ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"]) for p in paths]
    feed = {sessions[0].get_inputs()[0].name: np.random.default_rng(0).random((1, 3, 160, 160), np.float32)}
    samples: list[list[float]] = [[] for _ in paths]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for session, kept in zip(sessions, samples):
            for _ in range(10):
                t0 = time.perf_counter_ns()
                session.run(None, feed)
                kept.append((time.perf_counter_ns() - t0) / 1e6)
            time.sleep(0.05)
    return [statistics.median(s) for s in samples]


def planted_files(base_path: Path, sizes: list[float], out: Path) -> dict[float, tuple[Path, float]]:
    """Return, per size, a planted file and the slowdown it realized (one process, alternating)."""
    base = onnx.load(str(base_path))
    probe = out / "planted-probe.onnx"
    onnx.save(plant(base, CALIBRATION_LINKS), str(probe))
    plain_ms, probe_ms = _latencies([base_path, probe])
    per_link = (probe_ms - plain_ms) / CALIBRATION_LINKS
    files = {}
    for size in sizes:
        path = out / f"planted-{size:g}.onnx"
        onnx.save(plant(base, max(1, round(size * plain_ms / per_link))), str(path))
        files[size] = path
    measured = _latencies([base_path, *files.values()])
    return {size: (path, measured[i + 1] / measured[0] - 1) for i, (size, path) in enumerate(files.items())}


def _gate(out: Path, old: Path, new: Path) -> tuple[int, dict | None]:
    done = _reportgen(
        ["compare", str(old), str(new), "--format", "json"], out, capture_output=True, text=True
    )
    rows = json.loads(done.stdout)["rows"] if done.stdout.strip() else []
    row = next(
        (r for r in rows if r["backend"] == "onnxruntime" and r["metric"] == "latency_median_ms"), None
    )
    return done.returncode, row


def _share(path: Path) -> str:
    share = json.loads(path.read_text())["environment"]["other_cpu_share"]
    return "-" if share is None else f"{100 * share:.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--sizes", default="0.05,0.1,0.2")
    parser.add_argument("--out", type=Path, default=Path("build/gate"))
    parser.add_argument("--regression-pct", type=float, default=5.0, help="analysis.regression_latency_pct")
    parser.add_argument("--tolerance-pct", type=float, default=2.0, help="analysis.speed_tolerance_pct")
    parser.add_argument("--rounds", type=int, default=6, help="measurement.rounds: processes per backend")
    parser.add_argument("--round-s", type=float, default=2.5, help="measurement.min_time_s: slices per round")
    parser.add_argument("--max-time-s", type=float, default=75.0, help="measurement.max_time_s")
    args = parser.parse_args()
    timing = f"rounds: {args.rounds}, min_time_s: {args.round_s:g}, max_time_s: {args.max_time_s:g}"
    gate = (args.regression_pct, args.tolerance_pct)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    sizes = [float(s) for s in args.sizes.split(",")]
    exported = _run(out, "export", None, gate, "rounds: 1, min_time_s: 0.5, max_time_s: 10")
    base = out / "plain.onnx"
    base.write_bytes((out / "build" / "reportgen" / "export" / "model.onnx").read_bytes())
    del exported
    planted = planted_files(base, sizes, out)
    for size, (_, realized) in planted.items():
        print(
            f"planted {100 * size:.0f}%: realized {100 * realized:+.1f}% (one process, alternating)",
            flush=True,
        )
    print(f"gate: a regression is a slowdown over {gate[0]:g}% whose interval lies beyond {gate[1]:g}%")
    plain, runs = [], {size: [] for size in planted}
    for i in range(args.pairs + 1):  # interleaved: plain i, then each size's planted i
        plain.append(_run(out, f"plain-{i}", base, gate, timing))
        for size, (path, _) in planted.items():
            if i < args.pairs:
                runs[size].append(_run(out, f"planted-{size:g}-{i}", path, gate, timing))
    print("plain runs' other-CPU share: " + ", ".join(_share(p) for p in plain), flush=True)
    alarms = []
    for old, new in zip(plain, plain[1:]):
        code, row = _gate(out, old, new)
        alarms.append(code == 1)
        print(f"same code {old.stem} -> {new.stem}: exit {code}; {row and row['detail']}", flush=True)
    print(f"false alarms: {sum(alarms)} of {len(alarms)} same-code pairs\n", flush=True)
    for size, (_, realized) in planted.items():
        caught = []
        for old, new in zip(plain, runs[size]):
            code, row = _gate(out, old, new)
            caught.append(code == 1 and row is not None and row["status"] == "regression")
            print(f"planted {100 * size:.0f}% {old.stem} -> {new.stem}: exit {code}; {row and row['detail']}")
        print(
            f"planted {100 * size:.0f}% (realized {100 * realized:+.1f}%): caught in {sum(caught)} of "
            f"{len(caught)} pairs; other-CPU share {', '.join(_share(p) for p in runs[size])}\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
