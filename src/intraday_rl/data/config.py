"""Configs of the data context: session calendar, splits, walk-forward folds, built-in market.

Every model is a :class:`~intraday_rl.shared.config.FrozenConfig`: frozen, unknown fields
forbidden, hashable with ``config_hash()``. Cross-field rules live in ``model_validator``s and
derived values are properties, so a loaded config never changes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from intraday_rl.shared.config import FrozenConfig
from intraday_rl.shared.constants import DEFAULT_SYMBOL

NS_PER_DAY_ = 86_400_000_000_000

CALENDAR_PRESETS: dict[str, dict[str, str]] = {
    "us_equities": {"timezone": "America/New_York", "open_time": "09:30", "close_time": "16:00"},
    "fx_24h": {"timezone": "America/New_York", "open_time": "17:00", "close_time": "17:00"},
    "cme_globex": {"timezone": "America/Chicago", "open_time": "17:00", "close_time": "16:00"},
}
"""Named calendars: US cash equities; 24-hour FX, each session from the 17:00 New York roll to
the next; CME Globex futures (17:00 to 16:00 Chicago, the hour's break between)."""


class SessionCalendar(FrozenConfig):
    """When a trading session opens and closes, in the exchange's local time.

    ``open_time < close_time`` is a day session. ``open_time >= close_time`` is an overnight
    session that opens the previous local day (``17:00`` to ``17:00``: 24 hours, FX); its date is
    the day it closes. A config may also name a preset of :data:`CALENDAR_PRESETS`
    (``calendar: fx_24h``).
    """

    timezone: str = Field(
        default="America/New_York",
        description="IANA time zone of the exchange, e.g. 'America/New_York' (DST handled).",
    )
    open_time: dt.time = Field(
        default=dt.time(9, 30), description="Local session open; the first bar opens here."
    )
    close_time: dt.time = Field(
        default=dt.time(16, 0), description="Local session close; bars open strictly before it."
    )

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'America/New_York'"
            ) from None
        return value

    @field_validator("open_time", "close_time")
    @classmethod
    def _time_is_naive(cls, value: dt.time) -> dt.time:
        # The zone comes from ``timezone``; a second zone on the time would contradict it.
        if value.tzinfo is not None:
            raise ValueError("expected a local time without a zone (the zone is `timezone`)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        if isinstance(data, str):
            if data not in CALENDAR_PRESETS:
                raise ValueError(
                    f"unknown calendar preset {data!r}; expected one of "
                    f"{', '.join(CALENDAR_PRESETS)} or a mapping with timezone, open_time, "
                    "close_time"
                )
            return dict(CALENDAR_PRESETS[data])
        return data

    @classmethod
    def preset(cls, name: str) -> SessionCalendar:
        """The calendar named ``name`` in :data:`CALENDAR_PRESETS`."""
        return cls.model_validate(name)

    @property
    def overnight(self) -> bool:
        """True when the session opens on the previous local day (open_time >= close_time)."""
        return self.open_time >= self.close_time

    @property
    def length_ns(self) -> int:
        """Session length in nanoseconds (24 hours when open_time == close_time)."""
        length = (self.close_offset_ns - self.open_offset_ns) % NS_PER_DAY_
        return length or NS_PER_DAY_

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The ``ZoneInfo`` of :attr:`timezone`."""
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def open_offset_ns(self) -> int:
        """Nanoseconds from local midnight to the session open."""
        return _time_of_day_ns(self.open_time)

    @property
    def close_offset_ns(self) -> int:
        """Nanoseconds from local midnight to the session close."""
        return _time_of_day_ns(self.close_time)

    @property
    def session_minutes(self) -> int:
        """Whole minutes from open to close (390 for 09:30-16:00)."""
        return self.length_ns // 60_000_000_000


def _time_of_day_ns(value: dt.time) -> int:
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    return seconds * 1_000_000_000 + value.microsecond * 1_000


class SplitConfig(FrozenConfig):
    """Chronological train / validation / test split by trading date; test takes the rest."""

    train_fraction: float = Field(
        default=0.7, gt=0.0, lt=1.0, description="Fraction of dates in the train split (first)."
    )
    validation_fraction: float = Field(
        default=0.15,
        gt=0.0,
        lt=1.0,
        description="Fraction of dates in the validation split (after train, before test).",
    )

    @model_validator(mode="after")
    def _leaves_a_test_split(self) -> SplitConfig:
        total = self.train_fraction + self.validation_fraction
        if total >= 1.0:
            raise ValueError(
                "train_fraction + validation_fraction must be < 1 to leave a test split, "
                f"was {total:g}"
            )
        return self

    @property
    def test_fraction(self) -> float:
        """Fraction of dates left for the test split."""
        return 1.0 - self.train_fraction - self.validation_fraction


class WalkForwardConfig(FrozenConfig):
    """Walk-forward folds over trading dates: train, skip an embargo, test; repeat forward."""

    n_folds: int = Field(default=4, ge=1, description="Number of (train, test) folds.")
    train_sessions: int = Field(
        default=120,
        ge=1,
        description="Train dates per fold (sliding) or the minimum for the first fold (anchored).",
    )
    test_sessions: int = Field(default=20, ge=1, description="Test dates per fold.")
    embargo_sessions: int = Field(
        default=1,
        ge=0,
        description="Whole dates skipped between each train end and its test start (no leakage).",
    )
    mode: Literal["anchored", "sliding"] = Field(
        default="anchored",
        description="anchored: train grows from the first date; sliding: fixed-length train.",
    )

    @property
    def min_dates(self) -> int:
        """Dates needed for ``n_folds`` folds: train + embargo + n_folds * test."""
        return self.train_sessions + self.embargo_sessions + self.n_folds * self.test_sessions


class SyntheticMarketConfig(FrozenConfig):
    """The built-in market: regimes, a U-shaped intraday profile and a weak predictable drift.

    See :mod:`intraday_rl.data.synthetic` for the model these parameters drive. Returns are log
    returns per one-minute bar.
    """

    n_sessions: int = Field(default=250, ge=1, description="Business days to generate.")
    seed: int = Field(default=7, ge=0, description="Root seed; same seed, identical market.")
    symbols: tuple[str, ...] = Field(
        default=(DEFAULT_SYMBOL,),
        min_length=1,
        description="Symbols, each an independent path with its own seed derived from `seed`.",
    )
    start_date: dt.date = Field(
        default=dt.date(2024, 1, 2),
        description="First session date (rolled forward to a weekday).",
    )
    calendar: SessionCalendar = Field(
        default_factory=SessionCalendar, description="Session hours and time zone."
    )
    start_price: float = Field(default=100.0, gt=0.0, description="Open of the very first bar.")
    base_volatility: float = Field(
        default=5e-4, gt=0.0, description="Mid-day standard deviation of a 1-bar log return."
    )
    volatility_u_shape: float = Field(
        default=1.0,
        ge=0.0,
        description="Volatility at the open and close is (1 + this) times the mid-day level.",
    )
    gap_volatility: float = Field(
        default=4e-3, ge=0.0, description="Standard deviation of the overnight log gap."
    )
    regime_persistence: float = Field(
        default=0.8,
        ge=0.0,
        lt=1.0,
        description="Probability that a session keeps the previous session's regime.",
    )
    regime_probabilities: tuple[float, float, float] = Field(
        default=(0.4, 0.3, 0.3),
        description="Long-run shares of (trending, mean_reverting, volatile) sessions.",
    )
    trend_persistence: float = Field(
        default=0.97, ge=0.0, lt=1.0, description="AR(1) coefficient of the latent trend drift."
    )
    trend_drift_std: float = Field(
        default=1.5e-4,
        ge=0.0,
        description="Stationary standard deviation of the latent drift (log return per bar).",
    )
    mean_reversion_speed: float = Field(
        default=0.06,
        gt=0.0,
        lt=1.0,
        description="kappa: share of the distance to the session's first open undone per bar.",
    )
    volatile_multiplier: float = Field(
        default=2.0, ge=1.0, description="Volatility multiplier in volatile sessions."
    )
    range_scale: float = Field(
        default=0.5,
        ge=0.0,
        description="High/low extend beyond open/close by |N(0,1)| * this * bar volatility.",
    )
    base_volume: float = Field(default=10_000.0, gt=0.0, description="Mid-day shares per bar.")
    volume_u_shape: float = Field(
        default=2.0,
        ge=0.0,
        description="Volume at the open and close is (1 + this) times the mid-day level.",
    )
    volume_noise: float = Field(
        default=0.3, ge=0.0, description="Standard deviation of the log-normal volume noise."
    )
    volatile_volume_multiplier: float = Field(
        default=1.5, ge=0.0, description="Volume multiplier in volatile sessions."
    )

    @field_validator("symbols")
    @classmethod
    def _symbols_distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not symbol.strip() for symbol in value):
            raise ValueError("symbols must be non-empty strings")
        if len(set(value)) != len(value):
            raise ValueError(f"symbols must be distinct, was {list(value)}")
        return value

    @field_validator("regime_probabilities")
    @classmethod
    def _probabilities_sum_to_one(
        cls, value: tuple[float, float, float]
    ) -> tuple[float, float, float]:
        if min(value) < 0.0 or abs(sum(value) - 1.0) > 1e-9:
            raise ValueError(f"expected three non-negative numbers summing to 1, was {value}")
        return value

    @model_validator(mode="after")
    def _session_has_bars(self) -> SyntheticMarketConfig:
        if self.calendar.session_minutes < 2:
            raise ValueError(
                "calendar: a session needs at least 2 one-minute bars, "
                f"was {self.calendar.session_minutes}"
            )
        return self
