"""RSS of every soak process sampled over time, and whether it stays flat.

Flat means: the least-squares slope of RSS over the steady part of the run (samples after
WARMUP of the process's own sampled life) projects less growth per hour than the tolerance,
max(TOLERANCE_MB, TOLERANCE_SHARE of its median RSS). A process sampled fewer than
MIN_SAMPLES times over the steady part (a replaced worker, a short run) is reported with
its figures but judged "too short".
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

WARMUP = 0.2
TOLERANCE_MB = 4.0
TOLERANCE_SHARE = 0.05
MIN_SAMPLES = 8


def rss_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, RssAnon) in kB: all resident memory, and the part that is the process's own
    heap (not files or shared memory it maps)."""
    rss = anon = None
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("RssAnon:"):
                    anon = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if rss is None else (rss, anon or 0)


@dataclass
class Series:
    name: str
    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)  # (time, kB)
    anon: list[int] = field(default_factory=list)  # RssAnon kB of each sample

    def timeline(self, points: int = 11) -> list[tuple[float, float]]:
        """(seconds since the first sample, RSS MB) at `points` evenly spaced samples."""
        if not self.samples:
            return []
        t0, n = self.samples[0][0], len(self.samples)
        picks = sorted({round(k * (n - 1) / (points - 1)) for k in range(points)})
        return [(round(self.samples[i][0] - t0), round(self.samples[i][1] / 1024, 1))
                for i in picks]

    def verdict(self) -> dict:
        steady = self.samples[int(len(self.samples) * WARMUP):]
        if not self.samples:
            return {"name": self.name, "pid": self.pid, "samples": 0, "flat": None}
        first, last = self.samples[0][1] / 1024, self.samples[-1][1] / 1024
        out = {"name": self.name, "pid": self.pid, "samples": len(self.samples),
               "first_mb": round(first, 1), "last_mb": round(last, 1),
               "mid_mb": round(self.samples[len(self.samples) // 2][1] / 1024, 1),
               "max_mb": round(max(kb for _, kb in self.samples) / 1024, 1),
               "anon_first_mb": round(self.anon[0] / 1024, 1),
               "anon_last_mb": round(self.anon[-1] / 1024, 1),
               "timeline_mb": self.timeline()}
        if len(steady) < MIN_SAMPLES or steady[-1][0] - steady[0][0] <= 0:
            return {**out, "slope_mb_per_hour": None, "flat": None, "judged": "too short"}
        xs = [t for t, _ in steady]
        ys = [kb / 1024 for _, kb in steady]
        slope = statistics.linear_regression(xs, ys).slope * 3600
        anon = [kb / 1024 for kb in self.anon[int(len(self.samples) * WARMUP):]]
        anon_slope = statistics.linear_regression(xs, anon).slope * 3600
        tolerance = max(TOLERANCE_MB, TOLERANCE_SHARE * statistics.median(ys))
        return {**out, "slope_mb_per_hour": round(slope, 2),
                "anon_slope_mb_per_hour": round(anon_slope, 2),
                "tolerance_mb_per_hour": round(tolerance, 1), "flat": slope < tolerance,
                "judged": f"steady part {xs[-1] - xs[0]:.0f} s"}


class Sampler:
    """Samples every `interval` s the processes that `targets()` names ({name: pid})."""

    def __init__(self, targets: Callable[[], dict[str, int]], interval: float) -> None:
        self.targets, self.interval = targets, interval
        self.series: dict[tuple[str, int], Series] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> Sampler:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            now = time.time()
            for name, pid in self.targets().items():
                kb = rss_kb(pid)
                if kb is not None:
                    series = self.series.setdefault((name, pid), Series(name, pid))
                    series.samples.append((now, kb[0]))
                    series.anon.append(kb[1])
            self.stop.wait(self.interval)

    def finish(self) -> list[dict]:
        self.stop.set()
        self.thread.join(10)
        return [s.verdict() for s in self.series.values()]
