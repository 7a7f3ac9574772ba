"""Configuration of market mechanics: transaction costs and fill timing."""

from __future__ import annotations

from pydantic import Field

from intraday_rl.shared.config import FrozenConfig
from intraday_rl.shared.constants import BPS


class CostConfig(FrozenConfig):
    """Transaction costs charged on every fill, and when orders fill.

    Cost of a fill of ``q`` shares at price ``p`` with bar volume ``V``::

        |q|·p·(commission_bps + half_spread_bps)·1e-4
        + |q|·commission_per_share
        + |q|·p·impact_bps·1e-4·sqrt(|q| / V)        (square-root impact on participation)
    """

    commission_bps: float = Field(0.5, ge=0.0, description="Commission, bps of traded notional.")
    commission_per_share: float = Field(0.0, ge=0.0, description="Commission per share traded.")
    half_spread_bps: float = Field(
        1.0, ge=0.0, description="Half the bid-ask spread paid on every fill, bps of notional."
    )
    impact_bps: float = Field(
        10.0,
        ge=0.0,
        description="Square-root impact coefficient: cost bps at 100% bar-volume participation.",
    )
    fill_delay_bars: int = Field(
        1,
        ge=1,
        le=60,
        description="Bars between a decision at a bar's close and its fill at a later bar's open.",
    )

    @property
    def proportional_bps(self) -> float:
        """Costs proportional to notional, before impact: commission plus half-spread."""
        return self.commission_bps + self.half_spread_bps

    @property
    def rates(self) -> tuple[float, float, float]:
        """(proportional rate, per-share commission, impact rate), as ``fill_cost`` takes them."""
        return (self.proportional_bps * BPS, self.commission_per_share, self.impact_bps * BPS)
