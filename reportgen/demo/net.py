"""A small single-stage instance-segmentation network in the style of YOLOv8-seg.

Conv/BN/SiLU blocks, C2f, SPPF, an FPN+PAN neck, a decoupled anchor-free head (box, class,
mask coefficients) on strides 8/16/32 and a mask-prototype branch at stride 4. ``forward``
returns what an Ultralytics segmentation export returns: ``(B, 4+nc+nm, A)`` with xywh boxes in
input pixels and sigmoid class scores, and prototypes ``(B, nm, H/4, W/4)``.
"""

from __future__ import annotations

import torch
from torch import nn

STRIDES = (8, 16, 32)


class Conv(nn.Sequential):
    """Conv2d + BatchNorm + SiLU."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, s: int = 1):
        super().__init__(nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False), nn.BatchNorm2d(c_out), nn.SiLU())


class Bottleneck(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.cv1, self.cv2 = Conv(c, c), Conv(c, c)

    def forward(self, x):
        return x + self.cv2(self.cv1(x))


class C2f(nn.Module):
    """Split, a chain of bottlenecks whose every output is kept, concatenate, fuse."""

    def __init__(self, c_in: int, c_out: int, n: int = 1):
        super().__init__()
        self.c = c_out // 2
        self.cv1 = Conv(c_in, 2 * self.c, 1)
        self.blocks = nn.ModuleList(Bottleneck(self.c) for _ in range(n))
        self.cv2 = Conv((2 + n) * self.c, c_out, 1)

    def forward(self, x):
        parts = list(self.cv1(x).chunk(2, 1))
        for block in self.blocks:
            parts.append(block(parts[-1]))
        return self.cv2(torch.cat(parts, 1))


class SPPF(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.cv1, self.cv2 = Conv(c, c // 2, 1), Conv(c // 2 * 4, c, 1)
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.pool(y[-1]))
        return self.cv2(torch.cat(y, 1))


def _branch(c_in: int, c_mid: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(Conv(c_in, c_mid), Conv(c_mid, c_mid), nn.Conv2d(c_mid, c_out, 1))


class DemoSegNet(nn.Module):
    """YOLOv8-seg-like network; ``num_classes`` classes, ``num_masks`` prototypes."""

    def __init__(self, num_classes: int = 4, num_masks: int = 16):
        super().__init__()
        self.nc, self.nm = num_classes, num_masks
        self.stem = nn.Sequential(Conv(3, 16, 3, 2), Conv(16, 32, 3, 2), C2f(32, 32, 1))
        self.down3 = nn.Sequential(Conv(32, 64, 3, 2), C2f(64, 64, 2))
        self.down4 = nn.Sequential(Conv(64, 128, 3, 2), C2f(128, 128, 2))
        self.down5 = nn.Sequential(Conv(128, 256, 3, 2), C2f(256, 256, 1), SPPF(256))
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.top4 = C2f(256 + 128, 128)
        self.top3 = C2f(128 + 64, 64)
        self.bottom4_down, self.bottom4 = Conv(64, 64, 3, 2), C2f(64 + 128, 128)
        self.bottom5_down, self.bottom5 = Conv(128, 128, 3, 2), C2f(128 + 256, 256)
        channels = (64, 128, 256)
        self.box = nn.ModuleList(_branch(c, 48, 4) for c in channels)
        self.cls = nn.ModuleList(_branch(c, 48, num_classes) for c in channels)
        self.coef = nn.ModuleList(_branch(c, 32, num_masks) for c in channels)
        self.proto = nn.Sequential(
            Conv(64, 64),
            nn.Upsample(scale_factor=2, mode="nearest"),
            Conv(64, 64),
            nn.Conv2d(64, num_masks, 1),
        )
        for conv in self.cls:  # start with low scores (prior 0.01), as detection heads do
            nn.init.constant_(conv[-1].bias, -4.6)  # type: ignore[index, arg-type]  # torch types it Module

    def features(self, x):
        """Return the three neck outputs (strides 8, 16, 32) and the prototypes."""
        p3 = self.down3(self.stem(x))
        p4 = self.down4(p3)
        p5 = self.down5(p4)
        t4 = self.top4(torch.cat([self.up(p5), p4], 1))
        n3 = self.top3(torch.cat([self.up(t4), p3], 1))
        n4 = self.bottom4(torch.cat([self.bottom4_down(n3), t4], 1))
        n5 = self.bottom5(torch.cat([self.bottom5_down(n4), p5], 1))
        return (n3, n4, n5), self.proto(n3)

    def forward_raw(self, x):
        """Return boxes xyxy (B,A,4) in pixels, class logits (B,A,nc), coefficients (B,A,nm), protos."""
        levels, protos = self.features(x)
        boxes, logits, coefs = [], [], []
        for i, (feat, stride) in enumerate(zip(levels, STRIDES)):
            h, w = feat.shape[-2:]
            ys = (torch.arange(h, dtype=feat.dtype) + 0.5) * stride
            xs = (torch.arange(w, dtype=feat.dtype) + 0.5) * stride
            cy, cx = torch.meshgrid(ys, xs, indexing="ij")
            centres = torch.stack([cx, cy], -1).reshape(1, -1, 2)
            ltrb = nn.functional.softplus(self.box[i](feat)).flatten(2).transpose(1, 2) * stride
            boxes.append(torch.cat([centres - ltrb[..., :2], centres + ltrb[..., 2:]], -1))
            logits.append(self.cls[i](feat).flatten(2).transpose(1, 2))
            coefs.append(self.coef[i](feat).flatten(2).transpose(1, 2))
        return torch.cat(boxes, 1), torch.cat(logits, 1), torch.cat(coefs, 1), protos

    def forward(self, x):
        boxes, logits, coefs, protos = self.forward_raw(x)
        xywh = torch.cat([(boxes[..., :2] + boxes[..., 2:]) / 2, boxes[..., 2:] - boxes[..., :2]], -1)
        return torch.cat([xywh, logits.sigmoid(), coefs], -1).transpose(1, 2), protos


def anchor_points(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return anchor centres (A,2) and their strides (A,) for a square input of ``size``."""
    centres, strides = [], []
    for stride in STRIDES:
        n = size // stride
        c = (torch.arange(n, dtype=torch.float32) + 0.5) * stride
        cy, cx = torch.meshgrid(c, c, indexing="ij")
        centres.append(torch.stack([cx, cy], -1).reshape(-1, 2))
        strides.append(torch.full((n * n,), float(stride)))
    return torch.cat(centres), torch.cat(strides)


def load_checkpoint(path: str) -> tuple[DemoSegNet, dict]:
    """Rebuild the net from an FP16 checkpoint file, in FP32 and eval mode; return it and its metadata."""
    return from_checkpoint(torch.load(path, map_location="cpu", weights_only=True))


def from_checkpoint(checkpoint: dict) -> tuple[DemoSegNet, dict]:
    """Rebuild the net from a loaded checkpoint, in FP32 and eval mode; return it and its metadata."""
    model = DemoSegNet(num_classes=checkpoint["num_classes"], num_masks=checkpoint["num_masks"])
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in checkpoint["state_dict"].items()}
    )
    meta = {k: v for k, v in checkpoint.items() if k != "state_dict"}
    return model.eval(), meta
