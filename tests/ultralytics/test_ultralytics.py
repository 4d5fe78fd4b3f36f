"""An Ultralytics checkpoint end to end (`model.source: ultralytics`), in the ultralytics environment.

The checkpoint is real: Ultralytics' yolov8n-seg.yaml trained by their trainer on the synthetic shapes
(`make train-ultralytics`, reportgen/demo/train_ultralytics.py), saved by them in FP16.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reportgen.demo.shapes import CLASS_NAMES, make_dataset
from reportgen.demo.train_ultralytics import label_text

CHECKPOINT = Path(__file__).parent / "yolov8n-seg-shapes.pt"
QUICK = "measurement: {rounds: 3, warmup_iterations: 2, min_iterations: 10, min_time_s: 0.2, max_time_s: 1}\n"
WIDTH, HEIGHT, LEFT = 200, 160, 20  # non-square: letterboxed to 160x128 with 16 px bands


def _run(tmp_path, name, body, expect_ok=True):
    config = tmp_path / f"{name}.yaml"
    config.write_text(f"version: {name}\n" + QUICK + textwrap.dedent(body))
    out = tmp_path / f"{name}.json"
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "run", "-c", str(config), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    if not expect_ok:
        return result
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def shapes_folder(tmp_path_factory):
    """Held-out synthetic shapes on 200x160 canvases, with YOLO segmentation labels (polygons)."""
    root = tmp_path_factory.mktemp("shapes")
    (root / "images").mkdir()
    (root / "labels").mkdir()
    for i, sample in enumerate(make_dataset(2024, 16)):
        canvas = np.full((HEIGHT, WIDTH, 3), 90, dtype=np.uint8)
        canvas[:, LEFT : LEFT + 160] = sample.image
        masks = np.zeros((len(sample.masks), HEIGHT, WIDTH), dtype=bool)
        masks[:, :, LEFT : LEFT + 160] = sample.masks
        Image.fromarray(canvas).save(root / "images" / f"img{i:02d}.png")
        (root / "labels" / f"img{i:02d}.txt").write_text(label_text(sample.classes, masks))
    return root


def _config(checkpoint, folder, task="segmentation", trust=True):
    return f"""\
        model: {{source: ultralytics, checkpoint: {checkpoint}, trust_checkpoint: {str(trust).lower()},
                 task: {task}, input_size: 160}}
        dataset: {{source: folder, path: {folder / "images"}, labels: yolo}}
        """


def _assert_same_detections(doc):
    ref, ort = doc["backends"]["pytorch"], doc["backends"]["onnxruntime"]
    assert ref["status"] == "ok" and ort["status"] == "ok"
    assert ort["parity"]["allclose"], ort["parity"]
    assert ort["parity"]["detection_match_rate"] >= 0.98
    assert ref["metrics"]["detections_per_image"] > 0
    return ref, ort


def test_segmentation_checkpoint_matches_its_onnx_export(tmp_path, shapes_folder):
    doc = _run(tmp_path, "seg", _config(CHECKPOINT, shapes_folder))
    ref, ort = _assert_same_detections(doc)
    assert set(ort["parity"]["outputs"]) == {"output0", "output1"}
    assert doc["model"]["class_names"] == list(CLASS_NAMES)  # from the checkpoint's names
    assert doc["model"]["checkpoint"]["dtype"] == "float16"  # as Ultralytics saves it
    for metrics in (ref["metrics"], ort["metrics"]):
        assert metrics["map50"] is not None and metrics["mask_map50"] is not None
    assert ref["metrics"]["map50"] > 0.5  # letterboxed and shrunk to 0.8x, the shapes are still found
    assert abs(ref["metrics"]["map50"] - ort["metrics"]["map50"]) < 0.01


@pytest.fixture(scope="module")
def detection_checkpoint(tmp_path_factory):
    """A yolov8n detection model with the segmentation checkpoint's weights (all but the mask branch)."""
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    seg = YOLO(str(CHECKPOINT))
    det = YOLO("yolov8n.yaml")
    det.model = DetectionModel("yolov8n.yaml", nc=len(seg.names), verbose=False)
    det.model.load(seg.model, verbose=False)  # backbone, neck and the box / class branches of the head
    det.model.names = seg.model.names
    path = tmp_path_factory.mktemp("det") / "yolov8n-shapes.pt"
    det.save(path)  # FP16, as Ultralytics saves
    return path


