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
