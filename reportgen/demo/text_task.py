"""Deterministic generated token sequences for the text demo: the class is the first marker to occur.

Each sequence holds filler tokens and 2-5 marker tokens (``red``, ``green``, ``blue``, ``yellow``);
its class is the marker that occurs first. Later markers are drawn freely, so the most frequent
marker is often not the answer: a bag of tokens cannot solve the task, attention over positions can.
Sequences are right-padded to ``SEQ_LEN`` with ``PAD``; the attention mask is 1 on real tokens.

Sample ``i`` depends only on ``(seed, i)`` (numpy's PCG64 is stable), like the vision demo's images.
numpy only: the parent process and the ONNX Runtime worker never import torch.
"""

from __future__ import annotations

import numpy as np

CLASS_NAMES = ("red", "green", "blue", "yellow")
PAD = 0
MARKERS = np.arange(1, 1 + len(CLASS_NAMES))  # token ids of the markers, in class order
VOCAB_SIZE = 128  # ids above the markers are filler
SEQ_LEN = 32
MIN_LEN = 8
MAX_MARKERS = 5
TRAIN_SEED = 1000
EVAL_SEED = 2024  # the shipped held-out files (configs/text/) come from this seed
EVAL_SAMPLES = 200


def make_sample(seed: int, index: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Return sequence ``index`` of the data set of ``seed``: token ids, attention mask, class."""
    rng = np.random.default_rng([seed, index])
    length = int(rng.integers(MIN_LEN, SEQ_LEN + 1))
    ids = np.full(SEQ_LEN, PAD, dtype=np.int64)
    ids[:length] = rng.integers(MARKERS[-1] + 1, VOCAB_SIZE, size=length)
    label = int(rng.integers(len(CLASS_NAMES)))
    positions = np.sort(rng.choice(length, size=int(rng.integers(2, MAX_MARKERS + 1)), replace=False))
    later = rng.integers(len(CLASS_NAMES), size=len(positions) - 1)
    if (later == label).all():  # at least one other marker, or "the only marker" would be the rule
        later[rng.integers(len(later))] = (label + rng.integers(1, len(CLASS_NAMES))) % len(CLASS_NAMES)
    ids[positions] = MARKERS[np.concatenate([[label], later])]
    mask = (np.arange(SEQ_LEN) < length).astype(np.int64)
    return ids, mask, label


def make_dataset(seed: int, count: int, start: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return samples ``start .. start+count-1`` of ``seed``: ids, masks (count, SEQ_LEN), labels (count,)."""
    samples = [make_sample(seed, start + i) for i in range(count)]
    ids, masks, labels = zip(*samples)
    return np.stack(ids), np.stack(masks), np.asarray(labels, dtype=np.int64)


def rule_label(ids: np.ndarray, mask: np.ndarray) -> int:
    """Return the class the rule gives one sequence: the first real token that is a marker.

    Written apart from the generator, so a test can check the generator's labels against the rule.
    """
    real = ids[mask.astype(bool)]
    first = real[np.isin(real, MARKERS)][0]
    return int(np.flatnonzero(MARKERS == first)[0])
