"""``ProductionRiskAdvisor``: the risk engine in advisory mode, for reward shaping in training.

It satisfies the ``RiskAdvisor`` interface (``intraday_rl.training.interfaces``) structurally, so
``risk/`` never imports ``training/``. The engine it wraps is the production ``RiskAgentV2`` with
the same policy file; its clock follows the data (the last snapshot's timestamp), so historical
sessions are never "stale".

Use one advisor per environment (its calculators follow one stream of snapshots) and call
:meth:`reset` at each episode start; a timestamp that jumps by more than the policy's session gap
also starts a new session by itself.
"""

from __future__ import annotations

from pathlib import Path

from intraday_rl.risk.config import RiskPolicy, load_default_risk_policy, load_risk_policy
from intraday_rl.risk.engine import RiskAgentV2
from intraday_rl.risk.metrics import PENALTY_KEY, SEVERITY_KEY
from intraday_rl.shared.types import PortfolioState, TradeRequest


class _DataClock:
    # Returns the timestamp of the last snapshot: advisory time is data time.
    __slots__ = ("now_ns",)

    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns


class ProductionRiskAdvisor:
    """Risk metrics and a training penalty from the production risk engine.

    ``evaluate(state)`` returns every ``risk/...`` metric of the engine plus:

    * ``risk/penalty`` in [0, 1]: 0 while every metric is below ``penalty.start`` of its limit,
      rising as ``((severity - start) / (1 - start)) ** exponent`` to 1 at the first limit, and 1
      on a breach or a fault; monotone in every metric.
    * ``risk/breach_severity``: the largest ``metric / limit`` (>= 1 means a limit is breached,
      ``inf`` on a fault such as a NaN in the snapshot).
    * ``penalty`` and ``breach_severity``: the same two values under the seed's plain keys.

    Args:
        policy_yaml: Path of a ``risk_limits.yaml``; the shipped default when None.
        policy: A policy object instead of a file (takes precedence).
    """

    def __init__(
        self, policy_yaml: str | Path | None = None, *, policy: RiskPolicy | None = None
    ) -> None:
        if policy is None:
            policy = load_risk_policy(policy_yaml) if policy_yaml is not None else None
        self._clock = _DataClock()
        self.engine = RiskAgentV2(
            policy if policy is not None else load_default_risk_policy(), clock=self._clock
        )

    @property
    def policy_hash(self) -> str:
        """The hash of the policy in force (record it with the run)."""
        return self.engine.policy_hash

    def reset(self) -> None:
        """Start a new episode: forget positions, prices and session history."""
        self.engine.reset()
        self._clock.now_ns = 0

    def evaluate(self, state: PortfolioState) -> dict[str, float]:
        """Fold ``state`` in; return the metrics, ``risk/penalty`` and ``risk/breach_severity``."""
        if type(state.ts_ns) is int:
            self._clock.now_ns = state.ts_ns
        metrics = self.engine.evaluate(state)
        # The seed's contract reads evaluate(state)["penalty"] / ["breach_severity"]: same values.
        metrics["penalty"] = metrics[PENALTY_KEY]
        metrics["breach_severity"] = metrics[SEVERITY_KEY]
        return metrics

    def penalty(self, state: PortfolioState) -> float:
        """Shorthand for ``evaluate(state)["risk/penalty"]``."""
        return self.evaluate(state)[PENALTY_KEY]

    def assess(self, state: PortfolioState, request: TradeRequest) -> dict[str, float]:
        """Metrics after ``state`` plus what the engine would decide on ``request``."""
        if type(state.ts_ns) is int:
            self._clock.now_ns = state.ts_ns
        return self.engine.evaluate(state, request)
