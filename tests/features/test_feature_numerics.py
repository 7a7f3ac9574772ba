"""The numerical building blocks that make batch and streaming agree bit for bit (or nearly)."""

import math
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.features.windows import ExactRollingMoments, rolling_deviation_and_std

EDGE_VALUES = [
    0.0,
    5e-324,
    1e-300,
    2.0**-30,
    0.41421356237309503,
    0.4142135623730951,
    0.5,
    1.0,
    2.0,
    3.0,
    1e6,
    1e6 + 1.0,
    2.0**53 - 1.0,
    2.0**53,
    1e100,
    1.7e308,
]


def _volumes(n_values: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.concatenate(
        (
            EDGE_VALUES,
            np.round(rng.lognormal(7.0, 3.0, n_values)),
            rng.uniform(0.0, 2.0, n_values),
            10.0 ** rng.uniform(-20.0, 100.0, n_values),
        )
    )


def test_batch_log1p_is_math_log1p_bit_for_bit():
    from intraday_rl.features.batch import _log1p

    values = _volumes(20_000)
    np.testing.assert_array_equal(_log1p(values), [math.log1p(v) for v in values.tolist()])


def test_flat_window_after_a_spike_has_exactly_zero_std():
    """Float running sums would keep ~1e-9 of the spike; the exact integer sums keep nothing."""
    moments = ExactRollingMoments(5)
    for value in [0.7, -0.9, 0.8, 1e-3, 2e-3, 0.0, 0.0, 0.0, 0.0, 0.0]:
        moments.push(value)
    assert moments.std() == 0.0
    assert moments.zscore_of_last(1e-12) == 0.0
    deviation, std = rolling_deviation_and_std(np.array([0.7, -0.9, 0.8, 0, 0, 0, 0, 0]), 5)
    assert std[-1] == 0.0
    assert deviation[-1] == 0.0


def test_float_running_sums_would_fail_that_test():
    # Documents why ExactRollingMoments exists: naive float sums do not return to zero.
    values = [0.7, -0.9, 0.8, 1e-3, 2e-3, 0.0, 0.0, 0.0, 0.0, 0.0]
    total = total_squares = 0.0
    for index, value in enumerate(values):
        total += value
        total_squares += value * value
        if index >= 5:
            total -= values[index - 5]
            total_squares -= values[index - 5] ** 2
    assert total_squares != 0.0


@settings(max_examples=100, deadline=None)
@given(  # includes near-constant windows, where a float mean would lose most digits
    values=st.lists(
        st.one_of(st.floats(-10.0, 10.0), st.sampled_from([0.0, 1e6, 1e6 + 1e-6])),
        min_size=1,
        max_size=40,
    ),
    window=st.integers(2, 12),
)
def test_exact_and_batch_rolling_moments_agree_with_exact_rationals(values, window):
    deviation, std = rolling_deviation_and_std(np.array(values), window)
    moments = ExactRollingMoments(window)
    for t, value in enumerate(values):
        moments.push(value)
        recent = [Fraction(v) for v in values[max(0, t - window + 1) : t + 1]]
        mean = sum(recent) / len(recent)
        expected_std = math.sqrt(sum((v - mean) ** 2 for v in recent) / len(recent))
        assert math.isclose(moments.std(), expected_std, rel_tol=1e-12, abs_tol=1e-20)
        assert math.isclose(std[t], expected_std, rel_tol=1e-12, abs_tol=1e-20)
        if expected_std > 1e-12:
            expected_z = float(Fraction(value) - mean) / expected_std
            assert math.isclose(moments.zscore_of_last(1e-12), expected_z, abs_tol=1e-9)
            assert math.isclose(deviation[t] / std[t], expected_z, abs_tol=1e-9)
