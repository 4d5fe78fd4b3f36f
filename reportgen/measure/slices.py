"""Time-paired measurement: every backend alive in its own process, timed in short alternating slices.

The machine's speed changes over time (states about 1.5x apart that last from a second to a minute on
our VM: docs/method.md, "Speed: time-paired slices"), so two backends timed at different moments
disagree by more than the difference between them. Here a round starts one fresh process per backend
(isolation stays: each has its own runtime, threads and memory), then drives them in cycles: every cycle
times one short slice of each candidate, in an order shuffled per cycle, each between two slices of the
reference (R a R b R ...), with a pause after each slice so the runtime that just ran lets its spinning
threads sleep before the next one starts. A candidate slice and the reference slices beside it saw the
same state of the machine: the speed-ups compare the calls of such pairs (stats.paired_speedup).

Rounds repeat with fresh processes (process-level effects: layout, thread placement) until the
speed-ups that decide the recommendation are as precise as ``measurement.precision`` asks, or
``measurement.max_time_s`` is spent. Backends that do not fit in memory together are measured in
groups, each with the reference.
"""

from __future__ import annotations

import math
import random
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from pathlib import Path

import psutil

from reportgen import stats
from reportgen.measure import environment, process

SCHEDULE_SEED = 0  # fixed: the same config always measures in the same order
MIN_CYCLES = 4  # per round: pairs enough for a median inside each process
MAX_ROUNDS = 50
MEMORY_HEADROOM = 0.5  # live workers may hold at most this share of the memory available at the start
MIB = 2**20

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """How slices are cut and how long the measurement may go on (from the config's measurement)."""

    slice_s: float
    pause_s: float
    cycles: int  # per round
    min_calls: int  # per slice
    max_calls: int  # per slice
    min_rounds: int
    precision: float
    max_time_s: float
    timeout_s: float

    @classmethod
    def of(cls, m: dict) -> Plan:
        """Return the plan of a config's ``measurement`` section (as a dict)."""
        cycles = max(MIN_CYCLES, math.ceil(m["min_time_s"] / m["slice_s"]))
        min_calls = max(1, math.ceil(m["min_iterations"] / cycles))
        return cls(
            slice_s=m["slice_s"],
            pause_s=m["pause_s"],
            cycles=cycles,
            min_calls=min_calls,
            max_calls=max(min_calls, math.ceil(m["max_iterations"] / cycles)),
            min_rounds=m["rounds"],
            precision=m["precision"],
            max_time_s=m["max_time_s"],
            timeout_s=m["timeout_s"],
        )


class Worker:
    """One backend's live process for one round, driven over a socket pair."""

    def __init__(
        self, job: dict, stem: Path, threads: int, timeout_s: float, prefix: tuple[str, ...] = ()
    ) -> None:
        ours, theirs = socket.socketpair()
        self.stem, self.timeout_s, self.timed_out = stem, timeout_s, False
        job = {**job, "connection_fd": theirs.fileno()}
        self.proc = process.launch(job, stem, threads, (theirs.fileno(),), prefix)
        theirs.close()  # the child holds its end: our end sees EOF when the child exits
        self.conn = Connection(ours.detach())
        self.ready = self._receive("ready")  # None: the worker ended (failed, unavailable)

    def _receive(self, kind: str) -> dict | None:
        try:
            if not self.conn.poll(self.timeout_s):
                self.timed_out = True
                self.proc.kill()
                return None
            message = self.conn.recv()
        except (EOFError, OSError):
            return None
        return message[1] if message[0] == kind else None

    def time_slice(self, plan: Plan) -> dict | None:
        """Return one slice ({start_ns, samples}), or None if the worker died."""
        try:
            self.conn.send(("slice", plan.slice_s, plan.min_calls, plan.max_calls))
        except OSError:
            return None
        return self._receive("slice")

    def finish(self) -> dict:
        """Let the worker measure its other batch sizes and the data set, and return its result."""
        try:
            self.conn.send(("finish",))
        except OSError:
            pass
        result = process.collect(self.proc, self.stem, self.timeout_s)
        self.conn.close()
        if self.timed_out:  # killed by us: the timeout is the cause, not the signal
            error = f"timed out after {self.timeout_s:g} s (see {process.shown_log(self.stem)})"
            return {"status": "failed", "error": error}
        return result


