"""The feature spec: which features, with which parameters, under which hash.

A :class:`FeatureSpec` is an ordered tuple of :class:`FeatureDef`; each definition yields one or
more named columns. Batch (:mod:`intraday_rl.features.batch`) and streaming
(:mod:`intraday_rl.features.streaming`) computation implement exactly the formulas below, and
parity tests hold them to 1e-9 of each other.

Notation: bar ``t`` (0-based within its session) has open ``o_t``, high ``h_t``, low ``l_t``,
close ``c_t``, volume ``v_t``, open time ``ts_t`` (UTC ns) and length ``bar_ns``; ``open_ns`` and
``close_ns`` are the session's calendar open and close. Row ``t`` is known at the close of bar
``t``: it uses bars ``0..t`` of the same session only, and every session starts from scratch.
The one-bar change is ``d_0 = c_0 - o_0``, ``d_t = c_t - c_{t-1}``; the one-bar log return is
``r_0 = log(c_0 / o_0)``, ``r_t = log(c_t / c_{t-1})``. "Last ``m_t`` values" means the values
of bars ``t - m_t + 1 .. t`` with ``m_t = min(window, t + 1)``; std is the population std
(ddof 0).

FEATURE_KINDS, their columns and formulas (before scaling):

- ``log_return`` (``lags``, default (1, 5, 15, 30)) -> ``log_return_{k}`` for each lag k:
  ``log(c_t / ref)``, ``ref = c_{t-k}`` if ``t >= k`` else ``o_0``.
- ``rolling_volatility`` (``window`` = 30) -> ``rolling_volatility_{w}``: std of the last ``m_t``
  one-bar log returns ``r``.
- ``rsi`` (``period`` = n = 14) -> ``rsi_{n}``: gains ``g = max(d, 0)``, losses ``max(-d, 0)``,
  each averaged by Wilder's recursion ``a_0 = x_0``, ``a_t = a_{t-1} + (x_t - a_{t-1}) / n``
  (computed as ``(1/n) x_t + (1 - 1/n) a_{t-1}``); ``RSI = 100 - 100 / (1 + a_gain / a_loss)``,
  50 when both averages are 0, 100 when only the loss average is 0; value ``(RSI - 50) / 50``.
- ``ema_ratio`` (``fast`` = 10, ``slow`` = 30) -> ``ema_ratio_{f}_{s}``: ``log(e_f / e_s)`` where
  ``e_0 = c_0``, ``e_t = α c_t + (1 - α) e_{t-1}``, ``α = 2 / (n + 1)``.
- ``vwap_deviation`` -> ``vwap_deviation``: ``log(c_t / VWAP_t)``, ``VWAP_t = Σ p_i v_i / Σ v_i``
  over bars ``0..t`` with typical price ``p = (h + l + c) / 3``; ``VWAP_t = p_t`` while
  ``Σ p_i v_i = 0`` (no volume yet, or only volumes so tiny that the products underflow).
- ``volume_zscore`` (``window`` = 30) -> ``volume_zscore_{w}``: ``x = log1p(v)``;
  ``(x_t - mean) / std`` over the last ``m_t`` values of x; 0 when ``std < 1e-12``
  (MIN_ZSCORE_STD). ``log1p`` is ``math.log1p`` on both sides (the batch side maps it over
  the session's volumes), so batch and streaming see identical x.
- ``time_of_day`` -> ``time_of_day_sin``, ``time_of_day_cos``: ``sin φ``, ``cos φ`` with
  ``φ = 2π (ts_t + bar_ns - open_ns) / (close_ns - open_ns)``.
- ``minutes_to_close`` -> ``minutes_to_close``: ``max(0, close_ns - (ts_t + bar_ns))`` in minutes.
- ``session_return`` -> ``session_return``: ``log(c_t / o_0)``, the move since the session's first
  open (not in the default spec).
- ``regime`` (``n_states`` = K = 3, ``model``) -> ``regime_p0 .. regime_p{K-1}``,
  ``regime_forecast`` (bps), ``regime_drift``: a regime model fitted on the training sessions and
  filtered forward within the session (:mod:`intraday_rl.features.regime`). ``model`` holds the
  fitted parameters; a spec whose regime has no model yet is fitted by
  :func:`~intraday_rl.features.fitting.fit_feature_spec` (the trainer does it on the training
  sessions) and cannot be computed before (not in the default spec).

Inputs: prices in [1e-100, 1e100], volumes in [0, 1e100] (:mod:`~intraday_rl.features.inputs`).
Every value is then multiplied by the definition's ``scale`` and clipped to ``[-clip, clip]``.
Default (scale, clip): log_return, rolling_volatility, ema_ratio, vwap_deviation (1000, 10);
rsi (1, 1); volume_zscore (1, 5); time_of_day (1, 1); minutes_to_close (1/60, 10), i.e. hours;
session_return (1000, 10); regime (1, 100).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from intraday_rl.features.regime import RegimeModel, regime_column_names
from intraday_rl.shared.config import FrozenConfig
from intraday_rl.shared.constants import FEATURE_SPEC_SCHEMA_VERSION
from intraday_rl.shared.errors import FeatureError

FeatureKind = Literal[
    "log_return",
    "rolling_volatility",
    "rsi",
    "ema_ratio",
    "vwap_deviation",
    "volume_zscore",
    "time_of_day",
    "minutes_to_close",
    "session_return",
    "regime",
]

FEATURE_KINDS: Final[tuple[FeatureKind, ...]] = get_args(FeatureKind)
"""Every feature kind (formulas in the module docstring); the default spec uses DEFAULT_KINDS."""

DEFAULT_KINDS: Final[tuple[FeatureKind, ...]] = FEATURE_KINDS[:-2]
"""The kinds of :meth:`FeatureSpec.default` (all but ``session_return`` and ``regime``)."""

PARAMETER_NAMES: Final = ("lags", "window", "period", "fast", "slow", "n_states")

MIN_ZSCORE_STD: Final = 1e-12
"""volume_zscore is 0 when the window's std of log1p(volume) is below this."""


