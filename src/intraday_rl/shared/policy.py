"""The ``RLPolicy`` interface: what training, bundles and execution agree a policy can do.

It lives in ``shared`` so that ``bundle/`` (the runtimes) and ``execution/`` depend on it without
importing ``training/`` (which needs SB3). Implementations satisfy it structurally:
:class:`intraday_rl.training.policies.sb3_policy.SB3Policy` wraps a trained SB3 model, and the
bundle runtimes (:class:`intraday_rl.bundle.TorchScriptPolicy`,
:class:`intraday_rl.bundle.OnnxRuntimePolicy`, :class:`intraday_rl.bundle.NumpyPolicy`) run an
exported bundle without SB3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, TypedDict, runtime_checkable

import numpy.typing as npt

DEFAULT_LATENCY_SLO_US = 100.0
"""Default latency objective of one ``predict`` call (p99, microseconds)."""


class LatencyStats(TypedDict):
    """What ``validate_prediction_latency`` returns (times of one ``predict`` call, in µs).

    The first six keys are the seed's contract; ``slo_pass`` is ``p99_latency_us <= slo_us`` and
    ``violation_rate`` the fraction of calls slower than ``slo_us``.
    """

    p50_latency_us: float
    p95_latency_us: float
    p99_latency_us: float
    p999_latency_us: float
    max_latency_us: float
    mean_latency_us: float
    slo_us: float
    slo_pass: bool
    violation_rate: float
    n_trials: int
    n_warmup: int
    runtime: str


@runtime_checkable
class RLPolicy(Protocol):
    """A policy that maps one observation to an action, saves to and loads from a bundle.

    ``predict`` takes a float observation of shape ``(obs_dim,)`` (or a batch ``(n, obs_dim)``)
    and returns ``(action, info)``: a Python ``int`` action index for discrete policies (an
    ``int64`` array for a batch), a float32 array for continuous ones.
    """

    def predict(
        self, observation: npt.ArrayLike, deterministic: bool = True
    ) -> tuple[Any, dict[str, Any]]:
        """Return the action for ``observation`` and an info dict."""
        ...

    def save_bundle(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the policy as a verified bundle folder at ``path``; return the path."""
        ...

    @classmethod
    def load_bundle(cls, path: str | Path) -> RLPolicy:
        """Load a bundle folder, verifying its schema and file hashes first."""
        ...

    def validate_prediction_latency(
        self,
        observation: npt.ArrayLike,
        num_trials: int = 100,
        *,
        slo_us: float = DEFAULT_LATENCY_SLO_US,
    ) -> LatencyStats:
        """Time ``num_trials`` single-observation predicts after a warm-up; return the stats."""
        ...


__all__ = ["DEFAULT_LATENCY_SLO_US", "LatencyStats", "RLPolicy"]
