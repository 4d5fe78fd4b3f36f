"""What a Hugging Face model folder says about its inputs, read in the parent without torch.

config.json names the class (``architectures``) and its sizes; the class's forward() names the inputs
it takes, read from transformers' own source file (parsed, not imported: importing a model class
imports torch, which the parent never does); preprocessor_config.json gives the image size and
normalization it was trained with; tokenizer.json (or a WordPiece vocab.txt) turns lines of text into
the token inputs, with the ``tokenizers`` library. The config's own keys always win.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import re
from pathlib import Path
from typing import Literal

import numpy as np

from reportgen.config.sections import InputConfig, ModelConfig, ValuesConfig
from reportgen.errors import ConfigError

# The token inputs a text model's forward() may take, with the values a random sample gets.
TEXT_INPUTS: dict[str, Literal["integers", "ones", "zeros"]] = {
    "input_ids": "integers",
    "attention_mask": "ones",
    "token_type_ids": "zeros",
}
_DEFAULTS = ModelConfig.model_fields


def read_json(folder: str | Path, name: str) -> dict | None:
    """Return the folder's JSON file ``name`` (None when it has none); a broken file is one line."""
    path = Path(folder) / name
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{path}: expected JSON ({' '.join(str(e).split())[:200]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def _left(model, key: str) -> bool:
    """Whether the config leaves ``key`` at its default (so the folder may say what it is)."""
    return model.source == "huggingface" and getattr(model, key) == _DEFAULTS[key].default


def image_size(model) -> int:
    """Return the square side images are resized to: the config's, else the image processor's."""
    processor = (
        read_json(model.checkpoint, "preprocessor_config.json") if _left(model, "input_size") else None
    )
    if not processor:
        return model.input_size
    crop, size = processor.get("crop_size"), processor.get("size")
    chosen = crop if processor.get("do_center_crop") and crop else size
    if isinstance(chosen, int):
        return chosen
    if isinstance(chosen, dict):
        side = chosen.get("height") or chosen.get("shortest_edge")
        if isinstance(side, int) and side > 0:
            return side
    return model.input_size


def resize_options(model) -> dict:
    """Return how classification resizes images for a Hugging Face folder's image processor: straight
    to the square (``size`` without a crop, ViT's way) or the short side to ``shortest_edge`` and then a
    centre crop, scaled to the config's input_size, with the processor's filter. {} otherwise."""
    if model.source != "huggingface" or model.task != "classification":
        return {}
    processor = read_json(model.checkpoint, "preprocessor_config.json") or {}
    if not processor or processor.get("do_resize") is False:
        return {}
    side, size, crop = image_size(model), processor.get("size"), processor.get("crop_size")
    resample = processor.get("resample")
    options = {"resample": resample} if resample in (0, 1, 2, 3, 4, 5) else {}
    if processor.get("do_center_crop") and isinstance(crop, dict) and isinstance(size, dict):
        short, cropped = size.get("shortest_edge"), crop.get("height")
        if isinstance(short, int) and isinstance(cropped, int) and cropped > 0:
            return {**options, "short": round(side * short / cropped)}
    if isinstance(size, dict) and "height" in size:
        return {**options, "squash": True}
    return options


def normalization(model) -> tuple[list[float], list[float]]:
    """Return the mean and std images are normalized with: the config's, else the image processor's."""
    if not (_left(model, "mean") and _left(model, "std")):
        return model.mean, model.std
    processor = read_json(model.checkpoint, "preprocessor_config.json") or {}
    if processor.get("do_normalize") is False:
        return [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    return processor.get("image_mean", model.mean), processor.get("image_std", model.std)


def output_roles(model) -> dict[str, str]:
    """Return the output roles a Hugging Face detector's config.json implies, unless model.outputs gives
    the class scores one: focal-loss detectors (RT-DETR, D-FINE, Deformable/Conditional/DAB DETR) score
    each class with a sigmoid and have no no-object class, so their ``logits`` are ``sigmoid_logits``."""
    given = set((model.outputs or {}).values())
    if model.source != "huggingface" or model.task != "set_detection" or given & {"logits", "sigmoid_logits"}:
        return {}
    config = read_json(model.checkpoint, "config.json") or {}
    focal = config.get("use_focal_loss") is True or "focal_alpha" in config
    return {"logits": "sigmoid_logits"} if focal else {}


@functools.lru_cache(maxsize=8)  # specs() asks for every job: the file is read once
def _modeling(folder: str | Path) -> tuple[str, str]:
    """Return the folder's class name and the text of the transformers file defining it ('' if none)."""
    config = read_json(folder, "config.json") or {}
    names, model_type = config.get("architectures") or [], str(config.get("model_type", ""))
    if not names:
        raise ConfigError(f"{Path(folder) / 'config.json'}: architectures: expected a model class name")
    spec = importlib.util.find_spec("transformers")
    if spec is None or spec.origin is None:
        return names[0], ""
    models, parts = Path(spec.origin).parent / "models", model_type.replace("-", "_").split("_")
    # The module is named after the model type, or a prefix of it (clip_vision_model -> clip).
    for module in ("_".join(parts[:n]) for n in range(len(parts), 0, -1)):
        source = models / module / f"modeling_{module}.py"
        text = source.read_text(encoding="utf-8") if source.is_file() else ""
        if re.search(rf"^class {re.escape(names[0])}\b", text, re.MULTILINE):
            return names[0], text
    return names[0], ""


@functools.lru_cache(maxsize=8)
def forward_parameters(folder: str | Path) -> tuple[str, list[str]]:
    """Return the folder's class name and its forward()'s parameter names (self and ** left out)."""
    name, text = _modeling(folder)
    classes = {n.name: n for n in ast.parse(text).body if isinstance(n, ast.ClassDef)}
    return name, _forward(classes, name)


def _position_offset(folder: str | Path) -> int:
    """Return how many rows of the position table a token never reaches: fairseq-style models
    (RoBERTa, XLM-R, CamemBERT, Longformer...) number positions from padding_idx + 1."""
    if "create_position_ids_from_input_ids" not in _modeling(folder)[1]:
        return 0
    pad = (read_json(folder, "config.json") or {}).get("pad_token_id")
    return pad + 1 if isinstance(pad, int) and pad >= 0 else 0


def _forward(classes: dict[str, ast.ClassDef], name: str) -> list[str]:
    """Return forward()'s parameters of class ``name``, looking through its bases in the same file."""
    node = classes.get(name)
    if node is None:
        return []
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "forward":
            return [a.arg for a in item.args.posonlyargs + item.args.args + item.args.kwonlyargs][1:]
    for base in node.bases:
        found = _forward(classes, base.id) if isinstance(base, ast.Name) else []
        if found:
            return found
    return []


def inputs(config) -> list[InputConfig] | None:
    """Return the inputs of a Hugging Face model the config gives no model.inputs for, from forward():
    its token inputs, or for random samples of an image model its ``pixel_values``.

    None for an image model fed images (the one image input, sized by image_size). Inputs that cannot
    be told are one line naming the key to set.
    """
    model, source = config.model, config.dataset.source
    if model.source != "huggingface" or model.inputs:
        return None
    name, params = forward_parameters(model.checkpoint)
    takes = f"{name}, which takes forward({', '.join(params)})" if params else name
    images, tokens = "pixel_values" in params, "input_ids" in params
    if (source in ("synthetic", "folder") and tokens and not images) or (source == "text" and not tokens):
        wanted = "'text' (a file of lines) or 'random'" if tokens else "'synthetic', 'folder' or 'random'"
        raise ConfigError(
            f"{model.checkpoint}: dataset.source: {source} does not fit {takes}: expected {wanted}"
        )
    if source in ("synthetic", "folder"):
        return None
    if tokens:
        return _token_inputs(model, params)
    if images:
        channels = (read_json(model.checkpoint, "config.json") or {}).get("num_channels", 3)
        shape = ["batch", channels, image_size(model), image_size(model)]
        return [InputConfig(name="pixel_values", shape=shape, values=ValuesConfig(kind="normal"))]
    raise ConfigError(
        f"{model.checkpoint}: model.inputs: cannot tell the inputs of {takes}: "
        "expected model.inputs (one entry per forward() argument)"
    )


def _token_inputs(model, params: list[str]) -> list[InputConfig]:
    """Return the token inputs forward() takes, int64 [batch, sequence length], passed by keyword."""
    length = sequence_length(model)
    vocab = (read_json(model.checkpoint, "config.json") or {}).get("vocab_size")
    return [
        InputConfig(
            name=key,
            dtype="int64",
            shape=["batch", length],
            values=ValuesConfig(kind=kind, high=float(vocab) if kind == "integers" and vocab else None),
            keyword=True,
        )
        for key, kind in TEXT_INPUTS.items()
        if key in params
    ]


def sequence_length(model) -> int:
    """Return the token sequence length: model.sequence_length, else what the folder allows."""
    if model.sequence_length is not None:
        return model.sequence_length
    config = read_json(model.checkpoint, "config.json") or {}
    positions = config.get("max_position_embeddings", config.get("n_positions"))  # GPT-2's name
    given = [positions - _position_offset(model.checkpoint) if isinstance(positions, int) else None]
    given.append((read_json(model.checkpoint, "tokenizer_config.json") or {}).get("model_max_length"))
    limits = [v for v in given if isinstance(v, int) and 0 < v <= 65536]
    if not limits:
        raise ConfigError(
            f"{model.checkpoint}: model.sequence_length: expected the number of tokens per sample "
            "(config.json has no max_position_embeddings or n_positions)"
        )
    return min(limits)


def encode(model, lines: list[str], names: list[str], length: int) -> dict[str, np.ndarray]:
    """Return the token inputs ``names`` of every line through the folder's tokenizer, padded and cut to
    ``length`` tokens: ``{name: int64 (lines, 1, length)}``."""
    tokenizer = _tokenizer(Path(model.checkpoint))
    tokenizer.enable_truncation(length)
    tokenizer.enable_padding(length=length, pad_id=_pad_id(model.checkpoint, tokenizer))
    encodings = tokenizer.encode_batch(lines)
    fields = {"input_ids": "ids", "attention_mask": "attention_mask", "token_type_ids": "type_ids"}
    return {
        name: np.array([getattr(e, fields[name]) for e in encodings], dtype=np.int64)[:, None]
        for name in names
    }


def _tokenizer(folder: Path):
    import tokenizers  # the Rust tokenizers transformers itself uses; no torch

    if (folder / "tokenizer.json").is_file():
        return tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
    if (folder / "vocab.txt").is_file():  # a slow BERT tokenizer's save: WordPiece
        settings = read_json(folder, "tokenizer_config.json") or {}
        lower = bool(settings.get("do_lower_case", True))
        return tokenizers.BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=lower)
    raise ConfigError(
        f"{folder}: dataset.source: text needs the model folder's tokenizer: expected tokenizer.json "
        "or vocab.txt in it (save_pretrained of the tokenizer)"
    )


def _pad_id(folder, tokenizer) -> int:
    """Return the padding token's id: the tokenizer's own, else config.json's pad_token_id, else 0."""
    padding = tokenizer.padding
    if padding and padding.get("pad_id") is not None:
        return int(padding["pad_id"])
    token = (read_json(folder, "tokenizer_config.json") or {}).get("pad_token")
    found = tokenizer.token_to_id(token) if isinstance(token, str) else None
    if found is not None:
        return found
    pad = (read_json(folder, "config.json") or {}).get("pad_token_id")
    return pad if isinstance(pad, int) else 0
