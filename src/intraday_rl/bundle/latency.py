"""Latency validation: time single-observation predicts, one thread, warm-up excluded.

Each call is timed alone with ``time.perf_counter_ns``, the garbage collector paused, and torch
(if loaded) limited to one intra-op thread for the measurement; percentiles are linear
interpolations over the trials (with 100 trials ``p999`` is close to the maximum).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.inputs import ObservationChecker
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleError, PredictionInputError
from intraday_rl.shared.policy import DEFAULT_LATENCY_SLO_US, LatencyStats

_NS_PER_US = 1000.0


def default_warmup(num_trials: int) -> int:
    """Warm-up calls before timing: enough for TorchScript's profiling runs and caches."""
    return max(200, num_trials // 10)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Limit torch to one intra-op thread (if torch is loaded) and pause the GC; restore both."""
    torch = sys.modules.get("torch")
    previous_threads = torch.get_num_threads() if torch is not None else None
    gc_was_enabled = gc.isenabled()
    if torch is not None and previous_threads != 1:
        torch.set_num_threads(1)
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            gc.enable()
        if torch is not None and previous_threads is not None and previous_threads != 1:
            torch.set_num_threads(previous_threads)


def measure_latency(
    call: Callable[[], object],
    num_trials: int,
    *,
    runtime: str,
    slo_us: float = DEFAULT_LATENCY_SLO_US,
    n_warmup: int | None = None,
) -> LatencyStats:
    """Time ``num_trials`` calls of ``call`` after ``n_warmup`` untimed ones.

    Raises:
        BundleError: ``num_trials`` < 1 or ``slo_us`` <= 0.
    """
    if num_trials < 1:
        raise BundleError(f"num_trials: expected >= 1, was {num_trials}")
    if not slo_us > 0.0:
        raise BundleError(f"slo_us: expected > 0, was {slo_us}")
    warmup = default_warmup(num_trials) if n_warmup is None else max(0, n_warmup)
    timings = np.empty(num_trials, dtype=np.int64)
    clock = time.perf_counter_ns
    with single_threaded():
        for _ in range(warmup):
            call()
        for index in range(num_trials):
            start = clock()
            call()
            timings[index] = clock() - start
    return latency_stats(timings / _NS_PER_US, runtime=runtime, slo_us=slo_us, n_warmup=warmup)


def latency_stats(
    latency_us: npt.NDArray[np.float64], *, runtime: str, slo_us: float, n_warmup: int
) -> LatencyStats:
    """Summarize per-call latencies (µs) into :class:`LatencyStats`."""
    p50, p95, p99, p999 = np.percentile(latency_us, [50.0, 95.0, 99.0, 99.9]).tolist()
    return LatencyStats(
        p50_latency_us=round(p50, 3),
        p95_latency_us=round(p95, 3),
        p99_latency_us=round(p99, 3),
        p999_latency_us=round(p999, 3),
        max_latency_us=round(float(latency_us.max()), 3),
        mean_latency_us=round(float(latency_us.mean()), 3),
        slo_us=float(slo_us),
        slo_pass=bool(p99 <= slo_us),
        violation_rate=float(np.mean(latency_us > slo_us)),
        n_trials=int(latency_us.size),
        n_warmup=int(n_warmup),
        runtime=runtime,
    )


def measure_predict_latency(
    checker: ObservationChecker,
    predict: Callable[[Float32Array], object],
    observation: Any,
    num_trials: int,
    *,
    runtime: str,
    slo_us: float = DEFAULT_LATENCY_SLO_US,
    n_warmup: int | None = None,
) -> LatencyStats:
    """Check ``observation`` is one valid observation, then time ``predict`` on it.

    Raises:
        PredictionInputError: ``observation`` is not one valid observation.
    """
    sample = checker.convert(observation)
    if sample.ndim != 1:
        raise PredictionInputError(
            f"observation: expected one observation of shape {checker.shape}, was {sample.shape}"
        )
    return measure_latency(
        lambda: predict(sample), num_trials, runtime=runtime, slo_us=slo_us, n_warmup=n_warmup
    )
