"""The built-in demo: synthetic shapes with ground truth, and a small YOLO-style segmentation net.

Importing this package must not import torch: the ONNX Runtime worker uses the data generator.
"""
