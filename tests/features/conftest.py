"""Fixtures for feature tests: random-walk sessions built here, independent of data/'s generator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import strategies as st

from intraday_rl.data.sessions import Session
from intraday_rl.features import FEATURE_KINDS, FeatureDef, FeatureSpec
from intraday_rl.features.regime import RegimeModel
from intraday_rl.shared.constants import NS_PER_MINUTE

CALENDAR_BARS = 390
SESSION_OPEN_UTC = dt.time(14, 30)

MakeSession = Callable[..., Session]

# A hand-made two-state regime model (a fitted one is tested in test_regime.py).
REGIME_MODEL = RegimeModel(
    n_states=2,
    prior=(0.6, 0.4),
    coefficients=((-0.2, 0.9, 0.1), (0.0, 0.1, -0.05)),
    residual_std=(0.8, 2.0),
    volatility_profile=tuple(5e-4 * (1.0 + ((t - 20) / 20) ** 2) for t in range(40)),
    ewma_span=5,
    kalman_phi=0.97,
    kalman_q=0.001,
    kalman_r=0.99,
    n_train_sessions=10,
)


def make_session(
    rng: np.random.Generator,
    n_bars: int,
    *,
    day: dt.date = dt.date(2024, 1, 2),
    calendar_bars: int = CALENDAR_BARS,
    bar_minutes: int = 1,
    start_price: float = 100.0,
    zero_stretch: bool = False,
) -> Session:
    """A random walk with U-shaped volatility and volume, some zero volumes, valid OHLC bars."""
    bar_ns = bar_minutes * NS_PER_MINUTE
    open_ns = int(dt.datetime.combine(day, SESSION_OPEN_UTC, dt.UTC).timestamp()) * 10**9
    u_shape = 1.0 + 3.0 * (2.0 * np.arange(n_bars) / max(calendar_bars - 1, 1) - 1.0) ** 2
    sigma = 8e-4 * u_shape
    gaps = rng.normal(0.0, 1e-4, n_bars)
    gaps[0] = 0.0
    moves = sigma * rng.standard_normal(n_bars)
    log_close = np.log(start_price) + np.cumsum(gaps + moves)
    open_ = np.exp(log_close - moves)
    open_[0] = start_price
    close = np.exp(log_close)
    wick = np.abs(rng.normal(0.0, 1.0, (2, n_bars))) * sigma / 2
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = np.round(rng.lognormal(np.log(2_000.0 * u_shape), 0.6))
    volume[rng.random(n_bars) < 0.05] = 0.0
    if zero_stretch and n_bars > 60:
        start = int(rng.integers(0, n_bars - 50))
        volume[start : start + int(rng.integers(10, 50))] = 0.0
    return Session(
        symbol="SYN",
        date=day,
        ts_ns=open_ns + np.arange(n_bars, dtype=np.int64) * bar_ns,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        open_ns=open_ns,
        close_ns=open_ns + calendar_bars * bar_ns,
        bar_ns=bar_ns,
    )


@pytest.fixture(scope="session")
def sessions() -> list[Session]:
    """40 full sessions, three 5-bar sessions (two cut short, one on a 5-bar calendar), 1 bar."""
    rng = np.random.default_rng(20240102)
    days = [dt.date(2024, 1, 2) + dt.timedelta(days=i) for i in range(44)]
    full = [
        make_session(rng, CALENDAR_BARS, day=day, zero_stretch=i % 4 == 0)
        for i, day in enumerate(days[:40])
    ]
    short = [
        make_session(rng, 5, day=days[40]),
        make_session(rng, 5, day=days[41], start_price=3.5),
        make_session(rng, 5, day=days[42], calendar_bars=5, bar_minutes=5),
    ]
    return [*full, *short, make_session(rng, 1, day=days[43])]


@pytest.fixture(scope="session")
def session_factory() -> MakeSession:
    return make_session


@pytest.fixture(scope="session")
def default_spec() -> FeatureSpec:
    return FeatureSpec.default()


@pytest.fixture(scope="session")
def custom_spec() -> FeatureSpec:
    """Short windows and unusual parameters, so warm-up and edge paths are exercised."""
    return FeatureSpec(
        features=(
            FeatureDef(kind="log_return", lags=(1, 2, 3, 7, 400), scale=50.0, clip=3.0),
            FeatureDef(kind="rolling_volatility", window=2),
            FeatureDef(kind="rolling_volatility", window=500, scale=100.0),
            FeatureDef(kind="rsi", period=1),
            FeatureDef(kind="rsi", period=3, scale=2.0, clip=1.5),
            FeatureDef(kind="ema_ratio", fast=1, slow=2),
            FeatureDef(kind="vwap_deviation", scale=10.0),
            FeatureDef(kind="volume_zscore", window=2),
            FeatureDef(kind="volume_zscore", window=7, clip=2.0),
            FeatureDef(kind="time_of_day", scale=0.5),
            FeatureDef(kind="minutes_to_close", scale=1.0, clip=1000.0),
        )
    )


@st.composite
def feature_specs(draw: st.DrawFn) -> FeatureSpec:
    """Random valid specs: a subset of kinds, each with random parameters, scale and clip."""
    kinds = draw(st.lists(st.sampled_from(FEATURE_KINDS), min_size=1, max_size=8, unique=True))
    features = []
    for kind in kinds:
        params: dict[str, object] = {"kind": kind}
        if kind == "log_return":
            lags = draw(st.lists(st.integers(1, 40), min_size=1, max_size=5, unique=True))
            params["lags"] = tuple(lags)
        elif kind in ("rolling_volatility", "volume_zscore"):
            params["window"] = draw(st.integers(2, 40))
        elif kind == "rsi":
            params["period"] = draw(st.integers(1, 30))
        elif kind == "ema_ratio":
            fast = draw(st.integers(1, 20))
            params.update(fast=fast, slow=draw(st.integers(fast + 1, 60)))
        elif kind == "regime":
            params.update(n_states=2, model=REGIME_MODEL)
        if draw(st.booleans()):
            params["scale"] = draw(st.floats(1e-3, 1e4))
            params["clip"] = draw(st.floats(1e-2, 1e3))
        features.append(FeatureDef.model_validate(params))
    return FeatureSpec(features=tuple(features))


_MOVES = st.one_of(
    st.floats(-0.002, 0.002),  # ordinary bars
    st.just(0.0),  # flat stretches
    st.floats(-1.0, 1.0),  # extreme moves that hit the clips
    st.sampled_from([-5.0, 5.0, 1e-12, -1e-12]),
)
_VOLUMES = st.one_of(
    st.just(0.0),  # zero-volume stretches
    st.integers(0, 10**6).map(float),
    st.sampled_from([1e6, 1e6 + 1.0, 1e9]),  # near-constant windows: an ill-conditioned z-score
    st.floats(0.0, 1e9),
)


@st.composite
def session_bars(draw: st.DrawFn, max_bars: int = 60) -> Session:
    """A random valid session: extreme moves, flat stretches, zero volumes, irregular times."""
    n_bars = draw(st.integers(1, max_bars))
    moves = draw(st.lists(_MOVES, min_size=n_bars, max_size=n_bars))
    gaps = draw(st.lists(st.sampled_from([0.0, 0.0, 1e-4, -1e-3, 0.5]), min_size=n_bars))
    volumes = draw(st.lists(_VOLUMES, min_size=n_bars, max_size=n_bars))
    wicks = draw(st.lists(st.sampled_from([0.0, 1e-4, 0.01, 0.3]), min_size=n_bars))
    steps = draw(st.lists(st.sampled_from([1, 1, 1, 2, 7]), min_size=n_bars, max_size=n_bars))
    start_price = draw(st.sampled_from([100.0, 0.01, 25_000.0]))
    move = np.array(moves)
    gap = np.array(gaps[:n_bars])
    gap[0] = 0.0
    # extreme, yet inside the accepted price range [1e-100, 1e100]
    log_close = np.clip(np.log(start_price) + np.cumsum(gap + move), -200.0, 200.0)
    close = np.exp(log_close)
    open_ = np.exp(log_close - move)
    open_[0] = start_price
    wick = np.array(wicks[:n_bars])
    bar_ns = NS_PER_MINUTE
    open_ns = 1_704_205_800 * 10**9
    offsets = np.cumsum(steps) - steps[0]
    return Session(
        symbol="HYP",
        date=dt.date(2024, 1, 2),
        ts_ns=open_ns + offsets.astype(np.int64) * bar_ns,
        open=open_,
        high=np.maximum(open_, close) * np.exp(wick),
        low=np.minimum(open_, close) * np.exp(-wick),
        close=close,
        volume=np.array(volumes),
        open_ns=open_ns,
        close_ns=open_ns + max(int(offsets[-1]) + 1, 30) * bar_ns,
        bar_ns=bar_ns,
    )


@pytest.fixture(scope="session")
def spec_strategy() -> st.SearchStrategy[FeatureSpec]:
    return feature_specs()


@pytest.fixture(scope="session")
def session_strategy() -> st.SearchStrategy[Session]:
    return session_bars()
