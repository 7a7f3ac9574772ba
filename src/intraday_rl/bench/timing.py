"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_rate(run: Callable[[], int], repeats: int) -> float:
    """Run ``run`` (returns the number of steps it made) ``repeats`` times; best steps per second.

    The best of several runs is the least disturbed by other work on a shared machine.
    """
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        steps = run()
        elapsed = time.perf_counter() - start
        best = max(best, steps / elapsed)
    return best