@dataclass
class Measured:
    """What one backend gathered so far: its rounds' results and its slices' samples."""

    rounds: list[dict] = field(default_factory=list)
    slices: list[dict] = field(default_factory=list)  # {round, cycle, start_ns, samples}
    ended: dict | None = None  # the failed or unavailable result that ended it
    processes: int = 0  # started so far; a slice's round is the process it was timed in

    def series(self, t0_ns: int) -> list[stats.Slice]:
        return [
            stats.Slice(
                s["round"],
                s["cycle"],
                (s["start_ns"] - t0_ns) / 1e9,
                statistics.median(s["samples"]),
                tuple(s["samples"]),
            )
            for s in self.slices
        ]


def groups(
    names: list[str], reference: str, estimate_mb: dict[str, float], available_mb: float
) -> list[list[str]]:
    """Return the backends to keep alive together: all at once where they fit in MEMORY_HEADROOM of the
    memory available, else groups that each start with the reference (every pair needs it)."""
    budget = MEMORY_HEADROOM * available_mb
    others = [n for n in names if n != reference]
    plan: list[list[str]] = [[reference]]
    for name in others:
        group = plan[-1]
        if len(group) > 1 and sum(estimate_mb[n] for n in group) + estimate_mb[name] > budget:
            plan.append([reference])
        plan[-1].append(name)
    return plan


def measure(
    jobs: dict[str, tuple[dict, Path, int, float]], reference: str, plan: Plan, progress: Progress
) -> tuple[dict[str, Measured], dict]:
    """Measure every backend of ``jobs`` (name -> (round-1 job, work stem, threads, timeout)) in rounds of
    paired slices; return what each gathered and the record of how the measurement went and stopped."""
    measured = {name: Measured() for name in jobs}
    rng = random.Random(SCHEDULE_SEED)
    started = time.monotonic()
    estimate = {name: _estimate_mb(job) for name, (job, *_) in jobs.items()}
    plan_groups = groups(list(jobs), reference, estimate, psutil.virtual_memory().available / MIB)
    cycle, number, stopped = 0, 0, None
    while stopped is None:
        number += 1
        round_started = time.monotonic()
        for group in plan_groups:
            cycle = _round(jobs, reference, group, number, cycle, plan, rng, measured, progress)
        # The next round lasts about as long as this one (round 1 also ran the data set: longer).
        last = time.monotonic() - round_started
        stopped = stop(number, time.monotonic() - started + last, plan, measured, reference)
    record = {
        "design": "paired-slices",
        "slice_s": plan.slice_s,
        "pause_s": plan.pause_s,
        "cycles_per_round": plan.cycles,
        "rounds": number,
        "groups": plan_groups,
        "stopped": stopped,
        "precision": plan.precision,
        "precision_reached": worst_half_width(measured, reference),
        "max_time_s": plan.max_time_s,
        "timed_s": round(time.monotonic() - started, 3),
    }
    return measured, record


def stop(
    number: int, next_end_s: float, plan: Plan, measured: dict[str, Measured], reference: str
) -> str | None:
    """Return why the measurement stops after round ``number``, or None to run another round.

    ``next_end_s`` is when another round would end (so far, plus the last round's length): no round
    starts that would overrun ``max_time_s``. Before ``min_rounds`` only a reference with nothing left
    to pair stops it.
    """
    if measured[reference].ended is not None:
        return "reference-failed"
    if all(m.ended is not None for name, m in measured.items() if name != reference):
        return "nothing-to-pair"
    if number < plan.min_rounds:
        return None
    worst = worst_half_width(measured, reference)
    if worst is not None and worst <= plan.precision:
        return "precision"
    if next_end_s > plan.max_time_s or number >= MAX_ROUNDS:
        return "budget"
    return None


