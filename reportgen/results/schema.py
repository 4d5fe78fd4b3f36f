"""The results document, declared once: TypedDicts that analysis/, report/ and release/ read it through,
and that the reader (reportgen/results/reader.py) validates every document against.

Why pydantic over hand-written checks: the config is declared and checked the same way; one
declaration gives both the types readers annotate with and the check, so the two cannot drift; and
pydantic walks nested objects and lists, naming each problem by its key path. The values themselves
are our own leaves (reportgen/results/leaves.py): strict (nothing coerced, no NaN) and each with the
"expected ..." phrase of the message. Documents stay plain dicts (a TypedDict is a dict at run time),
so the JSON on disk is exactly the documented contract (docs/results.md) and pages render unchanged.

What a key may hold follows docs/results.md and what ``reportgen run`` writes; a key the docs mark
as absent in older files is ``NotRequired`` (older files are upgraded before they are checked). Keys
not declared here are allowed and kept. Rules across keys (a successful backend has its timings,
rounds add up to the samples, the reference is a backend) are in reportgen/results/invariants.py.
"""

from __future__ import annotations

from typing import Annotated, Any, cast, get_args

from pydantic import Field
from typing_extensions import NotRequired, TypedDict

from reportgen.catalog import LOCALES
from reportgen.config.backends import KINDS
from reportgen.config.sections import ModelConfig
from reportgen.results.leaves import (
    Count,
    Flag,
    Leaf,
    NonNegative,
    OptCount,
    OptFlag,
    OptNonNegative,
    OptNumber,
    OptPositive,
    OptPositiveInteger,
    OptShare,
    OptText,
    Positive,
    PositiveInteger,
    Share,
    Text,
    Time,
    choice,
    is_number,
)
from reportgen.results.profile import Profile
from reportgen.results.timing import BatchSize, Latency, Memory, Round, SliceRecord, Timing, Warmup
from reportgen.results.version import EXPECTED, is_version_label

Label = Annotated[str, Leaf(EXPECTED, is_version_label)]
Status = Annotated[str, choice("ok", "failed")]
# A backend may also be "unavailable": the machine lacks what it needs (a GPU, a provider); not a failure.
BackendStatus = Annotated[str, choice("ok", "failed", "unavailable")]
# Declared once, in the config: a results file holds what a config may name.
TASKS, SOURCES = (get_args(ModelConfig.model_fields[key].annotation) for key in ("task", "source"))
BOX = Leaf(
    "an [x1, y1, x2, y2] box of numbers",
    lambda v: isinstance(v, list) and len(v) == 4 and all(map(is_number, v)),
)


class Metrics(TypedDict, total=False):
    """metrics: what the task measured; each key only where the task (and its labels) has it."""

    images: Count
    detections_per_image: NonNegative
    mean_confidence: OptShare
    detection_rate: OptShare
    precision: OptShare
    recall: OptShare
    map50: OptShare
    map50_95: OptShare
    mask_map50: OptShare
    ground_truth_objects: OptCount
    top1_accuracy: OptShare
    top5_accuracy: OptShare
    classes: NotRequired[Count]  # classification: the logits' width (top-5 means something above 5)


class OutputParity(TypedDict):
    """parity.outputs.<name>: one raw output against the reference's."""

    max_abs_diff: OptNonNegative
    max_rel_diff: OptNonNegative
    mean_abs_diff: OptNonNegative
    cosine_min: OptNumber
    allclose: Flag
    shape_mismatch: NotRequired[OptText]
    worst_index: NotRequired[list[Count] | None]
    nonfinite_reference: NotRequired[OptCount]
    nonfinite_candidate: NotRequired[OptCount]


class Divergence(TypedDict, total=False):
    """parity.first_divergence: the first ONNX node whose output differs (a worker's result)."""

    status: Text
    error: OptText
    found: Flag
    node: OptText
    op_type: OptText
    module: OptText
    initializers: list[Text]
    diverging_output: OptText
    max_abs_diff: OptNonNegative
    suspects: list[Text]
    compared: Count
    image: Count
    against: Annotated[str, choice("torch", "legacy", "dynamo")]  # the graph it was compared with
    aligned: Count  # nodes of the file paired with the fresh export's
    nodes: Count
    seconds: NonNegative
    reexport_error: OptText