@dataclass(frozen=True, slots=True)
class _KindDefaults:
    # Parameters a kind takes (with their defaults) and its default scale and clip.
    scale: float
    clip: float
    parameters: dict[str, Any] = field(default_factory=dict)


_DEFAULTS: Final[dict[str, _KindDefaults]] = {
    "log_return": _KindDefaults(1000.0, 10.0, {"lags": (1, 5, 15, 30)}),
    "rolling_volatility": _KindDefaults(1000.0, 10.0, {"window": 30}),
    "rsi": _KindDefaults(1.0, 1.0, {"period": 14}),
    "ema_ratio": _KindDefaults(1000.0, 10.0, {"fast": 10, "slow": 30}),
    "vwap_deviation": _KindDefaults(1000.0, 10.0),
    "volume_zscore": _KindDefaults(1.0, 5.0, {"window": 30}),
    "time_of_day": _KindDefaults(1.0, 1.0),
    "minutes_to_close": _KindDefaults(1.0 / 60.0, 10.0),
    "session_return": _KindDefaults(1000.0, 10.0),
    "regime": _KindDefaults(1.0, 100.0, {"n_states": 3}),
}


def _kind_default(name: str) -> Callable[[dict[str, Any]], float]:
    # A default factory for scale / clip given the validated kind (FeatureDef's "before"
    # validator normally fills these already; this keeps them optional for type checkers).
    def factory(data: dict[str, Any]) -> float:
        defaults = _DEFAULTS.get(data.get("kind", ""))
        return 1.0 if defaults is None else float(getattr(defaults, name))

    return factory


