"""What a runtime's op type does, in one vocabulary across runtimes, so profiles of ONNX Runtime
(``Conv``, ``ConvInteger``), OpenVINO (``Convolution``) and PyTorch (``aten::conv2d``) compare.

Declared once here; the profile stores each runtime's own names (the judgement may change, the
measurement does not). An op type not listed is ``other``: shown, never guessed into a family.
"""

from __future__ import annotations

from collections.abc import Mapping

from reportgen.results.profile import OpTime

FAMILIES: dict[str, tuple[str, ...]] = {
    "conv": (
        "Conv",
        "NchwcConv",
        "FusedConv",
        "ConvTranspose",
        "Convolution",
        "GroupConvolution",
        "ConvolutionBackpropData",
        "aten::conv2d",
        "aten::conv1d",
        "aten::conv3d",
        "aten::convolution",
        "aten::_convolution",
        "aten::mkldnn_convolution",
        "aten::conv_transpose2d",
    ),
    "matmul": (
        "MatMul",
        "Gemm",
        "FusedMatMul",
        "FullyConnected",
        "aten::linear",
        "aten::matmul",
        "aten::addmm",
        "aten::mm",
        "aten::bmm",
        "aten::baddbmm",
        "aten::einsum",
    ),
    "int_conv": ("ConvInteger", "QLinearConv", "aten::quantized_conv2d", "quantized::conv2d"),
    "int_matmul": ("MatMulInteger", "QLinearMatMul", "MatMulIntegerToFloat", "DynamicQuantizeMatMul"),
    "quantize": (
        "QuantizeLinear",
        "DequantizeLinear",
        "DynamicQuantizeLinear",
        "FakeQuantize",
        "aten::quantize_per_tensor",
        "aten::dequantize",
    ),
    "cast": ("Cast", "Convert", "aten::to", "aten::_to_copy"),
    "layout": ("ReorderInput", "ReorderOutput", "Reorder", "Transpose", "aten::permute", "aten::contiguous"),
}
FAMILY = {op: family for family, ops in FAMILIES.items() for op in ops}


def family(op: str) -> str:
    """Return the family of a runtime's op type, ``other`` when it is none of the declared ones."""
    return FAMILY.get(op, "other")


def family_ms(by_op: Mapping[str, OpTime]) -> dict[str, float]:
    """Return a profile's time per call by family."""
    out: dict[str, float] = {}
    for op, time in by_op.items():
        out[family(op)] = out.get(family(op), 0.0) + time["ms"]
    return out


def family_count(by_op: Mapping[str, OpTime], name: str) -> float:
    """Return how many nodes of a family run per call."""
    return sum(t["count"] for op, t in by_op.items() if family(op) == name)


def top_op(by_op: Mapping[str, OpTime], name: str) -> tuple[str, float] | None:
    """Return the op type of a family that takes the most time, and its time; None when none runs."""
    ops = [(op, t["ms"]) for op, t in by_op.items() if family(op) == name]
    return max(ops, key=lambda o: o[1]) if ops else None