class Parity(TypedDict):
    """parity: a candidate against the reference; the task decides which agreement keys it has."""

    outputs: dict[str, OutputParity]
    max_abs_diff: OptNonNegative
    max_rel_diff: OptNonNegative
    cosine_min: OptNumber
    allclose: Flag
    atol: NonNegative
    rtol: NonNegative
    first_divergence: Divergence | None
    letterbox_differs: NotRequired[Flag]
    disagreeing_images: NotRequired[list[Count]]  # not in schema-1 files
    # detection and segmentation
    detection_match_rate: NotRequired[Share]
    matched: NotRequired[Count]
    unmatched_reference: NotRequired[Count]
    unmatched_candidate: NotRequired[Count]
    mean_abs_confidence_delta: NotRequired[OptNonNegative]
    abs_confidence_deltas: NotRequired[list[NonNegative]]
    mask_iou_mean: NotRequired[OptShare]
    near_threshold: NotRequired[Count]
    unmatched_near_threshold: NotRequired[Count]
    # classification
    top1_agreement: NotRequired[Share]
    top5_overlap: NotRequired[Share]
    max_abs_probability_delta: NotRequired[NonNegative]


class Answers(TypedDict):
    """answers: whether a backend's answers vary over the samples (a reference whose answers do not
    leaves nothing to judge agreement on: analysis/nothing.py)."""

    samples: Count
    constant_outputs: OptFlag  # every output the same for every sample (null: shapes vary per sample)
    distinct_top1: OptCount  # how many classes are ever the answer (classification; semantic: of a pixel)


class _Entry(TypedDict):
    """What every backend entry holds, whatever its status."""

    kind: Annotated[str, choice(*KINDS)]
    status: BackendStatus
    error: OptText
    model_path: OptText
    file_size_mb: OptPositive
    weight_dtype: OptText
    weight_dtypes: dict[str, Count] | None
    warmup_ms: Warmup | None
    slices: list[SliceRecord] | None  # null: timed before schema 4's paired slices
    gflops: OptPositive
    other_cpu_share: NotRequired[OptShare]
    steal_share: NotRequired[OptShare]
    parity: Parity | None
    by_batch_size: NotRequired[dict[str, BatchSize]]  # only when measurement.batch_sizes is not [1]
    profile: Profile | None  # null: not profiled (measurement.profile false, failed, before schema 5)
    answers: NotRequired[Answers | None]  # not before issue 20


class Backend(_Entry):
    """backends.<name>: one runtime configuration. A failed one may hold null where a measurement
    would be; a successful one holds every measurement (``Measured``)."""

    threads: OptPositiveInteger
    settings: dict[str, Any] | None
    load_ms: OptPositive
    first_inference_ms: OptPositive
    latency_ms: Latency | None
    rounds: list[Round] | None
    fps: OptPositive
    memory_mb: Memory | None
    metrics: Metrics | None


class Measured(_Entry):
    """A backend whose status is "ok": the same keys, its measurements never null (invariants.py
    checks it at every read and write; the analysis reads successful backends through this type)."""

    threads: PositiveInteger
    settings: dict[str, Any]
    load_ms: Positive
    first_inference_ms: Positive
    latency_ms: Latency
    rounds: list[Round]
    fps: Positive
    memory_mb: Memory
    metrics: Metrics


# What a successful backend has measured; a failed one may hold null in their place.
OK_MEASUREMENTS = tuple(key for key in Measured.__annotations__ if key not in _Entry.__annotations__)


def measured(backend: Backend) -> Measured | None:
    """Return a backend that ran to the end as ``Measured`` (a read document's invariants hold every
    measurement of it), else None."""
    return cast(Measured, backend) if backend["status"] == "ok" else None


class Detection(TypedDict):
    box: Annotated[list[float], BOX]
    score: Share
    class_id: Count
    class_name: Text


class Example(TypedDict):
    image: Count
    name: OptText  # null: a schema-1 file
    reason: Text
    backends: list[Text]
    ground_truth_objects: OptCount
    detections: dict[str, list[Detection]]
    pictures: dict[str, Text]


class FileInfo(TypedDict):
    """model.checkpoint: the reference's weights file."""

    path: OptText
    size_mb: OptPositive
    dtype: OptText
    dtypes: dict[str, Count] | None


