import numpy as np
import pytest

from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.errors import FeatureError


def test_layout_orders_window_oldest_first_then_portfolio_fields():
    layout = ObservationLayout(["a", "b"], window=3)
    assert layout.obs_dim == 3 * 2 + 4
    assert layout.field_names == (
        "a[t-2]",
        "b[t-2]",
        "a[t-1]",
        "b[t-1]",
        "a[t]",
        "b[t]",
        "position",
        "unrealized_pnl",
        "time_left",
        "drawdown",
    )
    window = np.arange(6, dtype=np.float32).reshape(3, 2)
    obs = layout.build(window, 0.5, 0.01, 0.25, 0.002)
    np.testing.assert_allclose(obs, [0, 1, 2, 3, 4, 5, 0.5, 1.0, 0.25, 0.2], rtol=1e-6)
    assert obs.dtype == np.float32


def test_batch_write_equals_one_build_per_row():
    layout = ObservationLayout(["a", "b", "c"], window=2)
    rng = np.random.default_rng(0)
    windows = rng.normal(size=(5, 2, 3)).astype(np.float32)
    portfolio = rng.normal(size=(5, 4))
    batch = layout.write(np.empty((5, layout.obs_dim), np.float32), windows, portfolio)
    for i in range(5):
        np.testing.assert_array_equal(batch[i], layout.build(windows[i], *portfolio[i]))
    table = windows.reshape(5, -1)
    rows = np.array([4, 0, 4, 2, 1])
    by_rows = layout.write_rows(layout.observation_table(table), rows, portfolio)
    np.testing.assert_array_equal(
        by_rows, layout.write(np.empty_like(by_rows), windows[rows], portfolio)
    )


def test_padding_puts_window_minus_one_zero_rows_in_front():
    layout = ObservationLayout(["a"], window=4)
    padded = layout.pad_features(np.ones((5, 1)))
    assert padded.shape == (8, 1)
    assert padded[:3].sum() == 0
    assert padded[3:].sum() == 5


def test_observation_from_portfolio_state_uses_exposure_and_fractions(make_state):
    layout = ObservationLayout(["a"], window=1)
    # 500 shares bought at 98, marked at 100: equity 101,000, 1,000 unrealized, peak 102,000.
    state = make_state(500.0, 100.0, entry_price=98.0, peak_equity=102_000.0, time_left=0.5)
    obs = layout.build_from_state(np.zeros((1, 1), np.float32), state)
    expected = [50_000 / 101_000, 1.0, 0.5, 100 * (1 - 101_000 / 102_000)]
    np.testing.assert_allclose(obs[1:], expected, rtol=1e-6)


def test_bad_window_and_feature_shapes_are_rejected():
    with pytest.raises(FeatureError, match="window: expected >= 1 bar, was 0"):
        ObservationLayout(["a"], window=0)
    with pytest.raises(FeatureError, match=r"expected shape \(n_bars, 2\), was \(4, 3\)"):
        ObservationLayout(["a", "b"], window=2).pad_features(np.zeros((4, 3)))
