"""When and how long to wait before repeating a CRM request.

Exponential backoff with full jitter (a random wait between 0 and `backoff * 2**n`), bounded by
a number of retries and by the total time spent since the first attempt, so a dead CRM costs at
most `max_retry_seconds` before the error reaches the caller. Which requests may be repeated is
the client's decision (idempotent ones only); this module only times them.
"""

import random
import time
from dataclasses import dataclass, field


@dataclass
class RetryPolicy:
    """Bounded exponential backoff with full jitter."""

    max_retries: int = 3
    backoff: float = 0.25
    max_retry_seconds: float = 30.0
    sleep: object = field(default=time.sleep, repr=False)
    clock: object = field(default=time.monotonic, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt, started):
        """Return the wait before attempt `attempt + 1`, or None when retries are exhausted."""
        if attempt > self.max_retries:
            return None
        wait = self.rng.uniform(0, self.backoff * 2 ** (attempt - 1))
        if self.clock() - started + wait > self.max_retry_seconds:
            return None
        return wait