def _estimate_mb(job: dict) -> float:
    """A backend's resident memory before it ran once: a runtime's floor plus four times its file."""
    path = job.get("model_path")
    size = Path(path).stat().st_size / MIB if isinstance(path, str) and Path(path).is_file() else 0.0
    return 300.0 + 4 * size


def _round(
    jobs: dict,
    reference: str,
    group: list[str],
    number: int,
    cycle: int,
    plan: Plan,
    rng: random.Random,
    measured: dict[str, Measured],
    progress: Progress,
) -> int:
    """Run one round of one group: start its workers one by one, drive the cycles, finish them.
    Return the number of the next cycle (cycles are numbered across rounds and groups)."""
    contention, mhz = environment.CpuContention(), environment.cpu_mhz()
    started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    live = {name: w for name in group if (w := _start(jobs[name], name, number, measured[name], progress))}
    progress(f"round {number}: {plan.cycles} cycles of {plan.slice_s:g}-s slices over {', '.join(live)}")
    for _ in range(plan.cycles):
        for name in _sandwich(list(live), reference, rng):
            if name not in live:
                continue  # it died earlier in this cycle
            timed = live[name].time_slice(plan)
            time.sleep(plan.pause_s)  # the runtime that just ran lets its threads sleep
            if timed is None:  # the process died: its result (or the log's last line) says why
                measured[name].ended = live.pop(name).finish()
                continue
            measured[name].slices.append({**timed, "round": measured[name].processes, "cycle": cycle})
        cycle += 1
    results = {name: worker.finish() for name, worker in live.items()}  # all end before CPU is read
    record = {
        "started_at": started_at,
        "cpu_mhz": mhz,
        "other_cpu_share": contention.other_share(),
        "steal_share": contention.steal_share(),
    }
    for name, result in results.items():
        if result["status"] != "ok":
            measured[name].ended = result
            continue
        measured[name].rounds.append({**result, "ready": live[name].ready, "round": record})
    return cycle


def _sandwich(names: list[str], reference: str, rng: random.Random) -> list[str]:
    """Return one cycle's order: the candidates shuffled, each between two slices of the reference
    (R a R b R ...), so every candidate slice has a reference slice right before and after it."""
    candidates = [n for n in names if n != reference]
    rng.shuffle(candidates)
    return [reference, *(name for candidate in candidates for name in (candidate, reference))]


def _start(job_entry: tuple, name: str, number: int, measured: Measured, progress: Progress) -> Worker | None:
    """Start one backend's fresh process and wait until it is loaded; None if it ended instead."""
    if measured.ended is not None:
        return None
    job, work, threads, timeout = job_entry
    measured.processes += 1
    progress(f"round {number}: starting {name} ({job['kind']}) in a fresh process")
    # The data-set pass runs in the first process only; every process keeps its own files.
    job = {**job, "outputs_path": job["outputs_path"] if measured.processes == 1 else None}
    worker = Worker(job, work.with_name(f"{work.name}-round{measured.processes}"), threads, timeout)
    if worker.ready is None:
        measured.ended = worker.finish()
        return None
    return worker


def worst_half_width(measured: dict[str, Measured], reference: str) -> float | None:
    """Return the widest relative half-width among the speed-ups that decide the recommendation: the
    fastest backend's and those whose interval reaches into it (the tie rule); None before any pair."""
    ref = measured[reference]
    if not ref.slices:
        return None
    t0 = min(s["start_ns"] for m in measured.values() for s in m.slices)
    found = {
        name: stats.paired_speedup(ref.series(t0), m.series(t0))
        for name, m in measured.items()
        if name != reference and m.ended is None and m.slices
    }
    speedups = {n: s for n, s in found.items() if s is not None}
    if not speedups:
        return None
    fastest = max(speedups.values(), key=lambda s: s.value)
    deciding = [s for s in speedups.values() if s is fastest or s.high >= fastest.low]
    return max(s.half_width for s in deciding)
