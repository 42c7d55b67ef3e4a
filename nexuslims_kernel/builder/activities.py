"""Split a session's datasets into acquisition activities by gaps in time.

The rule (deterministic, O(n log n) for the sort, O(n) after):

1. Sort the acquisition times; take the gaps between neighbours.
2. From the *positive* gaps (identical times say nothing about pacing) take
   the median ``m`` and the robust spread ``s = 1.4826 * MAD``.
3. A gap starts a new activity when it exceeds

       threshold = clamp(K_MEDIAN * m + K_SPREAD * s, FLOOR_S, CEILING_S) / sensitivity

   i.e. much longer than the usual pause between acquisitions, never for
   pauses under ``FLOOR_S`` (2 min) and always for pauses over ``CEILING_S``
   (1 h). Higher ``sensitivity`` splits more.

One file is one activity; evenly spaced files stay together; two bursts
separated by a long pause become two activities; identical times stay one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import TypeVar

T = TypeVar("T")

K_MEDIAN = 5.0
K_SPREAD = 5.0
FLOOR_S = 120.0
CEILING_S = 3600.0


def gap_threshold(sorted_times: Sequence[float], sensitivity: float = 1.0) -> float:
    """Seconds of silence that separate two activities for these (sorted) times."""
    gaps = [b - a for a, b in pairwise(sorted_times) if b > a]
    if not gaps:
        return CEILING_S / sensitivity
    median = statistics.median(gaps)
    spread = 1.4826 * statistics.median([abs(g - median) for g in gaps])
    raw = K_MEDIAN * median + K_SPREAD * spread
    return min(max(raw, FLOOR_S), CEILING_S) / max(sensitivity, 1e-9)


def split_times(times: Sequence[float], sensitivity: float = 1.0) -> list[list[int]]:
    """Indices into ``times`` grouped into activities, in time order (ties by index)."""
    if not times:
        return []
    order = sorted(range(len(times)), key=lambda i: (times[i], i))
    ordered = [times[i] for i in order]
    threshold = gap_threshold(ordered, sensitivity)
    groups: list[list[int]] = [[order[0]]]
    for prev, cur, idx in zip(ordered, ordered[1:], order[1:]):
        if cur - prev > threshold:
            groups.append([])
        groups[-1].append(idx)
    return groups


def cluster(items: Sequence[T], time_of: Callable[[T], float], sensitivity: float = 1.0) -> list[list[T]]:
    """``items`` grouped into activities by ``time_of(item)`` (epoch seconds)."""
    times = [time_of(item) for item in items]
    return [[items[i] for i in group] for group in split_times(times, sensitivity)]
