"""Small real models that the source tests build through `model.factory: factories.models:<name>`."""

import torch
from torch import nn


def demo_net() -> nn.Module:
    """The demo's architecture, to be filled from a weights file."""
    from reportgen.demo.net import DemoSegNet

    return DemoSegNet()


def tiny_classifier() -> nn.Module:
    """A four-class conv net with fixed random weights (its answers are deterministic, not accurate)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, 2, 1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, 2, 1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 4),
    ).eval()


class TwoHeads(nn.Module):
    """Any tensors in, two tensors out: what the raw task compares."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1), nn.GELU())
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        features = self.body(x)
        return features, self.head(features.mean((2, 3)))


def two_heads() -> nn.Module:
    return TwoHeads().eval()


class TokenClassifier(nn.Module):
    """Two int64 inputs (token ids and an attention mask), class logits out: a transformer's interface."""

    def __init__(self, vocabulary: int = 50, width: int = 16, classes: int = 3):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(vocabulary, width)
        self.mix = nn.Linear(width, width)
        self.head = nn.Linear(width, classes)

    def forward(self, input_ids, attention_mask):
        mask = attention_mask.unsqueeze(-1).to(torch.float32)
        hidden = torch.relu(self.mix(self.embed(input_ids))) * mask
        pooled = hidden.sum(1) / mask.sum(1).clamp(min=1.0)
        return {"logits": self.head(pooled), "pooled": pooled}


def token_classifier() -> nn.Module:
    return TokenClassifier().eval()


class Resampler(nn.Module):
    """A tensor and a Python int argument (an audio model's ``forward(x, sr)``)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.filter = nn.Conv1d(1, 4, 5, padding=2)

    def forward(self, x, sr: int):
        scale = 16000.0 / sr  # the scalar changes the answer: it must reach the model
        return self.filter(x.unsqueeze(1) * scale).mean(-1)


def resampler() -> nn.Module:
    return Resampler().eval()
