"""Train the text demo's transformer on generated sequences; save FP16 weights and the held-out files.

    python -m reportgen.demo.train_text       # about 2 minutes on one CPU thread

Reproducible: the data come from fixed seeds and torch is seeded. Writes the FP16 checkpoint
(``reportgen/demo/weights/demo_text_fp16.pt``, loads with ``torch.load(weights_only=True)``) and the
evaluation set of configs/demo-text.yaml (``configs/text/*.npy``, seed ``EVAL_SEED``), so the config
always measures the weights on data they were not trained on.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from reportgen.demo.text_net import TEXT_CHECKPOINT, TextClassifier
from reportgen.demo.text_task import CLASS_NAMES, EVAL_SAMPLES, EVAL_SEED, TRAIN_SEED, make_dataset
from reportgen.shipped import config_path

VAL_SEED = 3000  # a larger held-out set than the shipped one, for the accuracy printed here
EVAL_DIR = config_path("demo-text").parent / "text"


def write_eval_files(folder: Path) -> None:
    """Write the shipped held-out set: input_ids.npy, attention_mask.npy, labels.npy (int64)."""
    folder.mkdir(parents=True, exist_ok=True)
    ids, masks, labels = make_dataset(EVAL_SEED, EVAL_SAMPLES)
    for name, array in (("input_ids", ids), ("attention_mask", masks), ("labels", labels)):
        np.save(folder / f"{name}.npy", array)


def accuracy(model: nn.Module, ids: np.ndarray, masks: np.ndarray, labels: np.ndarray) -> float:
    """Return top-1 accuracy of the model in eval mode."""
    model.eval()
    with torch.inference_mode():
        logits = model(torch.from_numpy(ids), torch.from_numpy(masks))
    return float((logits.argmax(-1).numpy() == labels).mean())


def train(model: nn.Module, data, epochs: int, batch: int, lr: float) -> None:
    """AdamW with a linear warm-up and a cosine decay, cross-entropy, shuffled mini-batches."""
    ids, masks, labels = (torch.from_numpy(a) for a in data)
    steps = epochs * math.ceil(len(labels) / batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * s / steps)))
    )
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(labels))
        total = 0.0
        for start in range(0, len(labels), batch):
            pick = order[start : start + batch]
            loss = nn.functional.cross_entropy(model(ids[pick], masks[pick]), labels[pick])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(pick)
        print(f"epoch {epoch + 1}/{epochs}: loss {total / len(labels):.4f}", flush=True)


def save(model: TextClassifier, config: dict, path: Path, figures: dict) -> None:
    """Store the state dict in FP16 with what rebuilds the net and what it scored."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "config": config, "class_names": list(CLASS_NAMES), **figures}, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-samples", type=int, default=30_000)
    parser.add_argument("--val-samples", type=int, default=5_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    # One thread: on a shared CPU, torch's two OpenMP threads wait for each other (1,200 samples/s on
    # one thread against 110 on two while other jobs ran); on a quiet machine two were ~1.5x faster.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=TEXT_CHECKPOINT)
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    config = {"num_classes": len(CLASS_NAMES), "width": 64, "heads": 4, "layers": 2}
    model = TextClassifier(**config)
    started = time.perf_counter()
    train(model, make_dataset(TRAIN_SEED, args.train_samples), args.epochs, args.batch, args.lr)
    train_s = time.perf_counter() - started
    write_eval_files(args.eval_dir)
    model = model.half().float()  # score the weights as shipped
    figures = {
        "val_accuracy": accuracy(model, *make_dataset(VAL_SEED, args.val_samples)),
        "eval_accuracy": accuracy(model, *make_dataset(EVAL_SEED, EVAL_SAMPLES)),
    }
    save(model, config, args.output, figures)
    print(
        f"trained {args.epochs} epochs on {args.train_samples} sequences in {train_s:.0f} s; held-out "
        f"accuracy {figures['val_accuracy']:.4f} (seed {VAL_SEED}, {args.val_samples}), "
        f"{figures['eval_accuracy']:.4f} (seed {EVAL_SEED}, {EVAL_SAMPLES}, {args.eval_dir}); "
        f"saved {args.output} ({args.output.stat().st_size / 1024:.0f} KiB)"
    )


if __name__ == "__main__":
    main()
