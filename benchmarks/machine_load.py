"""Machine load while a benchmark runs: load average and machine-wide CPU use, sampled in the background.

The benchmark machine has 2 cores shared with other work, so every archive benchmark reports the
load it ran under next to its figures. :class:`LoadSampler` reads ``/proc/loadavg`` and the ``cpu``
line of ``/proc/stat`` once a second in a daemon thread; :meth:`LoadSampler.summary` gives the 1-minute
load average (start, end, max), the machine-wide CPU busy share (all processes, including ours and
our servers) and this process's own CPU time (itself plus the children it has waited for).
"""

from __future__ import annotations

import os
import resource
import threading
import time
from types import TracebackType
from typing import Any


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies from the first line of /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user/nice
    return total - idle, total


def own_cpu() -> float:
    """CPU seconds of this process and of the children it has waited for (worker pools)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def snapshot() -> dict[str, Any]:
    """The load right now: 1/5/15-minute load averages and the number of CPUs."""
    one, five, fifteen = os.getloadavg()
    return {"cpus": os.cpu_count(), "loadavg": [round(one, 2), round(five, 2), round(fifteen, 2)]}


class LoadSampler:
    """``with LoadSampler() as load: ...; load.summary()``."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._load: list[float] = []
        self._start_ticks = (0, 0)
        self._end_ticks = (0, 0)
        self._start_cpu = 0.0
        self._end_cpu = 0.0
        self._t0 = 0.0
        self._t1 = 0.0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._load.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._load = [os.getloadavg()[0]]
        self._start_ticks = _cpu_ticks()
        self._start_cpu = own_cpu()
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._load.append(os.getloadavg()[0])
        self._end_ticks = _cpu_ticks()
        self._end_cpu = own_cpu()
        self._t1 = time.perf_counter()

    def summary(self) -> dict[str, Any]:
        busy = self._end_ticks[0] - self._start_ticks[0]
        total = self._end_ticks[1] - self._start_ticks[1]
        cpus = os.cpu_count() or 1
        wall = self._t1 - self._t0
        return {
            "cpus": cpus,
            "seconds": round(wall, 1),
            "loadavg_1m_start": round(self._load[0], 2),
            "loadavg_1m_end": round(self._load[-1], 2),
            "loadavg_1m_max": round(max(self._load), 2),
            "machine_cpu_busy_pct": round(100.0 * busy / total, 1) if total else None,
            "own_cpu_s": round(self._end_cpu - self._start_cpu, 1),
            "own_cpu_pct_of_machine": round(100.0 * (self._end_cpu - self._start_cpu) / (wall * cpus), 1)
            if wall
            else None,
        }


def describe(load: dict[str, Any]) -> str:
    """One line for the report."""
    return (
        f"load avg 1 min {load['loadavg_1m_start']} -> {load['loadavg_1m_end']} (max {load['loadavg_1m_max']}) "
        f"on {load['cpus']} CPUs; machine CPU busy {load['machine_cpu_busy_pct']}% "
        f"(this benchmark and its children: {load['own_cpu_pct_of_machine']}%)"
    )
