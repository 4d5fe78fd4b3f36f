"""The machine's speed states, seen through one backend's time-paired slices (docs/method.md,
"Speed: time-paired slices"): this VM switches between levels ~1.5x apart lasting 10-60 s. The
page charts them, and a method finding says where they changed a speed-up (stats.speedups_by_state).
numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # stats imports this module: the type only
    from reportgen.stats import Slice

MIN_STATE_PAIRS = 5  # fewer pairs in a state: no speed-up of that state is given

# A state is a level of the reference's slice medians at least this far from the other one; closer
# levels are the noise inside one state.
STATE_GAP = 1.15
STATE_MIN_SHARE = 0.1  # a level holding fewer slices is a few outliers, not a state


@dataclass(frozen=True)
class States:
    """The machine's speed states seen through one backend's slices: a fast and a slow level (the
    same level twice when no state change was seen), the share of slices in the slow one, how often
    the state changed, and each slice's state (True: slow)."""

    fast_ms: float
    slow_ms: float
    slow_share: float
    switches: int
    slow: tuple[bool, ...]

    @property
    def seen(self) -> bool:
        return self.slow_ms > self.fast_ms


def speed_states(series: Sequence[Slice]) -> States:
    """Split a backend's slices (in time order) into a fast and a slow state by their medians.

    The two levels are the split of the log medians that leaves the least spread inside each side
    (Otsu's threshold, exhaustive: a run has at most a few hundred slices); they are states only when
    their medians are at least STATE_GAP apart and each holds STATE_MIN_SHARE of the slices.
    """
    values = np.log([s.median_ms for s in series])
    order = np.sort(values)
    best, threshold = np.inf, None
    for k in range(1, len(order)):
        spread = order[:k].var() * k + order[k:].var() * (len(order) - k)
        if spread < best:
            best, threshold = spread, (order[k - 1] + order[k]) / 2
    slow = values > threshold if threshold is not None else np.zeros(len(values), bool)
    share = float(slow.mean()) if len(values) else 0.0
    fast_ms, slow_ms = (float(np.exp(np.median(values[m]))) if m.any() else None for m in (~slow, slow))
    if (
        fast_ms is None
        or slow_ms is None
        or slow_ms < STATE_GAP * fast_ms
        or not (STATE_MIN_SHARE <= share <= 1 - STATE_MIN_SHARE)
    ):
        level = float(np.exp(np.median(values))) if len(values) else 0.0
        return States(level, level, 0.0, 0, tuple(False for _ in series))
    return States(fast_ms, slow_ms, share, int(np.count_nonzero(np.diff(slow))), tuple(bool(x) for x in slow))
