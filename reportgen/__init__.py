"""reportgen: honest PyTorch vs ONNX Runtime conversion reports."""

__version__ = "0.1.0"
