"""Exponential backoff with jitter, capped: how long the uplink waits before it sends again
something head office or the broker did not take.

Each wait is drawn from the upper half of the current step (so it is never less than half
of it and tills that were refused at the same moment spread out), then the step doubles up
to the cap; success resets it. A refusal loop so costs a few messages a minute instead of
the whole backlog every few seconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    def __init__(self, first: float, cap: float,
                 rng: Callable[[], float] = random.random) -> None:
        if not 0 < first <= cap:
            raise ValueError(f"backoff: first wait {first} must be > 0 and <= the cap {cap}")
        self.first, self.cap, self.rng = first, cap, rng
        self.step = first
        self.rounds = 0  # waits drawn since the last reset

    def next(self) -> float:
        """The next wait in seconds; the one after it will be about twice as long."""
        wait = self.step * (0.5 + 0.5 * self.rng())
        self.step = min(self.step * 2, self.cap)
        self.rounds += 1
        return wait

    def reset(self) -> None:
        self.step, self.rounds = self.first, 0
