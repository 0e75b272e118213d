"""Token buckets per terminal, in a worker's memory: what one terminal may still do now.

The ingest uses two: how many journal messages a terminal may have checked and stored per
second (a terminal flooding head office, with garbage or with validly signed messages, gets
its share and no more, so it cannot starve the others), and how many dead-letter rows it may
add (deadletter.RowBudget). Each worker has its own buckets. The table is bounded: buckets
that have filled up again are forgotten when it grows past PRUNE_AT terminals.
"""

from __future__ import annotations

import time
from collections.abc import Callable

PRUNE_AT = 20_000


class TokenBuckets:
    """`rate` tokens a second per key, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs rate > 0 and burst >= 1, not {rate}/{burst}")
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> bool:
        """Takes one token for `key`; False (and nothing taken) when it has none left."""
        now = self.clock()
        tokens, at = self._tokens.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        if len(self._tokens) >= PRUNE_AT and key not in self._tokens:
            self._prune(now)
        self._tokens[key] = (tokens - 1.0 if allowed else tokens, now)
        return allowed

    def __len__(self) -> int:
        return len(self._tokens)

    def _prune(self, now: float) -> None:
        full = self.burst - 1.0
        self._tokens = {k: v for k, v in self._tokens.items()
                        if v[0] + (now - v[1]) * self.rate < full}
