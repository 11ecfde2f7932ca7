"""What lets an operator see a leak or a pause coming: the process's memory and open files, the
garbage collector's work and the objects it tracks, read at every scrape of ``/metrics``.

Names follow prometheus-client's process and GC collectors (``process_resident_memory_bytes``,
``python_gc_collections_total``, ...) so dashboards built for those work unchanged; the pause
time and tracked objects, which those collectors do not report, are ``python_gc_*`` beside them.
A growing ``python_gc_objects_tracked{generation="2"}`` with flat traffic is a leak of Python
objects; a growing ``process_resident_memory_bytes`` with flat objects is one outside them.
"""

from __future__ import annotations

import gc
import os
import resource
import time
from collections import deque
from typing import Any

from packgraph import metrics

GENERATIONS = ("0", "1", "2")
# The longest-pause gauge looks at this many recent collections of each generation.
RECENT_PAUSES = 100

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def resident_memory_bytes() -> float:
    """Resident set size now (Linux); elsewhere the peak, the best the platform offers."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return float(int(statm.read().split()[1]) * _PAGE_SIZE)
    except OSError:
        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def open_fds() -> float:
    try:
        return float(len(os.listdir("/proc/self/fd")))
    except OSError:
        return 0.0


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _gc_stat(name: str) -> dict[tuple[str, ...], float]:
    stats = gc.get_stats()
    return {(generation,): float(stats[int(generation)][name]) for generation in GENERATIONS}


def tracked_objects() -> dict[tuple[str, ...], float]:
    # A scrape walks the collector's lists once (a few ms for a million objects).
    return {(g,): float(len(gc.get_objects(generation=int(g)))) for g in GENERATIONS}


class _PauseClock:
    """Times every collection through ``gc.callbacks``.

    Collections never overlap (the collector runs one at a time, holding the GIL), so the
    callback is the only writer of these fields and needs no lock; a lock here could deadlock
    when a collection starts inside code holding it.
    """

    def __init__(self) -> None:
        self.total = [0.0, 0.0, 0.0]
        self.recent: list[deque[float]] = [deque(maxlen=RECENT_PAUSES) for _ in GENERATIONS]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        elapsed = time.perf_counter() - self._started
        generation = info.get("generation", 2)
        self.total[generation] += elapsed
        self.recent[generation].append(elapsed)

    def totals(self) -> dict[tuple[str, ...], float]:
        return {(g,): self.total[int(g)] for g in GENERATIONS}

    def longest_recent(self) -> dict[tuple[str, ...], float]:
        return {(g,): max(self.recent[int(g)], default=0.0) for g in GENERATIONS}


_clock = _PauseClock()


def install() -> None:
    """Register the instruments and start timing collections (once per process)."""
    if _clock in gc.callbacks:
        return
    gc.callbacks.append(_clock)
    metrics.gauge(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        function=resident_memory_bytes,
    )
    metrics.gauge("process_open_fds", "Number of open file descriptors.", function=open_fds)
    metrics.counter(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        function=cpu_seconds,
    )
    metrics.counter(
        "python_gc_collections_total",
        "Number of times this generation was collected.",
        ("generation",),
        function=lambda: _gc_stat("collections"),
    )
    metrics.counter(
        "python_gc_objects_collected_total",
        "Objects collected during gc.",
        ("generation",),
        function=lambda: _gc_stat("collected"),
    )
    metrics.counter(
        "python_gc_objects_uncollectable_total",
        "Uncollectable objects found during GC.",
        ("generation",),
        function=lambda: _gc_stat("uncollectable"),
    )
    metrics.counter(
        "python_gc_pause_seconds_total",
        "Time spent in collections of this generation (the process pauses meanwhile).",
        ("generation",),
        function=_clock.totals,
    )
    metrics.gauge(
        "python_gc_pause_max_seconds",
        f"Longest of the last {RECENT_PAUSES} collections of this generation.",
        ("generation",),
        function=_clock.longest_recent,
    )
    metrics.gauge(
        "python_gc_objects_tracked",
        "Objects the garbage collector tracks, by the generation they are in now.",
        ("generation",),
        function=tracked_objects,
    )
