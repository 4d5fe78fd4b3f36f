"""The config schema: one typed declaration of every key, its default, its check and its docs.

A config is a YAML file validated by the pydantic models below. Every error is reported as one line
`<file>: <key path>: expected <what>, got <value>`, all of them at once, in one ConfigError.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from reportgen.config.words import Expect as _Expect
from reportgen.config.words import cross_error as _cross_error
from reportgen.config.words import error_line, reference, short_repr, sort_key
from reportgen.errors import ConfigError

# Names the site keeps for itself next to the per-version folders (site/<version>/).
_RESERVED_VERSIONS = ("assets", "index")


class _Section(BaseModel):
    # strict: YAML already types its scalars, so `threads: true` or `opset: 17.5` is a mistake to
    # report, not a value to coerce. allow_inf_nan: `.inf` is never a sensible threshold or timeout.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ModelConfig(_Section):
    name: Annotated[str, _Expect("a non-empty string")] = Field(
        "reportgen-demo-seg", min_length=1, description="Model name shown in the report."
    )
    source: Literal["builtin", "torchscript", "factory", "ultralytics"] = Field(
        "builtin",
        description="Where the PyTorch model comes from: the shipped demo net, a TorchScript file, a "
        "`module:function` factory, or an Ultralytics checkpoint (pip install reportgen[ultralytics]).",
    )
    checkpoint: Annotated[str | None, _Expect("a file path")] = Field(
        None,
        description="Model file, relative to the config file: builtin: FP16 weights (null: the shipped "
        "demo); torchscript/ultralytics: the .pt file; factory: optional weights for the built module.",
    )
    factory: Annotated[str | None, _Expect("'package.module:function'")] = Field(
        None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="factory: the function that returns the torch.nn.Module (called with no arguments).",
    )
    python_path: Annotated[list[str], _Expect("a list of folder paths")] = Field(
        default_factory=list,
        description="factory: folders (relative to the config file) added to the import path; the config "
        "file's own folder always is.",
    )
    trust_checkpoint: bool = Field(
        False,
        description="Allow a pickled full-model checkpoint (torch.load weights_only=False): unpickling runs "
        "code from the file, so only for files you trust.",
    )
    task: Literal["segmentation", "detection", "classification", "raw"] = Field(
        "segmentation",
        description="What the model predicts: YOLO-style segmentation or detection outputs, class logits, "
        "or any tensors (raw: parity and speed only).",
    )
    input_size: Annotated[
        int, _Expect("a positive integer (a multiple of 32 for detection/segmentation)")
    ] = Field(160, gt=0, description="Square input side in pixels that images are letterboxed or resized to.")
    input_shape: Annotated[
        list[Annotated[int, Field(gt=0)]] | None, _Expect("a list of positive integers")
    ] = Field(
        None, min_length=1, description="raw: the input tensor's shape; null: [1, 3, input_size, input_size]."
    )
    class_names: Annotated[list[str] | None, _Expect("a list of class names")] = Field(
        None,
        description="Class names; null: from the checkpoint where it has them, else 'class 0', 'class 1'...",
    )
    mean: Annotated[list[float], _Expect("a list of 3 numbers")] = Field(
        [0.485, 0.456, 0.406],
        min_length=3,
        max_length=3,
        description="classification: per-channel mean subtracted after scaling to [0, 1] (ImageNet's).",
    )
    std: Annotated[list[Annotated[float, Field(gt=0)]], _Expect("a list of 3 positive numbers")] = Field(
        [0.229, 0.224, 0.225],
        min_length=3,
        max_length=3,
        description="classification: per-channel standard deviation divided by (ImageNet's).",
    )


class DatasetConfig(_Section):
    source: Literal["synthetic", "folder", "random"] = Field(
        "synthetic",
        description="Evaluation inputs: generated shapes with ground truth (detection/segmentation), a "
        "folder of images, or random tensors (raw).",
    )
    seed: int = Field(2024, ge=0, description="Seed of the synthetic generator and of random inputs.")
    images: int = Field(
        200, gt=0, description="Number of evaluation images (at most this many from a folder)."
    )
    path: Annotated[str | None, _Expect("a folder path")] = Field(
        None, description="folder: the image folder (jpg/png), relative to the config file."
    )
    labels: Literal["none", "coco", "yolo", "folders"] = Field(
        "none",
        description="folder: ground truth as COCO JSON, YOLO txt files, or (classification) one subfolder "
        "per class; none: no accuracy, only parity and speed.",
    )
    labels_path: Annotated[str | None, _Expect("a file or folder path")] = Field(
        None,
        description="coco: the annotations JSON; yolo: a labels folder mirroring the image folder (null: "
        "the image path with its last 'images' folder replaced by 'labels', as Ultralytics does, else "
        "beside the image).",
    )


class ExportConfig(_Section):
    exporter: Literal["dynamo", "legacy"] = Field(
        "dynamo", description="torch.onnx exporter: the dynamo one or the TorchScript-based legacy one."
    )
    opset: int = Field(18, ge=7, le=23, description="ONNX opset version to export to.")
    onnx_file: Annotated[str | None, _Expect("a file path")] = Field(
        None,
        description="An existing ONNX file to check instead of exporting (the file you ship), relative to "
        "the config file; null: export.",
    )


class BackendConfig(_Section):
    name: Annotated[str, _Expect("a name of letters, digits, '.', '_' or '-'")] = Field(
        pattern=r"^[A-Za-z0-9_.-]+$", description="Unique name of this backend in the report."
    )
    kind: Literal["pytorch", "torchscript", "onnxruntime"] = Field(
        description="Which runtime runs the model: eager PyTorch, a traced TorchScript module, ONNX Runtime."
    )
    threads: int | None = Field(None, gt=0, description="Intra-op threads; null: measurement.threads.")
    graph_optimization: Literal["disabled", "basic", "extended", "all"] = Field(
        "all",
        description="ONNX Runtime graph optimization level; a pytorch backend must keep the default.",
    )
    warmup_iterations: int | None = Field(
        None, ge=0, description="Untimed runs before timing; null: measurement.warmup_iterations."
    )
    time_load_in_latency: bool = Field(
        False,
        description="Count model load / session creation in every latency sample (a classic mistake).",
    )
    timeout_s: float | None = Field(
        None, gt=0, description="Wall-clock limit of this backend's worker; null: measurement.timeout_s."
    )
    freeze: bool = Field(True, description="torchscript: torch.jit.freeze the traced module (folds weights).")
    quantization: Literal["none", "dynamic", "static"] = Field(
        "none",
        description="onnxruntime: INT8 quantization of the exported model; static is QDQ calibrated on "
        "generated images that are not in the evaluation set.",
    )
    calibration_images: int = Field(
        16, gt=0, description="onnxruntime, static quantization: calibration images."
    )
    letterbox: Literal["square", "rect"] = Field(
        "square",
        description="pytorch, detection/segmentation: 'rect' pads each image only to the next multiple of 32 "
        "(Ultralytics' predict default) instead of the full square a fixed-size export needs; set it to "
        "reproduce a pipeline that differs from the deployed one.",
    )

    @field_validator("graph_optimization")
    @classmethod
    def _only_onnxruntime_optimizes(cls, value: str, info: ValidationInfo) -> str:
        # Any other level on a pytorch backend suggests the author believes it has an effect there.
        # The default itself stays accepted so that a dumped config (which writes every key) loads.
        if info.data.get("kind") in ("pytorch", "torchscript") and value != "all":
            expected = "no graph_optimization on a backend of kind 'pytorch' (an onnxruntime option)"
            raise ValidationError.from_exception_data(cls.__name__, [_cross_error((), value, expected)])
        return value


class MeasurementConfig(_Section):
    threads: int = Field(2, gt=0, description="Intra-op threads of every backend that does not set its own.")
    rounds: int = Field(
        5,
        gt=0,
        description="Fresh worker processes that time each backend, interleaved across backends (round 1 "
        "of every backend, then round 2...). One process is one sample of the machine: the headline latency "
        "is the median of the rounds' medians and speed-up intervals come from the spread between rounds.",
    )
    warmup_iterations: int = Field(10, ge=0, description="Untimed runs before timing, per round.")
    min_iterations: int = Field(20, gt=0, description="Timed runs at least, per round.")
    min_time_s: float = Field(
        0.5, ge=0, description="Keep timing until this many seconds have passed, per round."
    )
    max_iterations: Annotated[int, _Expect("a positive integer of at least min_iterations")] = Field(
        2000, gt=0, validate_default=True, description="Timed runs at most, per round."
    )
    timeout_s: float = Field(900.0, gt=0, description="Wall-clock limit of one backend's worker process.")

    @field_validator("max_iterations")
    @classmethod
    def _max_not_below_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_iterations")
        if minimum is not None and value < minimum:
            expected = f"a positive integer of at least min_iterations ({minimum})"
            raise ValidationError.from_exception_data(cls.__name__, [_cross_error((), value, expected)])
        return value


class PostprocessConfig(_Section):
    conf_threshold: float = Field(
        0.25, gt=0, lt=1, description="Detections below this confidence are dropped."
    )
    iou_threshold: float = Field(0.5, gt=0, le=1, description="Non-maximum suppression IoU threshold.")
    max_detections: int = Field(100, gt=0, description="Detections kept per image after NMS.")
    mask_threshold: float = Field(0.5, gt=0, lt=1, description="Mask probability above which a pixel is in.")


class ParityConfig(_Section):
    atol: float = Field(1e-4, ge=0, description="Absolute tolerance of raw output comparison.")
    rtol: float = Field(1e-3, ge=0, description="Relative tolerance of raw output comparison.")
    rel_floor: float = Field(
        1e-3, gt=0, description="Relative error is computed only where |reference| is at least this."
    )
    match_iou: float = Field(0.5, gt=0, le=1, description="IoU at which two detections count as the same.")
    near_threshold_band: float = Field(
        0.02, ge=0, lt=1, description="Detections this close to conf_threshold may flip; counted apart."
    )
    min_match_rate: float = Field(
        0.98, ge=0, le=1, description="Share of detections that must match for parity to pass."
    )


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
    min_samples: int = Field(
        30, ge=2, description="Fewer timed samples than this (all rounds together) are flagged as too few."
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


class SiteConfig(_Section):
    dir: Annotated[str, _Expect("a folder path")] = Field(
        "site",
        min_length=1,
        description="Folder the static report site is written to, relative to the working directory.",
    )


def _default_backends() -> list[BackendConfig]:
    return [
        BackendConfig(name="pytorch", kind="pytorch"),
        BackendConfig(name="onnxruntime", kind="onnxruntime"),
    ]


class Config(_Section):
    version: Annotated[
        str,
        _Expect(
            "a label of letters, digits, '.', '_' or '-' that starts with a letter or digit"
            " (at most 64 characters, not 'assets' or 'index')"
        ),
    ] = Field(
        "dev",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=64,
        description="Report version label; also the site folder of this report.",
    )
    title: str | None = Field(None, description="Report title; null: a default title.")
    locale: Literal["en", "ko"] = Field("en", description="Language of the report.")
    reference: Annotated[str, _Expect("the name of a backend of kind 'pytorch'")] = Field(
        "pytorch", description="Name of the pytorch backend the others are compared to."
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="The PyTorch model to convert.")
    dataset: DatasetConfig = Field(default_factory=DatasetConfig, description="The evaluation images.")
    export: ExportConfig = Field(default_factory=ExportConfig, description="How the ONNX file is exported.")
    backends: Annotated[
        list[BackendConfig], _Expect("a non-empty list of backends, each a mapping with name and kind")
    ] = Field(default_factory=_default_backends, min_length=1, description="The runtimes to compare.")
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
        if value.lower() in _RESERVED_VERSIONS:  # lower(): case-insensitive file systems collide too
            raise ValueError("reserved")  # worded from the field's _Expect phrase
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _check_backends(cls, data: Any, handler: Any) -> Config:
        # Checked on the raw input, not after validation, so that these errors are reported
        # together with every other error instead of only once the rest is valid.
        problems = _backend_problems(data) if isinstance(data, dict) else []
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
        problems += _combination_problems(config)
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


def _backend_problems(data: dict[str, Any]) -> list[InitErrorDetails]:
    """Return the unique-name and reference errors visible in raw (unvalidated) config data."""
    backends = data.get("backends", _default_backends())
    if not isinstance(backends, list):
        return []  # the type error is reported by validation

    def raw(item: Any, key: str) -> Any:
        if isinstance(item, BaseModel):
            return getattr(item, key, None)
        return item.get(key) if isinstance(item, dict) else None

    problems = []
    seen: set[str] = set()
    for index, item in enumerate(backends):
        name = raw(item, "name")
        if isinstance(name, str):
            if name in seen:
                problems.append(
                    _cross_error(("backends", index, "name"), name, "a name no other backend has")
                )
            seen.add(name)
    reference = data.get("reference", "pytorch")
    kinds = [(raw(item, "name"), raw(item, "kind")) for item in backends]
    complete = all(
        isinstance(name, str) and kind in ("pytorch", "torchscript", "onnxruntime") for name, kind in kinds
    )
    if isinstance(reference, str) and complete:
        candidates = [name for name, kind in kinds if kind == "pytorch"]
        if reference not in candidates:
            if candidates:
                listed = "backends of that kind: " + ", ".join(repr(name) for name in candidates)
            else:
                listed = "backends has none of that kind"
            expected = f"the name of a backend of kind 'pytorch' ({listed})"
            problems.append(_cross_error(("reference",), reference, expected))
    return problems


def _combination_problems(config: Config) -> list[InitErrorDetails]:
    """Return the errors of keys that are valid alone but not together (source, task, data, export)."""
    model, data = config.model, config.dataset
    problems = []
    if model.source in ("torchscript", "ultralytics") and model.checkpoint is None:
        problems.append(_cross_error(("model", "checkpoint"), None, f"the {model.source} model file"))
    if model.source == "factory" and model.factory is None:
        problems.append(
            _cross_error(("model", "factory"), None, "'package.module:function' for source factory")
        )
    if (
        model.source == "torchscript"
        and config.export.exporter == "dynamo"
        and config.export.onnx_file is None
    ):
        expected = "'legacy' for a torchscript model (torch.export cannot trace a ScriptModule)"
        problems.append(_cross_error(("export", "exporter"), "dynamo", expected))
    for index, backend in enumerate(config.backends):
        # A key that does nothing for this kind is an error: a name like "int8" would otherwise lie.
        defaults = BackendConfig(name="x", kind="pytorch")
        for key, kinds in (
            ("quantization", ("onnxruntime",)),
            ("freeze", ("torchscript",)),
            ("calibration_images", ("onnxruntime",)),
        ):
            if getattr(backend, key) != getattr(defaults, key) and backend.kind not in kinds:
                expected = f"no {key} on a backend of kind {backend.kind!r} (it has no effect there)"
                problems.append(_cross_error(("backends", index, key), getattr(backend, key), expected))
        if backend.calibration_images != defaults.calibration_images and backend.quantization != "static":
            expected = "no calibration_images without quantization: static"
            problems.append(
                _cross_error(("backends", index, "calibration_images"), backend.calibration_images, expected)
            )
    for index, backend in enumerate(config.backends):
        if backend.letterbox == "rect" and (
            backend.kind != "pytorch" or model.task not in ("detection", "segmentation")
        ):
            expected = (
                "'square': 'rect' needs an eager pytorch backend (dynamic input shapes) and a detection task"
            )
            problems.append(_cross_error(("backends", index, "letterbox"), "rect", expected))
    if model.input_shape is not None and model.task != "raw":
        expected = "null unless model.task is raw (images are shaped by input_size)"
        problems.append(_cross_error(("model", "input_shape"), model.input_shape, expected))
    if model.task in ("detection", "segmentation") and model.input_size % 32:
        problems.append(
            _cross_error(("model", "input_size"), model.input_size, "a multiple of 32 for " + model.task)
        )
    if data.source == "synthetic" and model.task not in ("detection", "segmentation"):
        expected = (
            "'folder' or 'random' for task "
            + model.task
            + " (synthetic shapes are for detection/segmentation)"
        )
        problems.append(_cross_error(("dataset", "source"), data.source, expected))
    if data.source == "folder" and data.path is None:
        problems.append(_cross_error(("dataset", "path"), None, "the image folder for source folder"))
    if data.source == "random" and model.task != "raw":
        problems.append(
            _cross_error(("dataset", "source"), "random", "'synthetic' or 'folder' for task " + model.task)
        )
    if data.labels != "none" and data.source != "folder":
        problems.append(
            _cross_error(("dataset", "labels"), data.labels, "'none' unless dataset.source is folder")
        )
    fitting = {
        "coco": ("detection", "segmentation"),
        "yolo": ("detection", "segmentation"),
        "folders": ("classification",),
    }
    if data.labels in fitting and model.task not in fitting[data.labels]:
        expected = f"labels that fit task {model.task}: " + (
            "'folders' or 'none'" if model.task == "classification" else "'coco', 'yolo' or 'none'"
        )
        problems.append(_cross_error(("dataset", "labels"), data.labels, expected))
    return problems


def parse_config(data: Any, source: str) -> Config:
    """Validate already-loaded config data; raise one ConfigError listing every problem."""
    try:
        return Config.model_validate({} if data is None else data)
    except ValidationError as exc:
        lines = []
        for error in sorted(exc.errors(), key=sort_key):
            line = f"{source}: {error_line(error, Config)}"
            if line not in lines:
                lines.append(line)
        raise ConfigError("\n".join(lines)) from None


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


# --- Loading ---------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A SafeLoader that reads `1e-4` as a number and refuses duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # PyYAML keeps the last of two equal keys; a config silently losing a section is worse.
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable: SafeConstructor reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 (PyYAML) reads `1e-4` as a string because it has no dot; YAML 1.2 and every human read it
# as a number, and tolerances are written that way.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _beside(config_path: Path, value: str) -> str:
    """Resolve a path written in a config file relative to that file's folder."""
    return os.path.normpath(os.path.join(config_path.parent, os.path.expanduser(value)))


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read, validate and return the config in a YAML file; an empty file means all defaults."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read: not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ConfigError(f"{path}: {where}invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of config keys, got {short_repr(data)}")
    config = parse_config(data, str(path))
    if config.model.checkpoint is not None:
        config.model = config.model.model_copy(update={"checkpoint": _beside(path, config.model.checkpoint)})
    for key in ("path", "labels_path"):
        if getattr(config.dataset, key) is not None:
            config.dataset = config.dataset.model_copy(
                update={key: _beside(path, getattr(config.dataset, key))}
            )
    if config.model.python_path:
        config.model = config.model.model_copy(
            update={"python_path": [_beside(path, p) for p in config.model.python_path]}
        )
    if config.export.onnx_file is not None:
        config.export = config.export.model_copy(update={"onnx_file": _beside(path, config.export.onnx_file)})
    return config


# --- Docs and editor schema ------------------------------------------------------------------------


def config_reference() -> str:
    """Return the markdown reference of every config key, generated from the schema."""
    return reference(Config)


def json_schema() -> dict[str, Any]:
    """Return the JSON schema of a config file (for editor completion)."""
    return Config.model_json_schema()
