"""Look-ahead canary: row t depends on bars 0..t only, for batch and streaming alike."""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intraday_rl.features import compute_features, stream_session

COMPUTE = {"batch": compute_features, "streaming": stream_session}


def perturb_bars(session, bars: slice, rng: np.random.Generator):
    """Rescale prices, redraw volumes (some zero) and delay timestamps of ``bars``; stay valid."""
    n_bars = session.n_bars
    factor = np.ones(n_bars)
    factor[bars] = np.exp(rng.normal(0.0, 0.05, n_bars)[bars])
    close = session.close * factor
    # a different close with the same open: the bar's return changes too
    close[bars] *= np.exp(rng.normal(0.0, 0.02, n_bars)[bars])
    open_ = session.open * factor
    high = np.maximum(session.high * factor, np.maximum(open_, close))
    low = np.minimum(session.low * factor, np.minimum(open_, close))
    volume = session.volume.copy()
    volume[bars] = np.where(rng.random(n_bars) < 0.2, 0.0, rng.lognormal(9.0, 1.5, n_bars))[bars]
    delay = np.zeros(n_bars, dtype=np.int64)
    delay[bars] = session.bar_ns // 2
    return dataclasses.replace(
        session,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        ts_ns=session.ts_ns + np.cumsum(delay),
    )


@pytest.mark.parametrize("path", COMPUTE)
def test_perturbing_the_future_leaves_every_earlier_row_unchanged(
    path, sessions, default_spec, custom_spec
):
    compute = COMPUTE[path]
    rng = np.random.default_rng(11)
    for session in [s for s in sessions if s.n_bars > 1][::4]:
        for spec in (default_spec, custom_spec):
            original = compute(spec, session)
            for t in rng.integers(0, session.n_bars - 1, size=3):
                future = perturb_bars(session, slice(t + 1, None), rng)
                moved = compute(spec, future)
                np.testing.assert_array_equal(moved[: t + 1], original[: t + 1])
                assert not np.array_equal(moved[t + 1 :], original[t + 1 :])


@pytest.mark.parametrize("path", COMPUTE)
def test_perturbing_bar_t_changes_row_t(path, sessions, default_spec, custom_spec):
    """The converse: the canary above can fail, because row t does see bar t."""
    compute = COMPUTE[path]
    rng = np.random.default_rng(12)
    for session in sessions[::4]:
        for spec in (default_spec, custom_spec):
            original = compute(spec, session)
            for t in rng.integers(0, session.n_bars, size=3):
                moved = compute(spec, perturb_bars(session, slice(t, t + 1), rng))
                np.testing.assert_array_equal(moved[:t], original[:t])
                assert not np.array_equal(moved[t], original[t]), f"bar {t} had no effect"


@pytest.mark.parametrize("path", COMPUTE)
@pytest.mark.parametrize("field", ["high", "low", "close", "volume"])
def test_each_field_of_bar_t_reaches_row_t(path, field, sessions, custom_spec):
    # custom_spec: the default vwap_deviation (scale 1000) is clipped at bar 200 of this session
    compute = COMPUTE[path]
    session, t = sessions[0], 200
    arrays = {name: getattr(session, name).copy() for name in ("high", "low", "close", "volume")}
    arrays[field][t] *= 0.99 if field == "low" else 1.01
    arrays["high"][t] = max(arrays["high"][t], arrays["close"][t])
    original = compute(custom_spec, session)
    moved = compute(custom_spec, dataclasses.replace(session, **arrays))
    np.testing.assert_array_equal(moved[:t], original[:t])
    assert not np.array_equal(moved[t], original[t])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_future_never_leaks_on_random_paths_and_specs(data, session_strategy, spec_strategy):
    session, spec = data.draw(session_strategy), data.draw(spec_strategy)
    t = data.draw(st.integers(0, session.n_bars - 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    future = perturb_bars(session, slice(t + 1, None), rng)
    for compute in COMPUTE.values():
        np.testing.assert_array_equal(
            compute(spec, future)[: t + 1], compute(spec, session)[: t + 1]
        )
