"""The seed's path to the ``RLPolicy`` interface (defined in :mod:`intraday_rl.shared.policy`).

It lives in ``shared`` so that bundle runtimes and execution can use it without importing
training; this module only re-exports it.
"""

from intraday_rl.shared.policy import DEFAULT_LATENCY_SLO_US, LatencyStats, RLPolicy

__all__ = ["DEFAULT_LATENCY_SLO_US", "LatencyStats", "RLPolicy"]
