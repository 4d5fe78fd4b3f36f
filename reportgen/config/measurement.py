"""The measurement and analysis sections: how latency is measured, and the thresholds the findings
and the release gate judge it by."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from reportgen.config.sections import MAX_THREADS, MAX_TIMEOUT_S, MAX_WARMUP
from reportgen.config.sections import Section as _Section
from reportgen.config.words import SANE
from reportgen.config.words import Expect as _Expect
from reportgen.config.words import cross_error as _cross_error

MAX_ITERATIONS = 1_000_000
MAX_BATCH = 4096


class MeasurementConfig(_Section):
    threads: Annotated[int, SANE] = Field(
        2, gt=0, le=MAX_THREADS, description="Intra-op threads of every backend that does not set its own."
    )
    rounds: Annotated[int, SANE] = Field(
        3,
        gt=0,
        le=1000,
        description="Rounds at least: in each, every backend runs in a fresh process of its own, all alive "
        "at once and timed in alternating slices. More rounds follow while the speed-ups that decide the "
        "recommendation are less precise than `precision` and `max_time_s` allows.",
    )
    slice_s: Annotated[float, SANE] = Field(
        0.1,
        gt=0,
        le=60,
        description="Length of one timed slice (at least one call). Every candidate slice is timed between "
        "two slices of the reference, so the three see the same speed of the machine.",
    )
    pause_s: Annotated[float, SANE] = Field(
        0.03,
        ge=0,
        le=10,
        description="Pause after each slice, so the runtime that just ran lets its spinning threads sleep "
        "before the next one is timed (benchmarks/bench_pause.py: on 2 cores ONNX Runtime's speed-up read "
        "4.9x with no pause, 4.0x with 5 ms, 3.6x from 30 ms on).",
    )
    precision: Annotated[float, SANE] = Field(
        0.05,
        gt=0,
        le=1,
        description="Target half-width (a fraction: 0.05 is +-5%) of the 95% intervals of the speed-ups that "
        "decide the recommendation: the fastest backend's and those whose interval reaches into it.",
    )
    max_time_s: Annotated[float, SANE] = Field(
        110.0,
        gt=0,
        le=MAX_TIMEOUT_S,
        description="Time budget of the timed rounds: no round starts that would end after it. The report "
        "says whether the precision or the budget ended the measurement.",
    )
    profile: bool = Field(
        True,
        description="After the timed rounds, each backend runs once more in a fresh process under its "
        "runtime's profiler (ONNX Runtime's profiler, torch.profiler, OpenVINO's performance counters): "
        "where the time goes, and the measured causes of the speed findings. false skips it (seconds per "
        "backend).",
    )
    warmup_iterations: Annotated[int, SANE] = Field(
        10, ge=0, le=MAX_WARMUP, description="Untimed runs before timing, per round (fresh process)."
    )
    batch_sizes: Annotated[
        list[Annotated[int, Field(gt=0, le=MAX_BATCH)]],
        _Expect(f"a list of 1 to 16 different positive integers of at most {MAX_BATCH}"),
    ] = Field(
        [1],
        min_length=1,
        max_length=16,
        description="Batch sizes each backend is timed at (latency, throughput, memory); the first is the "
        "headline the verdicts and the recommendation refer to. More than one exports a dynamic batch axis.",
    )

    min_iterations: Annotated[int, SANE] = Field(
        20,
        gt=0,
        le=MAX_ITERATIONS,
        description="Timed runs at least, per backend and round (over its slices).",
    )
    min_time_s: Annotated[float, SANE] = Field(
        1.0,
        ge=0,
        le=3600,
        description="Timed seconds per backend and round, in slices of `slice_s` (at least 4 slices); other "
        "batch sizes are timed this long each at the end of every round.",
    )
    max_iterations: Annotated[
        int, SANE, _Expect(f"a positive integer of at least min_iterations and at most {MAX_ITERATIONS}")
    ] = Field(
        2000,
        gt=0,
        le=MAX_ITERATIONS,
        validate_default=True,
        description="Timed runs at most, per backend and round.",
    )
    timeout_s: Annotated[float, SANE] = Field(
        900.0, gt=0, le=MAX_TIMEOUT_S, description="Wall-clock limit of one backend's worker process."
    )

    @field_validator("batch_sizes")
    @classmethod
    def _different_sizes(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            expected = f"a list of 1 to 16 different positive integers of at most {MAX_BATCH}"
            raise ValidationError.from_exception_data(cls.__name__, [_cross_error((), value, expected)])
        return value

    @field_validator("max_iterations")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_iterations")
        if minimum is not None and value < minimum:
            expected = f"a positive integer of at least min_iterations ({minimum})"
            raise ValidationError.from_exception_data(cls.__name__, [_cross_error((), value, expected)])
        return value


class AnalysisConfig(_Section):
    max_map_drop_points: float = Field(
        1.0,
        ge=0,
        description="A drop of box mAP@0.5 larger than this many points (vs the reference) is flagged.",
    )
    speed_tolerance_pct: float = Field(
        5.0, ge=0, description="Speed differences below this, or inside the noise, are 'no difference'."
    )
    max_cv: float = Field(
        0.15,
        gt=0,
        description="Robust coefficient of variation (0.74 x IQR / median) above which timings "
        "are flagged noisy; unlike std / mean, a few outliers do not move it.",
    )
    min_samples: Annotated[int, SANE] = Field(
        30,
        ge=2,
        le=MAX_ITERATIONS,
        description="Fewer timed samples than this (all rounds together) are flagged as too few.",
    )
    max_round_spread: float = Field(
        0.10,
        gt=0,
        description="Spread of a backend's round medians ((max - min) / median) above which the report says "
        "this machine cannot rank backends closer than that spread.",
    )
    max_other_cpu_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Share of all CPU time used by other processes during the run above "
        "which the timings are flagged as disturbed.",
    )
    regression_latency_pct: float = Field(
        10.0,
        ge=0,
        description="`reportgen compare` fails when a median latency grows by more than this percentage "
        "and the 95% bootstrap interval of the change is above no change (outside the noise).",
    )
    regression_accuracy_points: float = Field(
        1.0,
        ge=0,
        description="`reportgen compare` fails when mAP, precision or recall drops by more than this many "
        "percentage points.",
    )
    regression_size_pct: float = Field(
        5.0,
        ge=0,
        description="`reportgen compare` fails when a model file grows by more than this percentage.",
    )
