"""Configuration of market mechanics: transaction costs and fill timing."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from intraday_rl.shared.config import FrozenConfig
from intraday_rl.shared.constants import BPS

COST_PRESETS: dict[str, dict[str, float]] = {
    "us_equities": {"commission_bps": 0.5, "half_spread_bps": 1.0, "impact_bps": 10.0},
    "fx": {"commission_bps": 0.2, "half_spread_bps": 0.5, "impact_bps": 0.0},
    "futures": {"commission_bps": 0.3, "half_spread_bps": 0.5, "impact_bps": 5.0},
}
"""Named cost models (``costs: fx``). FX switches impact off: its files carry tick counts, not
traded volume, so ``|q| / V`` is no participation rate there (a full-size order would look like
dozens of times the bar's volume and pay ~80 bps a fill)."""


class CostConfig(FrozenConfig):
    """Transaction costs charged on every fill, and when orders fill.

    Cost of a fill of ``q`` shares at price ``p`` with bar volume ``V``::

        |q|·p·(commission_bps + half_spread_bps)·1e-4
        + |q|·commission_per_share
        + |q|·p·impact_bps·1e-4·sqrt(|q| / V)        (square-root impact on participation)

    The impact term needs ``V`` to be traded volume in the order's units; set ``impact_bps: 0``
    (or use the ``fx`` preset) for data whose volume is a tick count. A config may name a preset
    of :data:`COST_PRESETS` instead of a mapping, or give ``preset`` plus overrides.
    """

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        name = data if isinstance(data, str) else None
        if isinstance(data, dict) and "preset" in data:
            name = data["preset"]
            data = {key: value for key, value in data.items() if key != "preset"}
        if name is None:
            return data
        if name not in COST_PRESETS:
            raise ValueError(
                f"unknown cost preset {name!r}; expected one of {', '.join(COST_PRESETS)}"
            )
        return {**COST_PRESETS[name], **(data if isinstance(data, dict) else {})}

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