def test_detection_checkpoint_matches_its_onnx_export(tmp_path, shapes_folder, detection_checkpoint):
    doc = _run(tmp_path, "det", _config(detection_checkpoint, shapes_folder, task="detection"))
    ref, ort = _assert_same_detections(doc)
    assert set(ort["parity"]["outputs"]) == {"output0"}
    assert ref["metrics"]["map50"] > 0.5 and ref["metrics"]["mask_map50"] is None


def test_untrusted_checkpoint_is_refused(tmp_path, shapes_folder):
    result = _run(tmp_path, "untrusted", _config(CHECKPOINT, shapes_folder, trust=False), expect_ok=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "model.trust_checkpoint" in result.stderr and str(CHECKPOINT) in result.stderr


# Ultralytics' exporter calls torch's legacy (TorchScript-based) ONNX exporter, which torch announces, and
# whose tracer warns (TracerWarning) where their head compares a traced shape in Python.
@pytest.mark.filterwarnings(
    "ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning"
)
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_module_returns_what_ultralytics_onnx_export_returns(tmp_path):
    """Our module's outputs equal those of the ONNX file Ultralytics' own exporter writes."""
    import onnxruntime
    import torch
    from ultralytics import YOLO

    from reportgen.measure.worker.models import flatten, load_model

    loaded = load_model({"source": "ultralytics", "checkpoint": str(CHECKPOINT), "trust_checkpoint": True})
    example = torch.from_numpy(np.stack([s.image for s in make_dataset(2024, 1)]).transpose(0, 3, 1, 2))
    example = example.float() / 255
    with torch.inference_mode():
        ours = [t.numpy() for t in flatten(loaded.module(example))]
    copy = tmp_path / CHECKPOINT.name
    copy.write_bytes(CHECKPOINT.read_bytes())  # their exporter writes beside the checkpoint
    exported = YOLO(str(copy)).export(format="onnx", imgsz=160, opset=18, simplify=False)
    session = onnxruntime.InferenceSession(exported, providers=["CPUExecutionProvider"])
    theirs = session.run(None, {"images": example.numpy()})
    assert [o.name for o in session.get_outputs()] == ["output0", "output1"]
    for mine, their in zip(ours, theirs, strict=True):
        assert mine.shape == their.shape
        np.testing.assert_allclose(mine, their, atol=1e-3, rtol=1e-4)


def _letterbox_images():
    rng = np.random.default_rng(0)
    return {
        "downscale 200x160": rng.integers(0, 256, (160, 200, 3), dtype=np.uint8),
        "downscale 211x97": rng.integers(0, 256, (97, 211, 3), dtype=np.uint8),
        "upscale 90x120": rng.integers(0, 256, (120, 90, 3), dtype=np.uint8),
    }


@pytest.mark.parametrize("rect", [False, True], ids=["square", "rect"])
@pytest.mark.parametrize("name", list(_letterbox_images()))
def test_letterbox_geometry_is_ultralytics(name, rect):
    """Same scale, placement and grey 114 padding as LetterBox(auto=False), and rect as auto=True."""
    from ultralytics.data.augment import LetterBox

    from reportgen.measure.tasks.yolo import PAD_VALUE, STRIDE, prepare

    image = _letterbox_images()[name]
    ours, _ = prepare(image, 160, rect=rect)
    theirs = LetterBox(new_shape=(160, 160), auto=rect, stride=STRIDE, center=True)(image=image)
    assert ours.shape == theirs.shape
    assert np.array_equal((ours == PAD_VALUE).all(-1), (theirs == PAD_VALUE).all(-1))


@pytest.mark.parametrize(
    "name",
    [
        "upscale 90x120",
        "downscale 200x160",
    ],
)
def test_letterbox_pixels_are_ultralytics_up_to_rounding(name):
    from ultralytics.data.augment import LetterBox

    from reportgen.measure.tasks.yolo import prepare

    image = _letterbox_images()[name]
    ours, _ = prepare(image, 160)
    theirs = LetterBox(new_shape=(160, 160), auto=False, center=True)(image=image)
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1


def test_a_task_the_head_does_not_produce_is_refused():
    from reportgen.errors import ReportgenError
    from reportgen.measure.worker.models import load_model

    config = {"source": "ultralytics", "checkpoint": str(CHECKPOINT), "trust_checkpoint": True}
    with pytest.raises(
        ReportgenError, match="model.task: expected 'segmentation' or 'raw' .* got 'detection'"
    ):
        load_model({**config, "task": "detection"})
    assert load_model({**config, "task": "raw"}).class_names == list(CLASS_NAMES)