class FeatureDef(FrozenConfig):
    """One feature kind with its parameters; yields the columns listed in FEATURE_KINDS.

    Parameters a kind does not take stay ``None``; those it takes, and ``scale`` / ``clip``,
    default to the kind's values when omitted, e.g. ``FeatureDef(kind="rsi")`` is RSI(14).
    """

    kind: FeatureKind = Field(description="Feature kind, one of FEATURE_KINDS.")
    lags: tuple[int, ...] | None = Field(
        default=None,
        description="log_return only: look-back lags in bars, each >= 1, one column per lag.",
    )
    window: int | None = Field(
        default=None,
        description="rolling_volatility / volume_zscore only: window length in bars, >= 2.",
    )
    period: int | None = Field(
        default=None,
        description="rsi only: Wilder smoothing period in bars, >= 1.",
    )
    fast: int | None = Field(
        default=None,
        description="ema_ratio only: span of the fast EMA in bars, >= 1 and < slow.",
    )
    slow: int | None = Field(
        default=None,
        description="ema_ratio only: span of the slow EMA in bars, > fast.",
    )
    n_states: int | None = Field(
        default=None,
        description="regime only: number of regimes K, 1..8.",
    )
    model: RegimeModel | None = Field(
        default=None,
        description="regime only: the fitted model (null until fitted on training sessions).",
    )
    scale: float = Field(
        default_factory=_kind_default("scale"),
        gt=0.0,
        allow_inf_nan=False,
        description="Multiplier applied to the raw value before clipping (default per kind).",
    )
    clip: float = Field(
        default_factory=_kind_default("clip"),
        gt=0.0,
        allow_inf_nan=False,
        description="Scaled values are clipped to [-clip, clip] (default per kind).",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_kind_defaults(cls, data: Any) -> Any:
        # Fill omitted (or None) parameters from the kind's defaults before field validation,
        # so an error in one field does not also report the defaults that could not be built.
        if not isinstance(data, dict):
            return data
        kind = data.get("kind")
        defaults = _DEFAULTS.get(kind) if isinstance(kind, str) else None
        filled: dict[str, Any] = {name: None for name in PARAMETER_NAMES} | data
        if defaults is None:  # the kind error is the only one worth reporting
            filled.setdefault("scale", 1.0)
            filled.setdefault("clip", 1.0)
            return filled
        for name, value in defaults.parameters.items():
            if filled.get(name) is None:
                filled[name] = value
        filled.setdefault("scale", defaults.scale)
        filled.setdefault("clip", defaults.clip)
        return filled

    @field_validator("lags")
    @classmethod
    def _check_lags(cls, lags: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if lags is None:
            return None
        if not lags:
            raise ValueError("lags: expected at least one lag, was ()")
        if min(lags) <= 0:
            raise ValueError(f"lags: every lag must be >= 1 bar, was {lags}")
        if len(set(lags)) != len(lags):
            raise ValueError(f"lags: expected distinct lags, was {lags}")
        return lags

    @field_validator("window")
    @classmethod
    def _check_window(cls, window: int | None) -> int | None:
        if window is not None and window < 2:
            raise ValueError(f"window: expected >= 2 bars, was {window}")
        return window

    @field_validator("n_states")
    @classmethod
    def _check_states(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 8:
            raise ValueError(f"n_states: expected 1..8, was {value}")
        return value

    @field_validator("period", "fast", "slow")
    @classmethod
    def _check_span(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"{info.field_name}: expected >= 1 bar, was {value}")
        return value

    @model_validator(mode="after")
    def _check_parameters(self) -> FeatureDef:
        accepted = _DEFAULTS[self.kind].parameters
        for name in PARAMETER_NAMES:
            value = getattr(self, name)
            if name in accepted and value is None:
                raise ValueError(f"{name}: required by kind {self.kind!r}, was None")
            if name not in accepted and value is not None:
                takes = ", ".join((*accepted, "scale", "clip"))
                raise ValueError(
                    f"{name}: not a parameter of kind {self.kind!r} (it takes {takes}), "
                    f"was {value!r}"
                )
        if self.fast is not None and self.slow is not None and self.fast >= self.slow:
            raise ValueError(f"fast: expected < slow ({self.slow}), was {self.fast}")
        if self.model is not None and self.kind != "regime":
            raise ValueError(f"model: not a parameter of kind {self.kind!r}, was a regime model")
        if self.model is not None and self.model.n_states != self.n_states:
            raise ValueError(
                f"model: has {self.model.n_states} states, expected n_states {self.n_states}"
            )
        return self

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the columns this definition yields, in order."""
        kind = self.kind
        if kind == "log_return":
            return tuple(f"log_return_{lag}" for lag in self.int_tuple("lags"))
        if kind in ("rolling_volatility", "volume_zscore"):
            return (f"{kind}_{self.int_param('window')}",)
        if kind == "rsi":
            return (f"rsi_{self.int_param('period')}",)
        if kind == "ema_ratio":
            return (f"ema_ratio_{self.int_param('fast')}_{self.int_param('slow')}",)
        if kind == "time_of_day":
            return ("time_of_day_sin", "time_of_day_cos")
        if kind == "regime":
            return regime_column_names(self.int_param("n_states"))
        return (kind,)

    @model_serializer(mode="wrap")
    def _drop_unused_regime_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Specs without a regime serialize (and hash) exactly as before the regime kind existed.
        data: dict[str, Any] = handler(self)
        if self.kind != "regime":
            data.pop("n_states", None)
            data.pop("model", None)
        return data

    @property
    def fitted(self) -> bool:
        """False for a regime definition whose model has not been fitted yet."""
        return self.kind != "regime" or self.model is not None

    def int_param(self, name: str) -> int:
        """Return integer parameter ``name``; raise FeatureError if this kind does not take it."""
        value = getattr(self, name)
        if not isinstance(value, int):
            raise _not_a_parameter(self.kind, name)
        return value

    def int_tuple(self, name: str) -> tuple[int, ...]:
        """Return tuple parameter ``name`` (``lags``); raise FeatureError if not taken."""
        value = getattr(self, name)
        if not isinstance(value, tuple):
            raise _not_a_parameter(self.kind, name)
        return value


def _not_a_parameter(kind: str, name: str) -> FeatureError:
    return FeatureError(f"feature {kind!r}: has no parameter {name!r}")


class FeatureSpec(FrozenConfig):
    """An ordered set of feature definitions: the columns of the feature matrix, and its hash."""

    schema_version: int = Field(
        default=FEATURE_SPEC_SCHEMA_VERSION,
        description="Version of the feature formulas; specs of another version are rejected.",
    )
    features: tuple[FeatureDef, ...] = Field(
        description="Feature definitions; their columns appear in this order."
    )

    @field_validator("schema_version")
    @classmethod
    def _check_version(cls, version: int) -> int:
        if version != FEATURE_SPEC_SCHEMA_VERSION:
            raise ValueError(
                f"schema_version: expected {FEATURE_SPEC_SCHEMA_VERSION}, was {version} "
                "(the spec was written for other feature formulas)"
            )
        return version

    @field_validator("features")
    @classmethod
    def _check_not_empty(cls, features: tuple[FeatureDef, ...]) -> tuple[FeatureDef, ...]:
        if not features:
            raise ValueError("features: expected at least one feature, was empty")
        return features

    @model_validator(mode="after")
    def _check_unique_columns(self) -> FeatureSpec:
        seen: dict[str, int] = {}
        for index, feature in enumerate(self.features):
            for name in feature.column_names:
                if name in seen:
                    raise ValueError(
                        f"features: duplicate column name {name!r} "
                        f"(features.{seen[name]} and features.{index})"
                    )
                seen[name] = index
        return self

    @classmethod
    def default(cls) -> FeatureSpec:
        """Return the default spec: every kind but session_return once, default parameters.

        That is 12 columns; session_return did not improve the default agent (benchmarks).
        """
        return cls(features=tuple(FeatureDef(kind=kind) for kind in DEFAULT_KINDS))

    @property
    def column_names(self) -> tuple[str, ...]:
        """All column names, in matrix order."""
        return tuple(name for feature in self.features for name in feature.column_names)

    @property
    def fitted(self) -> bool:
        """True when every definition can be computed (no regime model left to fit)."""
        return all(feature.fitted for feature in self.features)

    @property
    def n_features(self) -> int:
        """Number of columns of the feature matrix."""
        return sum(len(feature.column_names) for feature in self.features)

    def spec_hash(self) -> str:
        """Return the sha256 hex digest of the canonical JSON (stable across processes)."""
        return self.config_hash()
