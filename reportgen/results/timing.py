"""How a results document records the timing of a backend: its rounds (fresh processes), its time-paired
slices (schema 4), the latency summary, the warm-up, the memory, each batch size, and the run's timing
design. Part of the results schema (reportgen/results/schema.py), which reads them from here.
"""

from __future__ import annotations

from typing import Annotated

from typing_extensions import NotRequired, TypedDict

from reportgen.results.leaves import (
    Count,
    NonNegative,
    OptNonNegative,
    OptPositive,
    OptShare,
    OptText,
    Positive,
    PositiveInteger,
    Text,
    choice,
)


class Round(TypedDict):
    """One fresh worker process that timed a backend."""

    median_ms: Positive
    n: PositiveInteger  # its samples: the next n of latency_ms.samples
    other_cpu_share: OptShare
    steal_share: OptShare
    cpu_mhz: OptPositive
    started_at: OptText
    load_ms: NotRequired[OptPositive]  # this round's own load and first call (a cold compile shows here)
    first_inference_ms: NotRequired[OptPositive]


class SliceRecord(TypedDict):
    """slices[i]: one timed slice of a backend; its samples are the next n of latency_ms.samples."""

    round: PositiveInteger  # the backend's fresh process
    cycle: Count  # the same for every backend's slice of one pass: the pairs compared
    start_s: NonNegative  # since the run's first slice
    n: PositiveInteger


class Timing(TypedDict):
    """timing: how the run timed its backends (paired slices); a run whose reference failed says
    only its design, rounds and why it stopped."""

    design: Annotated[str, choice("paired-slices")]
    rounds: Count
    stopped: Annotated[str, choice("precision", "budget", "reference-failed", "nothing-to-pair")]
    slice_s: NotRequired[Positive]
    pause_s: NotRequired[NonNegative]
    cycles_per_round: NotRequired[Count]
    groups: NotRequired[list[list[Text]]]
    precision: NotRequired[Positive]
    precision_reached: NotRequired[OptNonNegative]
    max_time_s: NotRequired[Positive]
    timed_s: NotRequired[NonNegative]


class Latency(TypedDict):
    """latency_ms: the headline median of the rounds' medians, and statistics over every sample."""

    median: Positive
    mean: Positive
    p90: Positive
    p99: Positive
    std: NonNegative
    min: Positive
    max: Positive
    n: PositiveInteger
    cv: OptNonNegative
    robust_cv: OptNonNegative
    round_spread: OptNonNegative
    rounds: PositiveInteger
    samples: list[Positive]


class BatchLatency(TypedDict):
    """by_batch_size.<n>.latency_ms: the rounds' summary at that batch size (the samples stay out)."""

    median: Positive
    p90: Positive
    n: PositiveInteger
    robust_cv: OptNonNegative
    round_spread: OptNonNegative
    rounds: PositiveInteger


class BatchSize(TypedDict):
    """by_batch_size.<n>: one batch size of measurement.batch_sizes; 'unsupported': the file's batch
    axis is fixed at another size."""

    status: Annotated[str, choice("ok", "failed", "unsupported")]
    error: OptText
    latency_ms: NotRequired[BatchLatency]
    throughput_per_s: NotRequired[Positive]
    memory_mb: NotRequired[Positive]


class Warmup(TypedDict):
    median: Positive
    mean: Positive
    max: Positive
    n: Count


class Memory(TypedDict):
    """memory_mb: RSS of the backend's own process (MB), the median over its rounds (a worker always
    reads all four; the page subtracts them)."""

    at_start: OptPositive  # null: a schema-1 file, which did not read it
    before_load: Positive
    after_load: Positive
    peak: Positive
