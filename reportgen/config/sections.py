"""The config's sections (model, dataset, export, the keys every backend has, postprocess, parity,
site): their keys, defaults, bounds and docs. Each backend kind's own keys are declared beside its
runtime (config/backends.py joins them); measurement and analysis in measurement.py; the top-level
Config in schema.py, which every other module imports these names from.

Integers and timeouts carry an upper bound marked SANE: not part of what the value means, but far
beyond any real use, so that `threads: 1000000000000000000000` is an error at the door instead of an
overflow inside a worker minutes later.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reportgen.config.outputs import OUTPUTS, Outputs
from reportgen.config.words import SANE
from reportgen.config.words import Expect as _Expect
from reportgen.config.words import cross_error as _cross_error

# Sanity limits, shared by the sections that have the same kind of key.
MAX_THREADS = 1024
MAX_WARMUP = 100_000
MAX_TIMEOUT_S = 86_400.0  # a day
MAX_IMAGES = 1_000_000
MAX_INPUT_SIZE = 8192
MAX_BACKENDS = 64


class Section(BaseModel):
    # strict: YAML already types its scalars, so `threads: true` or `opset: 17.5` is a mistake to
    # report, not a value to coerce. allow_inf_nan: `.inf` is never a sensible threshold or timeout.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


_File = Annotated[str, Field(min_length=1), _Expect("a path")]


Dtype = Literal["float32", "float16", "int64", "int32", "bool"]
DTYPES = typing.get_args(Dtype)
MAX_INPUTS = 64


class ValuesConfig(Section):
    kind: Literal["integers", "normal", "uniform", "zeros", "ones", "constant", "file"] = Field(
        "normal",
        description="How the input's values are made: random integers in [low, high), standard-normal "
        "(mean, std), uniform in [low, high), all zeros, all ones, one constant value, or read from a "
        ".npy/.npz file holding the samples stacked on the batch axis (on a new first axis when the shape "
        "has no batch axis).",
    )
    low: float | None = Field(None, description="integers, uniform: the lowest value (null: 0).")
    high: float | None = Field(
        None, description="integers, uniform: the value above the highest (null: integers 100, uniform 1)."
    )
    mean: float | None = Field(None, description="normal: the mean (null: 0).")
    std: Annotated[float | None, _Expect("a positive number")] = Field(
        None, gt=0, description="normal: the standard deviation (null: 1)."
    )
    value: float | None = Field(
        None, description="constant: the value of every element (a bool input: 0 or 1)."
    )
    path: Annotated[_File | None, _Expect("an existing .npy or .npz file")] = Field(
        None,
        description="file: the samples, relative to the config file (an .npz is read by the input's name, or "
        "its only array).",
    )

    def bounds(self) -> tuple[float, float]:
        """Return [low, high) of integers and uniform values, with their defaults."""
        high = self.high if self.high is not None else (100 if self.kind == "integers" else 1)
        return (self.low if self.low is not None else 0), high


class InputConfig(Section):
    name: Annotated[str, _Expect("a name of at most 128 letters, digits, '_', '.', ':', '/' or '-'")] = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_.:/-]*$",
        max_length=128,
        description="The ONNX input's name; also the forward() keyword when `keyword: true`.",
    )
    dtype: Dtype = Field("float32", description="Element type.")
    shape: Annotated[list, _Expect("a list of at most 8 sizes (integers from 0 to 65536, or 'batch')")] = (
        Field(
            max_length=8,
            description="The shape; 'batch' marks the batch axis (replaced by each measurement.batch_sizes "
            "value); [] is a Python scalar argument of forward().",
        )
    )
    values: ValuesConfig = Field(default_factory=ValuesConfig, description="How the values are made.")
    keyword: bool = Field(False, description="Pass this input to forward() as a keyword argument.")

    @field_validator("shape")
    @classmethod
    def _sizes(cls, value: list) -> list:
        # One phrase for the item, not pydantic's two (one per branch of `int | 'batch'`).
        for index, size in enumerate(value):
            is_size = isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= 65536
            if not is_size and size != "batch":
                expected = "a size (an integer from 0 to 65536) or 'batch'"
                raise ValidationError.from_exception_data(
                    cls.__name__, [_cross_error((index,), size, expected)]
                )
        return value


class ModelConfig(Section):
    name: Annotated[str, _Expect("a non-empty string of at most 128 characters")] = Field(
        "reportgen-demo-seg", min_length=1, max_length=128, description="Model name shown in the report."
    )
    source: Literal["builtin", "torchscript", "factory", "ultralytics", "huggingface"] = Field(
        "builtin",
        description="Where the PyTorch model comes from: the shipped demo net, a TorchScript file, a "
        "`module:function` factory, an Ultralytics checkpoint (pip install reportgen[ultralytics]), or a "
        "Hugging Face model folder (config.json + safetensors, read locally, never downloaded; needs "
        "transformers).",
    )
    checkpoint: Annotated[_File | None, _Expect("an existing file")] = Field(
        None,
        description="Model file, relative to the config file: builtin: FP16 weights (null: the shipped "
        "demo); torchscript/ultralytics: the .pt file; factory: optional weights for the built module; "
        "huggingface: the model folder.",
    )
    factory: Annotated[str | None, _Expect("'package.module:function'")] = Field(
        None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        max_length=200,
        description="factory: the function that returns the torch.nn.Module (called with no arguments).",
    )
    python_path: Annotated[list[_File], _Expect("a list of at most 64 existing folders")] = Field(
        default_factory=list,
        max_length=64,
        description="factory: folders (relative to the config file) added to the import path; the config "
        "file's own folder always is.",
    )
    trust_checkpoint: bool = Field(
        False,
        description="Allow a pickled full-model checkpoint (torch.load weights_only=False): unpickling runs "
        "code from the file, so only for files you trust.",
    )
    task: Literal[
        "segmentation", "detection", "classification", "set_detection", "semantic_segmentation", "raw"
    ] = Field(
        "segmentation",
        description="What the model predicts: YOLO-style segmentation or detection outputs, class logits, "
        "DETR-style query sets (set_detection: class logits and normalized boxes, no NMS), per-pixel class "
        "logits (semantic_segmentation), or any tensors (raw: parity and speed only).",
    )
    input_size: Annotated[int, SANE, _Expect(note="a multiple of 32 for detection/segmentation")] = Field(
        160,
        gt=0,
        le=MAX_INPUT_SIZE,
        description="Square input side in pixels that images are letterboxed or resized to.",
    )
    input_shape: Annotated[
        list[Annotated[int, Field(gt=0, le=65536)]] | None,
        _Expect("a list of 1 to 8 positive integers of at most 65536"),
    ] = Field(
        None,
        min_length=1,
        max_length=8,
        description="raw: the input tensor's shape; null: [1, 3, input_size, input_size].",
    )
    inputs: Annotated[
        list[InputConfig] | None,
        _Expect(f"a list of 1 to {MAX_INPUTS} inputs, each a mapping with name, dtype, shape and values"),
    ] = Field(
        None,
        min_length=1,
        max_length=MAX_INPUTS,
        description="One entry per forward() argument, in order (with dataset.source: random); null: one "
        "image input (or, for raw, one float32 tensor of input_shape).",
    )
    sequence_length: Annotated[int | None, SANE] = Field(
        None,
        gt=0,
        le=65536,
        description="huggingface text models: tokens per sample (inputs inferred from forward()); null: "
        "the folder's max_position_embeddings, or its tokenizer's model_max_length if smaller.",
    )
    class_names: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
        _Expect("a list of at most 10000 non-empty class names"),
    ] = Field(
        None,
        max_length=10_000,
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
    outputs: Outputs = OUTPUTS


class DatasetConfig(Section):
    source: Literal["synthetic", "folder", "random", "text"] = Field(
        "synthetic",
        description="Evaluation inputs: generated shapes with ground truth (detection/segmentation), a "
        "folder of images, random tensors (raw, model.inputs), or text: a file of lines, one sample each, "
        "through a huggingface model folder's tokenizer.",
    )
    seed: Annotated[int, SANE] = Field(
        2024, ge=0, le=2**31 - 1, description="Seed of the synthetic generator and of random inputs."
    )
    images: Annotated[int, SANE] = Field(
        200, gt=0, le=MAX_IMAGES, description="Number of evaluation images (at most this many from a folder)."
    )
    path: Annotated[_File | None, _Expect("an existing folder (text: an existing file)")] = Field(
        None,
        description="folder: the image folder (jpg/png); text: the UTF-8 file of lines; relative to the "
        "config file.",
    )
    labels: Literal["none", "coco", "yolo", "folders", "file", "masks"] = Field(
        "none",
        description="folder: ground truth as COCO JSON, YOLO txt files, or (classification) one subfolder "
        "per class; random, classification: 'file', one integer class per sample in the .npy labels_path; "
        "semantic_segmentation: 'masks', one PNG of class ids per image (255: not scored); "
        "none: no accuracy, only parity and speed.",
    )
    labels_path: Annotated[_File | None, _Expect("an existing file (coco, file) or folder (yolo)")] = Field(
        None,
        description="file: the .npy of class indices; coco: the annotations JSON (null: annotations.json in "
        "the image folder); yolo: a labels "
        "folder mirroring the image folder (null: the image path with its last 'images' folder replaced by "
        "'labels', as Ultralytics does, else beside the image).",
    )


class ExportConfig(Section):
    exporter: Literal["dynamo", "legacy"] = Field(
        "dynamo", description="torch.onnx exporter: the dynamo one or the TorchScript-based legacy one."
    )
    opset: int = Field(18, ge=7, le=23, description="ONNX opset version to export to.")
    onnx_file: Annotated[_File | None, _Expect("an existing file, or a folder with model.onnx")] = Field(
        None,
        description="An existing ONNX file to check instead of exporting (the file you ship), relative to "
        "the config file, or a folder `optimum-cli export onnx` wrote (its model.onnx); null: export.",
    )


class BackendBase(Section):
    """The keys every backend has. Each kind's model (measure/worker/backends/<kind>_config.py) adds its
    own keys and checks, and narrows ``kind`` to its one name; config/backends.py joins them."""

    name: Annotated[str, _Expect("a name of at most 64 letters, digits, '.', '_' or '-'")] = Field(
        pattern=r"^[A-Za-z0-9_.-]+$",
        max_length=64,
        description="Unique name of this backend in the report.",
    )
    kind: str = Field(
        description="Which runtime runs the model (a `backends[<kind>]` key below is that kind's own)"
    )
    threads: Annotated[int | None, SANE] = Field(
        None, gt=0, le=MAX_THREADS, description="Intra-op threads; null: measurement.threads."
    )
    warmup_iterations: Annotated[int | None, SANE] = Field(
        None,
        ge=0,
        le=MAX_WARMUP,
        description="Untimed runs before timing; null: measurement.warmup_iterations.",
    )
    time_load_in_latency: bool = Field(
        False,
        description="Count model load / session creation in every latency sample (a classic mistake).",
    )
    timeout_s: Annotated[float | None, SANE] = Field(
        None,
        gt=0,
        le=MAX_TIMEOUT_S,
        description="Wall-clock limit of this backend's worker; null: measurement.timeout_s.",
    )

    # Built from the model source (the reference's own code), not from a file the run made.
    from_source: ClassVar[bool] = False

    def settings(self) -> dict[str, Any]:
        """Return this kind's own keys: the settings its worker reads and the results record."""
        own = [key for key in type(self).model_fields if key not in BackendBase.model_fields]
        return {key: getattr(self, key) for key in own}


class PostprocessConfig(Section):
    conf_threshold: float = Field(
        0.25, gt=0, lt=1, description="Detections below this confidence are dropped."
    )
    iou_threshold: float = Field(0.5, gt=0, le=1, description="Non-maximum suppression IoU threshold.")
    max_detections: Annotated[int, SANE] = Field(
        100, gt=0, le=10_000, description="Detections kept per image after NMS."
    )
    mask_threshold: float = Field(0.5, gt=0, lt=1, description="Mask probability above which a pixel is in.")


class ParityConfig(Section):
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


class SiteConfig(Section):
    dir: Annotated[str, _Expect("a folder path (a folder, or nothing yet)")] = Field(
        "site",
        min_length=1,
        description="Folder the static report site is written to, relative to the working directory.",
    )
