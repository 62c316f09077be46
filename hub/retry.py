"""The one retry policy: exponential backoff with jitter, and a bound.

Delivery, matching, the EMR client and the EMR write-back each wait on their
own settings, but they all wait the same way, so a returning archive or EMR is
not stampeded by every worker at once. The module knows no Django: the
factories that read settings live with each consumer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """`base_seconds * 2**(attempt - 1)`, at most `max_seconds`, jittered.

    `max_attempts` bounds the attempts (None: keep trying, for work that can
    only wait, such as a capture whose EMR is down). The jitter multiplies the
    delay by a random factor in `jitter`, so workers that failed together do
    not come back together.
    """

    base_seconds: float
    max_seconds: float
    max_attempts: int | None
    jitter: tuple[float, float] = (0.8, 1.2)

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempt`-th failure (counted from 1).

        A server's Retry-After is honoured when it asks for longer, never past
        `max_seconds`.
        """
        delay = min(self.base_seconds * 2 ** max(attempt - 1, 0), self.max_seconds)
        delay *= random.uniform(*self.jitter)
        if retry_after is not None:
            delay = min(self.max_seconds, max(delay, retry_after))
        return delay

    def exhausted(self, attempts: int) -> bool:
        """True once `attempts` failures are all this policy allows."""
        return self.max_attempts is not None and attempts >= self.max_attempts
