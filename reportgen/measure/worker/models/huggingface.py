"""A Hugging Face transformers model from a local folder (config.json + safetensors weights).

The folder is what ``save_pretrained`` writes and what a team ships: ``from_pretrained`` reads it with
``local_files_only``, so nothing is ever downloaded. The class is the one config.json's
``architectures`` names (``ViTForImageClassification``, ``SegformerForSemanticSegmentation``...); the
model returns its ModelOutput, whose keys (``logits``, ``pred_boxes``, ``last_hidden_state``) name the
outputs the task reads (config/outputs.py). transformers is an optional dependency (the dev extra).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.measure.modelfile import MIB, dominant
from reportgen.measure.worker.models import LoadedModel

MISSING = "model.source: huggingface needs transformers: pip install transformers"
DEFAULT_LABEL = re.compile(r"^LABEL_\d+$")  # what transformers names classes nobody named


def preload() -> None:
    """Import transformers ahead of the timed load; a missing package is reported by load()."""
    try:
        import transformers  # noqa: F401
    except ImportError:
        pass


def _transformers():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder only: never reach the Hub
    try:
        import transformers
    except ImportError:
        raise ReportgenError(MISSING) from None
    return transformers


def _model_class(transformers, folder: Path):
    """Return the transformers class that config.json's ``architectures`` names."""
    try:
        config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as e:
        raise ReportgenError(
            f"{folder}: model.checkpoint: expected a Hugging Face model folder with config.json "
            f"({' '.join(str(e).split())[:300]})"
        ) from None
    names = config.architectures or []
    model_class = getattr(transformers, names[0], None) if names else None
    if model_class is None:
        raise ReportgenError(
            f"{folder / 'config.json'}: architectures: expected the name of a transformers model class, "
            f"got {names or None}"
        )
    return model_class, config


def _class_names(config) -> list[str] | None:
    """Return the classes config.json names (id2label), None when they are transformers' LABEL_i."""
    labels = [config.id2label[i] for i in sorted(config.id2label)] if config.id2label else []
    return None if not labels or all(DEFAULT_LABEL.match(str(n)) for n in labels) else labels


def load(config: dict) -> LoadedModel:
    """Load the folder's model in FP32 eval mode, with its class names and a description of its weights."""
    folder = Path(config["checkpoint"])
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise ReportgenError(f"{folder}: model.checkpoint: expected a model folder with .safetensors weights")
    transformers = _transformers()
    model_class, hf_config = _model_class(transformers, folder)
    model = model_class.from_pretrained(folder, local_files_only=True, use_safetensors=True)
    if getattr(model.config, "use_cache", None):
        # One call per sample: a key/value cache (GPT-2's DynamicCache) is no answer to compare, and
        # torch.export cannot return it. optimum exports a classifier without it too.
        model.config.use_cache = False
    dtypes: Counter[str] = Counter()
    for tensor in model.state_dict().values():
        dtypes[str(tensor.dtype).removeprefix("torch.")] += tensor.numel() * tensor.element_size()
    checkpoint = {
        "path": str(folder),
        "size_mb": sum(w.stat().st_size for w in weights) / MIB,
        **dominant(dtypes),
    }
    return LoadedModel(model.float().eval(), config.get("class_names") or _class_names(hf_config), checkpoint)
