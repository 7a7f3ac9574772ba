"""Configuration of the intraday environments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from intraday_rl.features import FeatureSpec
from intraday_rl.market.config import CostConfig
from intraday_rl.shared.config import FrozenConfig
from intraday_rl.shared.constants import DEFAULT_POSITION_LEVELS


class EnvConfig(FrozenConfig):
    """What an episode looks like: capital, actions, sizing, costs, features and session order."""

    initial_capital: float = Field(100_000.0, gt=0.0, description="Equity at each session start.")
    action_type: Literal["discrete", "box"] = Field(
        "discrete",
        description="'discrete': Discrete(K) picks a target exposure level; "
        "'box': a float in [-max_exposure, max_exposure] is the target exposure.",
    )
    position_levels: tuple[float, ...] = Field(
        DEFAULT_POSITION_LEVELS,
        min_length=2,
        description="Target exposures (fraction of equity, signed) of the discrete actions.",
    )
    max_exposure: float = Field(
        1.0, gt=0.0, le=10.0, description="Largest |target exposure| a box action may ask for."
    )
    min_trade_fraction: float = Field(
        0.05,
        ge=0.0,
        lt=1.0,
        description="Rebalance deadband: a new target that differs from the last one by less "
        "than this fraction of equity places no order (going flat always trades).",
    )
    lot_size: float = Field(1.0, gt=0.0, description="Orders are whole multiples of this size.")
    window: int = Field(4, ge=1, le=512, description="Bars of features in each observation.")
    features: FeatureSpec = Field(
        default_factory=FeatureSpec.default, description="Features computed for each bar."
    )
    costs: CostConfig = Field(default_factory=CostConfig, description="Costs and fill delay.")
    decision_every: int = Field(
        1,
        ge=1,
        le=10_000,
        description="The agent decides at every k-th bar close: one step advances k bars (fewer "
        "at the session's end) holding the last target, re-sized under the deadband rule on each "
        "bar as usual; the step's reward is the sum over those bars.",
    )
    reward_control_variate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Training only (evaluation always uses 0): beta in reward = realized P&L - "
        "beta * (realized - forecast) price P&L of the position held over each bar, the forecast "
        "being the fitted regime feature's expected return. 0 = plain P&L; 1 = the forecast's "
        "expected P&L (lowest variance). Needs a 'regime' feature.",
    )
    session_order: Literal["random", "sequential"] = Field(
        "random",
        description="'random': each reset draws a session with the env's RNG; "
        "'sequential': sessions in order, wrapping around.",
    )

    @model_validator(mode="after")
    def _check_control_variate(self) -> EnvConfig:
        kinds = [feature.kind for feature in self.features.features]
        if self.reward_control_variate > 0.0 and "regime" not in kinds:
            raise ValueError(
                "reward_control_variate: needs a 'regime' feature in features (its forecast is "
                f"the control variate), was {self.reward_control_variate} without one"
            )
        return self

    @model_validator(mode="after")
    def _check_levels(self) -> EnvConfig:
        too_big = [level for level in self.position_levels if abs(level) > self.max_exposure]
        if self.action_type == "discrete" and too_big:
            raise ValueError(
                f"position_levels: every |level| must be <= max_exposure {self.max_exposure}, "
                f"was {too_big}"
            )
        return self
