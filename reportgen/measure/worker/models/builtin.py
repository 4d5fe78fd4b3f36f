"""The shipped demo: a YOLOv8-seg-style net and its FP16 checkpoint (or weights trained the same way)."""

from __future__ import annotations

from reportgen.demo import DEFAULT_CHECKPOINT
from reportgen.demo.net import from_checkpoint
from reportgen.measure.worker.models import LoadedModel, describe_file


def load(config: dict) -> LoadedModel:
    """Rebuild the demo net from its checkpoint, in FP32."""
    import torch

    path = config.get("checkpoint") or str(DEFAULT_CHECKPOINT)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # read once: load is timed
    model, meta = from_checkpoint(checkpoint)
    names = config.get("class_names") or meta["class_names"]
    return LoadedModel(model, names, describe_file(path, checkpoint["state_dict"].values()))