class OnnxInfo(TypedDict):
    """model.onnx: the exported (or given) ONNX file; a failed export has no size or dtypes."""

    path: OptText
    status: Status
    error: OptText
    exporter: OptText
    opset: OptPositiveInteger
    export_s: NotRequired[OptNonNegative]
    size_mb: NotRequired[OptPositive]
    dtype: NotRequired[OptText]
    dtypes: NotRequired[dict[str, Count] | None]
    producer: NotRequired[OptText]  # what the file says made it
    made_with: NotRequired[OptText]
    class_names: NotRequired[list[Text] | None]
    inputs: NotRequired[InputBinding]
    # read from the file itself (modelfile.describe_onnx): its weights, operators and entry casts
    precision: NotRequired[Annotated[str, choice("fp32", "fp16", "bf16", "int8", "int8-qdq")] | None]


class InputSpec(TypedDict):
    """model.inputs[]: one forward() argument."""

    name: Text
    dtype: Annotated[str, choice("float32", "float16", "int64", "int32", "bool")]
    shape: list[Any]  # sizes and "batch"
    keyword: Flag


class InputBinding(TypedDict):
    """How the ONNX file takes the config's inputs: by name, or by position."""

    by: Annotated[str, choice("name", "position")]
    names: dict[str, Text]


class Model(TypedDict):
    name: Text
    task: Annotated[str, choice(*TASKS)]
    source: Annotated[str, choice(*SOURCES)]
    parameters: Count
    flops: OptCount
    input_shape: list[Count]
    output_names: NotRequired[list[Text] | None]  # not in schema-1 files
    inputs: NotRequired[list[InputSpec] | None]  # not before issue 12
    input_binding: NotRequired[InputBinding | None]
    class_names: list[Text] | None
    checkpoint: FileInfo | None
    onnx: OnnxInfo | None


class Dataset(TypedDict):
    """dataset: the source's own keys (seed, image_size, path, labels, shape...) besides these."""

    source: Annotated[str, choice("synthetic", "folder", "random", "text")]
    images: Count
    labelled: Flag
    objects: NotRequired[OptCount]
    warnings: NotRequired[list[Text]]


class Environment(TypedDict):
    cpu: Text
    cores_logical: PositiveInteger
    cores_physical: PositiveInteger
    memory_gb: NonNegative
    os: Text
    python: Text
    packages: dict[str, OptText]
    threads: PositiveInteger
    load_average_per_core: OptNonNegative
    other_cpu_share: OptShare
    steal_share: OptShare
    cpu_mhz: OptPositive
    peak_gflops: OptPositive
    git_commit: OptText


class StoredParity(TypedDict, total=False):
    """The config's parity section as the pages read it (older files may lack a key: its default)."""

    min_match_rate: OptShare
    match_iou: OptShare
    atol: OptNonNegative
    rtol: OptNonNegative


class StoredAnalysis(TypedDict, total=False):
    speed_tolerance_pct: OptNonNegative
    regression_size_pct: OptNonNegative
    max_map_drop_points: OptNonNegative
    regression_latency_pct: OptNonNegative
    regression_accuracy_points: OptNonNegative


class StoredConfig(TypedDict, total=False):
    """config: the validated config of the run, every key; these are the ones a report reads."""

    parity: StoredParity
    analysis: StoredAnalysis
    measurement: dict[str, Any]


class Document(TypedDict):
    """One machine's results document (schema 4), as every reader gets it."""

    schema_version: PositiveInteger
    version: Label
    title: OptText
    locale: Annotated[str, choice(*LOCALES)]
    created_at: Time
    reportgen_version: Text
    config: StoredConfig
    config_path: OptText
    environment: Environment
    model: Model
    dataset: Dataset
    reference: Text
    backends: dict[str, Backend]
    backend_order: list[Text]
    timing: Timing | None  # null: timed before schema 4's paired slices
    examples: list[Example]


class Merged(TypedDict):
    """Several machines' documents of one version, each kept whole (results/merge.py)."""

    schema_version: PositiveInteger
    version: Label
    title: OptText
    locale: Annotated[str, choice(*LOCALES)]
    created_at: Time
    reportgen_version: Text
    machines: Annotated[list[Document], Field(min_length=1)]
