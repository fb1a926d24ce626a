"""Timing rounds shared by the benchmarks: readers/writers alternate within each round (the first one
rotating every round, so none always runs on a cold or a warm machine), then medians per file."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any


def alternate(
    names: Sequence[str],
    time_one: Callable[[str], float],
    rounds: int,
    files: int,
    log: Callable[[str], None],
    label: str,
) -> dict[str, list[float]]:
    """``time_one(name)`` (seconds for one pass over ``files`` files) for each name, ``rounds`` times."""
    names = list(names)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            times[name].append(time_one(name))
        log(
            f"  {label} round {r + 1}/{rounds}: "
            + ", ".join(f"{name} {t[-1] * 1e6 / files:.0f} us/file" for name, t in times.items())
        )
    return times


def median_figures(passes: list[float], files: int) -> dict[str, Any]:
    """The figures a benchmark reports for one reader/writer from its pass times."""
    median = statistics.median(passes)
    return {
        "pass_seconds": [round(x, 6) for x in passes],
        "median_seconds": round(median, 6),
        "us_per_file": round(median * 1e6 / files, 2),
        "files_per_second": round(files / median, 1),
    }
