"""An Ultralytics checkpoint (.pt, detection or segmentation), set up exactly as their ONNX exporter does.

Needs the optional extra (``pip install 'reportgen[ultralytics]'``, in its own environment: ultralytics
brings its own torch). The module returns what Ultralytics' ONNX export returns: ``output0``
(1, 4 + nc [+ nm], A) with xywh pixel boxes and sigmoid class scores, and for segmentation ``output1``,
the (1, nm, H/4, W/4) mask prototypes. Their checkpoints are pickled whole models (their loader uses
``torch.load(weights_only=False)``), so loading one needs ``model.trust_checkpoint: true``.
"""

from __future__ import annotations

from pathlib import Path

from reportgen.errors import ReportgenError
from reportgen.measure.worker.models import LoadedModel, describe_file

TASKS = {"detect": "detection", "segment": "segmentation"}  # Ultralytics' task names -> reportgen's
MISSING_EXTRA = (
    "model.source: ultralytics needs the optional extra: pip install 'reportgen[ultralytics]' "
    "(it brings its own torch)"
)


def preload() -> None:
    """Import Ultralytics ahead of the timed load; a missing extra is reported by load()."""
    try:
        import ultralytics  # noqa: F401
    except ImportError:
        pass


def load(config: dict) -> LoadedModel:
    """Load the checkpoint with Ultralytics' API and configure it like their ONNX exporter (FP32, fused)."""
    path = config["checkpoint"]
    if not config.get("trust_checkpoint", False):
        raise ReportgenError(
            f"{path}: model.trust_checkpoint: an Ultralytics checkpoint is a pickled full model, which "
            "Ultralytics loads with torch.load(weights_only=False); set model.trust_checkpoint: true only if "
            "you trust the file (unpickling runs its code)"
        )
    if not Path(path).is_file():  # Ultralytics would try to download a missing file by its name
        raise ReportgenError(f"model.checkpoint: {path} does not exist")
    try:
        from ultralytics import YOLO
        from ultralytics.nn.tasks import torch_safe_load
    except ImportError:
        raise ReportgenError(MISSING_EXTRA) from None

    stored, _ = torch_safe_load(path)  # as saved (FP16): load_checkpoint converts its module in place
    saved = stored.get("ema") or stored["model"]
    checkpoint = describe_file(path, saved.state_dict().values())
    model = export_ready(YOLO(path).model)
    _check_task(config.get("task", "segmentation"), getattr(model, "task", None))
    names = model.names
    class_names = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)
    return LoadedModel(model, config.get("class_names") or class_names, checkpoint)


def _check_task(task: str, ultralytics_task: str | None) -> None:
    """Refuse a config task that the checkpoint's head does not produce (raw takes any outputs)."""
    expected = TASKS.get(ultralytics_task or "")
    if task != "raw" and task != expected:
        fits = f"'{expected}' or 'raw'" if expected else "'raw' (reportgen decodes detect and segment models)"
        raise ReportgenError(
            f"model.task: expected {fits} for this checkpoint, an Ultralytics {ultralytics_task!r} model; "
            f"got {task!r}"
        )


def export_ready(model):
    """Return the model configured as Ultralytics' Exporter does for ``format='onnx'`` with its defaults.

    Mirrors ``ultralytics.engine.exporter.Exporter.__call__`` (8.4): external NMS (``nms=None``, so an
    end-to-end head runs its one-to-many branch), static shapes (``dynamic=False``), ``max_det=300``,
    xywh boxes, then eval / float / fuse, and C2f's split forward (their ONNX graph uses it).
    """
    from copy import deepcopy

    from ultralytics.nn.modules import C2f, Detect

    model = deepcopy(model)
    if hasattr(model, "end2end"):
        model.end2end = False
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.eval()
    model.float()
    model = model.fuse(verbose=False)
    for m in model.modules():
        if isinstance(m, Detect):  # Segment is a Detect
            m.dynamic = False
            m.export = True
            m.format = "onnx"
            m.max_det = 300
            m.agnostic_nms = False
            m.xyxy = False
            m.shape = None
        elif isinstance(m, C2f):
            m.forward = m.forward_split
    return model
