"""The text demo's network: a small pre-norm transformer encoder that classifies token sequences.

Hand-written attention (matmul, additive mask, softmax) rather than ``nn.TransformerEncoder``: the
latter takes a fused fast path under ``torch.inference_mode()`` that eager measurement would time
but the ONNX export never runs, and both exporters trace these plain ops the same way. Masked keys
get a large finite negative score, not -inf, so a fully masked row gives finite outputs, not NaN.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from reportgen.demo.text_task import CLASS_NAMES, SEQ_LEN, VOCAB_SIZE

TEXT_CHECKPOINT = Path(__file__).parent / "weights" / "demo_text_fp16.pt"
MASKED_SCORE = -1.0e4


class EncoderLayer(nn.Module):
    """Pre-norm self-attention and feed-forward, each with a residual connection."""

    def __init__(self, width: int, heads: int, hidden: int):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.ff = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def attention(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, width = x.shape
        q, k, v = (
            self.qkv(x).reshape(b, t, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4).unbind()
        )
        scores = q @ k.transpose(-1, -2) * (width // self.heads) ** -0.5 + bias
        return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, width))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x), bias)
        return x + self.ff(self.norm2(x))


class TextClassifier(nn.Module):
    """Token and position embeddings, ``layers`` encoder layers, masked mean pooling, a linear head."""

    def __init__(self, num_classes: int = len(CLASS_NAMES), width: int = 64, heads: int = 4, layers: int = 2):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB_SIZE, width)
        self.positions = nn.Parameter(torch.randn(SEQ_LEN, width) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(width, heads, 2 * width) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Return logits (batch, classes) of right-padded ``input_ids`` (mask 1 on real tokens)."""
        x = self.tokens(input_ids) + self.positions[: input_ids.shape[1]]
        keep = attention_mask.to(x.dtype)
        bias = ((1.0 - keep) * MASKED_SCORE)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        pooled = (self.norm(x) * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1.0)
        return self.head(pooled)


def from_checkpoint(checkpoint: dict) -> TextClassifier:
    """Rebuild the net from a loaded FP16 checkpoint, in FP32 and eval mode."""
    model = TextClassifier(**checkpoint["config"])
    model.load_state_dict({k: v.float() for k, v in checkpoint["state_dict"].items()})
    return model.eval()


def text_classifier() -> TextClassifier:
    """The ``model.factory`` of configs/demo-text.yaml: the net with the shipped weights, FP32, eval mode."""
    return from_checkpoint(torch.load(TEXT_CHECKPOINT, map_location="cpu", weights_only=True))
