"""Train the demo segmentation net on generated shapes and save it as an FP16 checkpoint.

    python -m reportgen.demo.train            # ~20-30 min on 2 CPU cores

Reproducible: the data come from fixed seeds and torch is seeded. The checkpoint is a state_dict
stored in FP16, like Ultralytics' ``.pt`` files, so it is about half the size of the FP32 ONNX
export; it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from reportgen.demo import DEFAULT_CHECKPOINT
from reportgen.demo.net import DemoSegNet, anchor_points
from reportgen.demo.shapes import CLASS_NAMES, make_dataset

TRAIN_SEED = 1000  # the demo config evaluates on another seed: held-out images
MAX_OBJECTS = 4


def pack(samples, size: int):
    """Stack samples into padded tensors: images, boxes, classes, valid flags, 1/4-scale soft masks."""
    n = len(samples)
    images = torch.from_numpy(np.stack([s.image for s in samples])).permute(0, 3, 1, 2).contiguous()
    boxes = torch.zeros(n, MAX_OBJECTS, 4)
    classes = torch.zeros(n, MAX_OBJECTS, dtype=torch.long)
    valid = torch.zeros(n, MAX_OBJECTS, dtype=torch.bool)
    masks = torch.zeros(n, MAX_OBJECTS, size // 4, size // 4)
    for i, s in enumerate(samples):
        k = len(s.classes)
        boxes[i, :k] = torch.from_numpy(s.boxes)
        classes[i, :k] = torch.from_numpy(s.classes)
        valid[i, :k] = True
        if k:
            quarter = s.masks.reshape(k, size // 4, 4, size // 4, 4).mean(axis=(2, 4))
            masks[i, :k] = torch.from_numpy(quarter.astype(np.float32))
    return images, boxes, classes, valid, masks


def box_iou_pairs(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return IoU and GIoU of paired xyxy boxes."""
    lt, rb = torch.maximum(a[:, :2], b[:, :2]), torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    area_a, area_b = (a[:, 2:] - a[:, :2]).prod(1), (b[:, 2:] - b[:, :2]).prod(1)
    union = area_a + area_b - inter + 1e-7
    iou = inter / union
    hull = (torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])).prod(1) + 1e-7
    return iou, iou - (hull - union) / hull


def assign(centres, strides, boxes, valid):
    """Assign each anchor to the smallest ground-truth box whose interior and centre region hold it."""
    x, y = centres[None, :, None, 0], centres[None, :, None, 1]
    b = boxes[:, None]
    in_box = (x > b[..., 0]) & (x < b[..., 2]) & (y > b[..., 1]) & (y < b[..., 3])
    radius = 2.5 * strides[None, :, None]
    cx, cy = (b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2
    candidate = in_box & ((x - cx).abs() < radius) & ((y - cy).abs() < radius) & valid[:, None, :]
    area = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    cost = torch.where(candidate, area.expand_as(candidate), torch.full_like(area, float("inf")))
    return candidate.any(-1), cost.argmin(-1)


def loss_fn(model, images, boxes, classes, valid, masks, centres, strides):
    pred_boxes, logits, coefs, protos = model.forward_raw(images)
    positive, gt_index = assign(centres, strides, boxes, valid)
    b_idx, a_idx = positive.nonzero(as_tuple=True)
    g_idx = gt_index[b_idx, a_idx]
    num_pos = max(len(b_idx), 1)
    iou, giou = box_iou_pairs(pred_boxes[b_idx, a_idx], boxes[b_idx, g_idx])
    box_loss = (1 - giou).mean() if len(b_idx) else pred_boxes.sum() * 0
    target = torch.zeros_like(logits)
    target[b_idx, a_idx, classes[b_idx, g_idx]] = iou.detach().clamp(min=0.05)  # quality-aware
    cls_loss = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum") / num_pos
    mask_loss = logits.sum() * 0
    q = protos.shape[-1]
    grid = (torch.arange(q, dtype=torch.float32) + 0.5) * 4
    for i in range(images.shape[0]):
        sel = b_idx == i
        if not sel.any():
            continue
        mask_logits = (coefs[i, a_idx[sel]] @ protos[i].flatten(1)).view(-1, q, q)
        gt_box = boxes[i, g_idx[sel]]
        crop = (
            (grid[None, None, :] > gt_box[:, 0, None, None])
            & (grid[None, None, :] < gt_box[:, 2, None, None])
            & (grid[None, :, None] > gt_box[:, 1, None, None])
            & (grid[None, :, None] < gt_box[:, 3, None, None])
        )
        bce = nn.functional.binary_cross_entropy_with_logits(
            mask_logits, masks[i, g_idx[sel]], reduction="none"
        )
        mask_loss = mask_loss + ((bce * crop).flatten(1).sum(1) / crop.flatten(1).sum(1).clamp(min=1)).sum()
    mask_loss = mask_loss / num_pos
    return 5 * box_loss + cls_loss + 2 * mask_loss, (box_loss.item(), cls_loss.item(), mask_loss.item())


def train(steps: int, batch: int, images: int, size: int, out: Path, threads: int) -> None:
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    started = time.monotonic()
    data = pack(make_dataset(TRAIN_SEED, images, size), size)
    print(f"generated {images} training images in {time.monotonic() - started:.0f} s", flush=True)
    model = DemoSegNet(num_classes=len(CLASS_NAMES))
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    centres, strides = anchor_points(size)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for step in range(steps):
        idx = torch.randint(images, (batch,), generator=generator)
        imgs, bxs, cls, valid, msk = (t[idx] for t in data)
        imgs = imgs.float() / 255
        if torch.rand((), generator=generator) < 0.5:  # horizontal flip, boxes and masks with it
            imgs, msk = imgs.flip(-1), msk.flip(-1)
            bxs = torch.stack([size - bxs[..., 2], bxs[..., 1], size - bxs[..., 0], bxs[..., 3]], -1)
        loss, parts = loss_fn(model, imgs, bxs, cls, valid, msk, centres, strides)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            elapsed = time.monotonic() - started
            print(
                f"step {step}/{steps} loss {loss.item():.3f} box {parts[0]:.3f} cls {parts[1]:.3f} "
                f"mask {parts[2]:.3f} ({elapsed:.0f} s)",
                flush=True,
            )
    save_checkpoint(model, size, out)
    print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB) after {time.monotonic() - started:.0f} s")


def save_checkpoint(model: DemoSegNet, size: int, out: Path) -> None:
    """Write the weights in FP16 with the metadata needed to rebuild the net."""
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    checkpoint = {
        "architecture": "DemoSegNet",
        "num_classes": model.nc,
        "num_masks": model.nm,
        "input_size": size,
        "class_names": list(CLASS_NAMES),
        "state_dict": state,
    }
    tmp = out.with_suffix(".tmp")
    torch.save(checkpoint, tmp)
    tmp.replace(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--images", type=int, default=6000, help="distinct generated training images")
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    args = parser.parse_args()
    train(args.steps, args.batch, args.images, args.size, args.out, args.threads)


if __name__ == "__main__":
    main()
