"""ObservationStream: streamed features, a padded W-bar window, the layout's portfolio fields."""

import math

import numpy as np
import pytest

from intraday_rl.features import ObservationStream, compute_features
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.errors import FeatureError
from intraday_rl.shared.types import PortfolioState

WINDOW = 4


def _bar(session, t):
    return (
        session.ts_ns[t],
        session.open[t],
        session.high[t],
        session.low[t],
        session.close[t],
        session.volume[t],
    )


def _start(stream, session):
    stream.reset(session.open_ns, session.close_ns, session.bar_ns)


def _state(**overrides):
    values = {
        "ts_ns": 0,
        "symbol": "SYN",
        "price": 100.0,
        "cash": 50_000.0,
        "position": 500.0,
        "equity": 100_000.0,
        "initial_capital": 100_000.0,
        "peak_equity": 102_000.0,
        "realized_pnl": 0.0,
        "unrealized_pnl": 1_000.0,
        "costs_paid": 0.0,
        "time_left": 0.5,
    }
    values.update(overrides)
    return PortfolioState(**values)


@pytest.mark.parametrize("window", [1, WINDOW, 7])
def test_window_is_the_last_w_batch_rows_with_zero_rows_before_the_session(
    sessions, default_spec, window
):
    session = sessions[0]
    stream = ObservationStream(default_spec, window)
    padded = ObservationLayout(default_spec.column_names, window).pad_features(
        compute_features(default_spec, session)
    )
    _start(stream, session)
    for t in range(20):
        stream.update(*_bar(session, t))
        np.testing.assert_allclose(stream.feature_window(), padded[t : t + window], atol=1e-6)
    assert stream.n_bars == 20


def test_observation_appends_the_layouts_fields_of_the_state(sessions, default_spec):
    session = sessions[0]
    stream = ObservationStream(default_spec, WINDOW)
    _start(stream, session)
    stream.update(*_bar(session, 0))
    state = _state()
    expected = stream.layout.build_from_state(stream.feature_window(), state)
    np.testing.assert_array_equal(stream.observation(state), expected)
    np.testing.assert_allclose(expected[-4:], [0.5, 1.0, 0.5, 100 * (1 - 100 / 102)], rtol=1e-6)
    # The first bar's window: W-1 zero rows, then the bar's features.
    assert not stream.observation(state)[: (WINDOW - 1) * stream.layout.n_features].any()


def test_reset_starts_the_next_session_from_zero_padding(sessions, default_spec):
    first, second = sessions[0], sessions[1]
    stream = ObservationStream(default_spec, WINDOW)
    _start(stream, first)
    for t in range(20):
        stream.update(*_bar(first, t))
    _start(stream, second)
    assert stream.n_bars == 0
    stream.update(*_bar(second, 0))
    fresh = ObservationStream(default_spec, WINDOW)
    _start(fresh, second)
    fresh.update(*_bar(second, 0))
    np.testing.assert_array_equal(stream.observation(_state()), fresh.observation(_state()))


def test_observation_before_a_bar_is_rejected(sessions, default_spec):
    stream = ObservationStream(default_spec, WINDOW)
    with pytest.raises(FeatureError, match="expected a bar since reset"):
        stream.observation(_state())
    _start(stream, sessions[0])
    with pytest.raises(FeatureError, match="expected a bar since reset"):
        stream.observation(_state())


def test_update_before_reset_is_rejected(sessions, default_spec):
    with pytest.raises(FeatureError, match="expected reset"):
        ObservationStream(default_spec, WINDOW).update(*_bar(sessions[0], 0))


def test_out_of_order_and_nan_bars_are_rejected_and_leave_the_stream_unchanged(
    sessions, default_spec
):
    session = sessions[0]
    stream = ObservationStream(default_spec, WINDOW)
    _start(stream, session)
    stream.update(*_bar(session, 0))
    stream.update(*_bar(session, 1))
    before = stream.observation(_state())
    with pytest.raises(FeatureError, match=r"ts_ns: expected > previous bar's"):
        stream.update(*_bar(session, 1))
    nan_bar = (session.ts_ns[2], session.open[2], math.nan, *_bar(session, 2)[3:])
    with pytest.raises(FeatureError, match="high: expected a finite price"):
        stream.update(*nan_bar)
    assert stream.n_bars == 2
    np.testing.assert_array_equal(stream.observation(_state()), before)


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("unrealized_pnl", math.nan, "unrealized_pnl"),
        ("time_left", math.inf, "time_left"),
        ("price", math.nan, "position"),
    ],
)
def test_non_finite_portfolio_fields_are_rejected_naming_the_field(
    sessions, default_spec, field, value, name
):
    stream = ObservationStream(default_spec, WINDOW)
    _start(stream, sessions[0])
    stream.update(*_bar(sessions[0], 0))
    with pytest.raises(FeatureError, match=f"{name}: expected a finite value, was"):
        stream.observation(_state(**{field: value}))


def test_bad_window_is_rejected(default_spec):
    with pytest.raises(FeatureError, match="window: expected >= 1 bar, was 0"):
        ObservationStream(default_spec, 0)
