"""Activity clustering on synthetic acquisition times."""

from __future__ import annotations

import random

from nexuslims_kernel.builder.activities import FLOOR_S, cluster, gap_threshold, split_times

T0 = 1_772_442_000.0


def sizes(groups: list[list[int]]) -> list[int]:
    return [len(g) for g in groups]


def test_no_files_and_one_file() -> None:
    assert split_times([]) == []
    assert split_times([T0]) == [[0]]


def test_evenly_spaced_files_are_one_activity() -> None:
    assert sizes(split_times([T0 + 30 * i for i in range(100)])) == [100]
    assert sizes(split_times([T0 + 600 * i for i in range(10)])) == [10]


def test_two_bursts_are_two_activities_in_time_order() -> None:
    burst1 = [T0 + 20 * i for i in range(15)]
    burst2 = [T0 + 3 * 3600 + 25 * i for i in range(10)]
    times = burst2 + burst1  # input order does not matter
    groups = split_times(times)
    assert sizes(groups) == [15, 10]
    assert groups[0] == list(range(10, 25)) and groups[1] == list(range(10))


def test_identical_times_stay_together() -> None:
    assert sizes(split_times([T0] * 50)) == [50]


def test_short_pauses_never_split_long_ones_always_do() -> None:
    times = [T0, T0 + 1, T0 + 2, T0 + 2 + FLOOR_S - 1]
    assert sizes(split_times(times)) == [4]
    assert sizes(split_times([T0 + 3 * 3600 * i for i in range(3)])) == [1, 1, 1]


def test_sensitivity_tunes_the_split() -> None:
    times = [T0 + 60 * i for i in range(10)] + [T0 + 540 + 250 + 60 * i for i in range(10)]
    assert sizes(split_times(times, sensitivity=1.0)) == [20]
    assert sizes(split_times(times, sensitivity=4.0)) == [10, 10]
    assert gap_threshold(sorted(times), 2.0) == gap_threshold(sorted(times), 1.0) / 2


def test_deterministic_and_complete_for_ten_thousand_files() -> None:
    rng = random.Random(7)
    times, t = [], T0
    for _burst in range(40):
        for _ in range(250):
            t += rng.uniform(5, 40)
            times.append(t)
        t += rng.uniform(1800, 7200)
    shuffled = times[:]
    rng.shuffle(shuffled)
    groups = split_times(shuffled)
    assert sizes(groups) == [250] * 40
    assert split_times(shuffled) == groups
    assert sorted(i for g in groups for i in g) == list(range(10_000))


def test_cluster_keeps_the_items() -> None:
    items = [("a", T0), ("b", T0 + 10), ("c", T0 + 7200)]
    assert cluster(items, lambda it: it[1]) == [[items[0], items[1]], [items[2]]]
