"""Starter configs: a commented YAML for a chosen model source and task (``reportgen init``).

Only the keys a user must think about are written; every other key keeps its default, which
docs/config.md lists. The text is checked by loading it (tests/test_starter.py).
"""

from __future__ import annotations

SOURCES = ("builtin", "torchscript", "factory", "ultralytics", "huggingface")
TASKS = ("segmentation", "detection", "classification", "set_detection", "semantic_segmentation", "raw")

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
    "huggingface": """\
model:
  source: huggingface         # a save_pretrained folder (config.json + safetensors); needs transformers
  name: my-hf-model
  checkpoint: my-model        # the folder, read locally, never downloaded; class from its config.json
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
    "set_detection": "  task: set_detection         # DETR-style: logits + pred_boxes (normalized), no NMS\n"
    "  input_size: 640           # images are resized (not letterboxed) to this square\n"
    "  mean: [0.485, 0.456, 0.406]  # normalization after scaling to [0, 1]\n"
    "  std: [0.229, 0.224, 0.225]\n",
    "semantic_segmentation": "  task: semantic_segmentation  # per-pixel class logits, any output stride\n"
    "  input_size: 512           # images are resized to this square\n"
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

# A Hugging Face folder says its own input size, normalization and inputs (measure/hffolder.py).
_HF_TASK = {
    "raw": "  task: raw                   # any tensors: parity and speed only\n",
    "classification": "  task: classification        # logits; class names from config.json's id2label\n",
}
_HF_INPUTS = (
    "  # input_size, mean, std: from the folder's preprocessor_config.json unless set here\n"
    "  # text models: input_ids, attention_mask (, token_type_ids) from forward(), int64 [batch, length]\n"
    "  # sequence_length: 128     # tokens per sample (null: config.json's max_position_embeddings)\n"
)

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
    "semantic_segmentation": """\
dataset:
  source: folder              # jpg/png files; unreadable ones are skipped with a warning
  path: images
  labels: masks               # one PNG of class ids per image (255: not scored)
  labels_path: masks          # a folder mirroring images/ (null: ADE20K's images/ -> annotations/)
  images: 200
""",
    "text": """\
dataset:
  source: text                # a text model: one sample a line, through the model folder's tokenizer
  path: lines.txt             # for an image classifier: source folder, path images, labels folders
  images: 200                 # at most this many lines
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
    exporter = "legacy" if source == "torchscript" else "dynamo"
    head = (
        f"# reportgen config: {source} model, {task} task. Every key: docs/config.md\n"
        f'version: "{version}"            # the report\'s label and site folder\nlocale: en\n\n'
    )
    return head + _model(source, task) + "\n" + _data(source, task) + "\n" + _REST.format(exporter=exporter)


def _model(source: str, task: str) -> str:
    if source == "builtin":
        return _MODEL[source] + "  task: segmentation\n  input_size: 160\n" + _IMAGE_INPUT
    if source == "huggingface":
        task_lines = _HF_TASK.get(task) or _TASK[task].splitlines()[0] + "\n"
        return _MODEL[source] + task_lines + _HF_INPUTS
    return _MODEL[source] + _TASK[task] + (_IMAGE_INPUT if task != "raw" else "")


def _data(source: str, task: str) -> str:
    if source == "builtin":
        return "dataset:\n  source: synthetic           # generated shapes with ground truth\n  images: 200\n"
    if source == "huggingface" and task in ("classification", "raw"):
        return _DATA["text"] if task == "classification" else _DATA["raw"]
    return _DATA.get(task, _DATA["segmentation"])
