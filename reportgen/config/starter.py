"""Starter configs: a commented YAML for a chosen model source and task (``reportgen init``).

Only the keys a user must think about are written; every other key keeps its default, which
docs/config.md lists. The text is checked by loading it (tests/test_starter.py).
"""

from __future__ import annotations

SOURCES = ("builtin", "torchscript", "factory", "ultralytics")
TASKS = ("segmentation", "detection", "classification", "raw")

_MODEL = {
    "builtin": """\
model:
  source: builtin             # the shipped demo net; replace with your own source
  name: reportgen-demo-seg
  checkpoint: null            # null: the shipped FP16 demo weights
""",
    "torchscript": """\
model:
  source: torchscript         # a torch.jit.save file: exactly what a C++/mobile deployment loads
  name: my-model
  checkpoint: model.pt        # relative to this file
""",
    "factory": """\
model:
  source: factory             # a function that builds your nn.Module (called with no arguments)
  name: my-model
  factory: "my_package.models:build"
  python_path: [.]            # folders to import it from, relative to this file
  checkpoint: weights.pt      # optional: a state dict, loaded with torch.load(weights_only=True)
  trust_checkpoint: false     # true only for a pickled full model you trust (unpickling runs code)
""",
    "ultralytics": """\
model:
  source: ultralytics         # an Ultralytics .pt; needs: pip install 'reportgen[ultralytics]'
  name: my-yolo
  checkpoint: yolov8n-seg.pt
  trust_checkpoint: true      # Ultralytics checkpoints are pickled: only for files you trust
""",
}

_TASK = {
    "segmentation": "  task: segmentation          # YOLO-style: output0 boxes/scores/coefs, output1 protos\n"
    "  input_size: 640           # images are letterboxed to this square (multiple of 32)\n",
    "detection": "  task: detection             # YOLO-style: output0 (1, 4 + classes, anchors)\n"
    "  input_size: 640           # images are letterboxed to this square (multiple of 32)\n",
    "classification": "  task: classification        # logits (1, classes); softmax, top-1 / top-5\n"
    "  input_size: 224           # resize the short side to 256, centre-crop 224\n"
    "  mean: [0.485, 0.456, 0.406]  # normalization after scaling to [0, 1]\n"
    "  std: [0.229, 0.224, 0.225]\n",
    "raw": """\
  task: raw                   # any tensors: parity and speed only
  inputs:                     # one entry per forward() argument, in order
    - name: input             # the ONNX input's name (keyword: true passes it to forward() by name)
      dtype: float32          # float32, float16, int64, int32 or bool
      shape: [batch, 3, 224, 224]  # 'batch' takes each measurement.batch_sizes value; [] is a Python scalar
      values: {kind: normal}  # integers, normal, uniform, zeros, ones, constant or file (path)
    # - name: attention_mask  # e.g. a transformer's second input
    #   dtype: int64
    #   shape: [batch, 128]
    #   values: {kind: ones}
""",
}

# Image models take one image input; a model fed other tensors declares them (see the raw starter).
_IMAGE_INPUT = "  # inputs: one image tensor; for other inputs see `reportgen init --task raw`\n"

_DATA = {
    "segmentation": """\
dataset:
  source: folder              # jpg/png files; unreadable ones are skipped with a warning
  path: images
  labels: yolo                # yolo (txt per image), coco (annotations JSON) or none
  labels_path: null           # yolo: null = images/ -> labels/ as Ultralytics; coco: the JSON file
  images: 200                 # at most this many
""",
    "classification": """\
dataset:
  source: folder
  path: images                # with labels: folders, one subfolder per class
  labels: folders
  images: 200
""",
    "raw": """\
dataset:
  source: random              # samples made as model.inputs says, from the seed (or read from files)
  images: 20
  seed: 2024
""",
}

_REST = """\
export:
  exporter: {exporter}           # dynamo (torch.export) or legacy (TorchScript-based)
  opset: 18

backends:                     # each runs in its own fresh process, measured the same way
  - name: pytorch             # the reference
    kind: pytorch
  - name: onnxruntime
    kind: onnxruntime
    graph_optimization: all
  - name: ort-int8            # static INT8 (QDQ), calibrated on your images
    kind: onnxruntime
    quantization: static

measurement:
  batch_sizes: [1]            # e.g. [1, 8]: latency, throughput and memory at each (dynamic batch export)
  threads: 2                  # the same for every backend
  warmup_iterations: 10
  min_iterations: 50
  min_time_s: 2.0
"""


def starter_config(source: str, task: str, version: str = "0.1.0") -> str:
    """Return a commented config for ``source`` and ``task`` that loads as it is (paths aside)."""
    if source == "builtin":
        task = "segmentation"
    data = (
        _DATA.get(task, _DATA["segmentation"])
        if source != "builtin"
        else ("dataset:\n  source: synthetic           # generated shapes with ground truth\n  images: 200\n")
    )
    exporter = "legacy" if source == "torchscript" else "dynamo"
    head = (
        f"# reportgen config: {source} model, {task} task. Every key: docs/config.md\n"
        f'version: "{version}"            # the report\'s label and site folder\nlocale: en\n\n'
    )
    model = _MODEL[source] + (
        _TASK[task] if source != "builtin" else "  task: segmentation\n  input_size: 160\n"
    )
    if task != "raw":
        model += _IMAGE_INPUT
    return head + model + "\n" + data + "\n" + _REST.format(exporter=exporter)
