"""The built-in demo: synthetic shapes with ground truth, and a small YOLO-style segmentation net.

Importing this package must not import torch: the ONNX Runtime worker uses the data generator.
"""

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).parent / "weights" / "demo_seg_fp16.pt"
