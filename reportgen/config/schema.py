"""The config schema: one typed declaration of every key, its default, its check and its docs.

A config is a YAML file validated by the pydantic models below and in sections.py. Every error is
reported as one line `<file>: <key path>: expected <what>, got <value>`, all of them at once, in one
ConfigError. Loading a file (load_config) also checks the YAML itself (yamlread.py) and the files and
folders the config names (paths.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from reportgen.catalog import LOCALES
from reportgen.config import paths, yamlread
from reportgen.config.checks import backend_problems, combination_problems
from reportgen.config.sections import (
    MAX_BACKENDS,
    MAX_THREADS,
    MAX_TIMEOUT_S,
    MAX_WARMUP,
    BackendConfig,
    DatasetConfig,
    ExportConfig,
    ModelConfig,
    ParityConfig,
    PostprocessConfig,
    SiteConfig,
    default_backends,
)
from reportgen.config.sections import Section as _Section
from reportgen.config.words import SANE, error_line, reference, short_repr, sort_key
from reportgen.config.words import Expect as _Expect
from reportgen.config.words import cross_error as _cross_error
from reportgen.errors import ConfigError
from reportgen.results import version as version_rule

__all__ = [
    "AnalysisConfig",
    "BackendConfig",
    "Config",
    "DatasetConfig",
    "ExportConfig",
    "MeasurementConfig",
    "ModelConfig",
    "ParityConfig",
    "PostprocessConfig",
    "SiteConfig",
    "config_reference",
    "json_schema",
    "load_config",
    "parse_config",
    "with_overrides",
]

# Names the site keeps for itself next to the per-version folders (site/<version>/).

MAX_ITERATIONS = 1_000_000
MAX_BATCH = 4096

# At most this many problem lines in one error; the rest are counted.
MAX_LINES = 20


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


class Config(_Section):
    version: Annotated[str, _Expect(version_rule.EXPECTED)] = Field(
        "dev",
        pattern=version_rule.PATTERN,
        max_length=version_rule.MAX_LENGTH,
        description="Report version label; also the site folder of this report.",
    )
    title: Annotated[str | None, _Expect("a string of at most 200 characters")] = Field(
        None, max_length=200, description="Report title; null: a default title."
    )
    locale: Literal[LOCALES] = Field("en", description="Language of the report.")
    reference: Annotated[str, _Expect("the name of a backend of kind 'pytorch'")] = Field(
        "pytorch", description="Name of the pytorch backend the others are compared to."
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="The PyTorch model to convert.")
    dataset: DatasetConfig = Field(default_factory=DatasetConfig, description="The evaluation images.")
    export: ExportConfig = Field(default_factory=ExportConfig, description="How the ONNX file is exported.")
    backends: Annotated[
        list[BackendConfig],
        _Expect(f"a non-empty list of at most {MAX_BACKENDS} backends, each a mapping with name and kind"),
    ] = Field(
        default_factory=default_backends,
        min_length=1,
        max_length=MAX_BACKENDS,
        description="The runtimes to compare.",
    )
    measurement: MeasurementConfig = Field(
        default_factory=MeasurementConfig, description="How latency is measured."
    )
    postprocess: PostprocessConfig = Field(
        default_factory=PostprocessConfig, description="How raw outputs become detections and masks."
    )
    parity: ParityConfig = Field(default_factory=ParityConfig, description="When two backends agree.")
    analysis: AnalysisConfig = Field(
        default_factory=AnalysisConfig, description="Thresholds of the findings in the report."
    )
    site: SiteConfig = Field(default_factory=SiteConfig, description="Where the report site goes.")

    @field_validator("version")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() in version_rule.RESERVED:  # lower(): case-insensitive file systems collide too
            raise ValueError("reserved")  # worded from the field's _Expect phrase
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _check_backends(cls, data: Any, handler: Any) -> Config:
        # Checked on the raw input, not after validation, so that these errors are reported
        # together with every other error instead of only once the rest is valid.
        problems = backend_problems(data) if isinstance(data, dict) else []
        try:
            config = handler(data)
        except ValidationError as exc:
            if not problems:
                raise
            details = [
                InitErrorDetails(
                    type=PydanticCustomError(e["type"], e["msg"], e.get("ctx")),
                    loc=e["loc"],
                    input=e["input"],
                )
                for e in exc.errors()
            ]
            raise ValidationError.from_exception_data(cls.__name__, details + problems) from None
        problems += combination_problems(config)
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return config

    def backend(self, name: str) -> BackendConfig:
        """Return the backend called `name`."""
        for backend in self.backends:
            if backend.name == name:
                return backend
        raise KeyError(name)

    def threads_for(self, backend: BackendConfig | str) -> int:
        """Return the intra-op thread count of a backend (its own, else measurement.threads)."""
        if isinstance(backend, str):
            backend = self.backend(backend)
        return self.measurement.threads if backend.threads is None else backend.threads

    def warmup_for(self, backend: BackendConfig | str) -> int:
        """Return the warmup iterations of a backend (its own, else measurement.warmup_iterations)."""
        if isinstance(backend, str):
            backend = self.backend(backend)
        if backend.warmup_iterations is None:
            return self.measurement.warmup_iterations
        return backend.warmup_iterations


Problem = tuple[tuple[Any, ...], str]  # (key path, the line after "<file>: ")


def _validate(data: Any) -> tuple[Config | None, list[Problem]]:
    """Return the validated config (None when invalid) and its problems, one per key."""
    try:
        return Config.model_validate({} if data is None else data), []
    except ValidationError as exc:
        problems: list[Problem] = []
        for error in exc.errors():
            line = error_line(error, Config)
            if (tuple(error["loc"]), line) not in problems:
                problems.append((tuple(error["loc"]), line))
        return None, problems


def _raise(source: str, problems: list[Problem]) -> None:
    lines = []
    for _loc, line in sorted(problems, key=lambda problem: sort_key({"loc": problem[0]})):
        if f"{source}: {line}" not in lines:
            lines.append(f"{source}: {line}")
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"{source}: ... and {len(lines) - MAX_LINES} more problems"]
    raise ConfigError("\n".join(lines))


def parse_config(data: Any, source: str) -> Config:
    """Validate already-loaded config data; raise one ConfigError listing every problem.

    The files the config names are not checked here (a config stored in a results document names the
    files of the machine that ran it): load_config checks them.
    """
    config, problems = _validate(data)
    if problems:
        _raise(source, problems)
    return config


def with_overrides(config: Config, source: str, **overrides: Any) -> Config:
    """Return `config` with the top-level keys given (not None) replaced, validated like the file."""
    updates = {key: value for key, value in overrides.items() if value is not None}
    unknown = sorted(set(updates) - set(Config.model_fields))
    if unknown:
        raise TypeError(f"with_overrides() got unknown config keys: {', '.join(unknown)}")
    if not updates:
        return config
    # The config itself is valid, so any error comes from the overrides: say so in the source label.
    options = ", ".join(f"--{key.replace('_', '-')}" for key in updates)
    return parse_config({**config.model_dump(mode="json"), **updates}, f"{source} with {options}")


def load_config(path: str | Path, check_files: bool = True) -> Config:
    """Read, validate and return the config in a YAML file; an empty file means all defaults.

    Paths in the file are relative to its folder and returned resolved. check_files: also check that
    the files and folders it names exist and are of the right kind (a command that only needs the
    config's thresholds or site folder may skip that).
    """
    path = Path(path)
    data = yamlread.read_yaml(path, yamlread.read_text(path))
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got {short_repr(data)}")
    config, problems = _validate(data)
    if check_files:
        written = data if config is None else config.model_dump()
        reported = {loc for loc, _ in problems}
        problems += paths.path_problems(written, path, reported)
        site = paths.site_problem(config.site.dir if config is not None else None)
        problems += [site] if site is not None else []
    if problems:
        _raise(str(path), problems)
    return paths.resolved(config, path)


# --- Docs and editor schema ------------------------------------------------------------------------


def config_reference() -> str:
    """Return the markdown reference of every config key, generated from the schema."""
    return reference(Config)


def json_schema() -> dict[str, Any]:
    """Return the JSON schema of a config file (for editor completion)."""
    return Config.model_json_schema()
