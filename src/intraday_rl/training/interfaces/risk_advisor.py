"""The ``RiskAdvisor`` interface: what training asks of a risk engine (no SB3, no torch here).

The production implementation is :class:`intraday_rl.risk.ProductionRiskAdvisor`, re-exported
here; it satisfies the protocol structurally, so ``risk/`` never imports ``training/``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from intraday_rl.risk.advisor import ProductionRiskAdvisor
from intraday_rl.shared.types import PortfolioState


@runtime_checkable
class RiskAdvisor(Protocol):
    """Turns a portfolio snapshot into risk metrics and a penalty for reward shaping.

    ``evaluate`` returns at least ``risk/penalty`` (in [0, 1], monotone in every metric) and
    ``risk/breach_severity``; the reward wrapper subtracts ``lambda * risk/penalty``.
    """

    def evaluate(self, state: PortfolioState) -> dict[str, float]:
        """Fold ``state`` in and return the metrics (keys ``risk/...``)."""
        ...

    def reset(self) -> None:
        """Start a new episode (forget positions, prices and session history)."""
        ...


__all__ = ["ProductionRiskAdvisor", "RiskAdvisor"]
