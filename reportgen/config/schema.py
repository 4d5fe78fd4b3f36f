"""The config schema: one typed declaration of every key, its default, its check and its docs.

A config is a YAML file validated by the pydantic models below and in sections.py. Every error is
reported as one line `<file>: <key path>: expected <what>, got <value>`, all of them at once, in one
ConfigError. Loading a file (load_config) also checks the YAML itself (yamlread.py) and the files and
folders the config names (paths.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from reportgen.catalog import LOCALES
from reportgen.config import paths, yamlread
from reportgen.config.backends import BackendConfig, default_backends
from reportgen.config.checks import backend_problems, combination_problems
from reportgen.config.measurement import AnalysisConfig, MeasurementConfig
from reportgen.config.sections import (
    MAX_BACKENDS,
    DatasetConfig,
    ExportConfig,
    ModelConfig,
    ParityConfig,
    PostprocessConfig,
    SiteConfig,
)
from reportgen.config.sections import Section as _Section
from reportgen.config.words import Expect as _Expect
from reportgen.config.words import error_line, reference, short_repr, shown_loc, sort_key
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

# At most this many problem lines in one error; the rest are counted.
MAX_LINES = 20


if TYPE_CHECKING:
    Locale = str
else:
    Locale = Literal[LOCALES]  # one of catalog.LOCALES (a Literal built at run time: a str to mypy)


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
    locale: Locale = Field("en", description="Language of the report.")
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
            line, loc = error_line(error, Config), shown_loc(error["loc"], Config)
            if (loc, line) not in problems:
                problems.append((loc, line))
        return None, problems


def _raise(source: str, problems: list[Problem]) -> NoReturn:
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
    if config is None:
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
        written = (data or {}) if config is None else config.model_dump()
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
