"""The kernel's compiled rules are the scalar env's functions, bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.env import vec_kernel
from intraday_rl.features import portfolio
from intraday_rl.market import accounting, costs, rules

finite = st.floats(-1e6, 1e6, allow_nan=False)
positive = st.floats(0.01, 1e5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    finite,
    positive,
    st.floats(1.0, 1e9),
    st.floats(0, 1e-2),
    st.floats(0, 0.01),
    st.floats(0, 1e-2),
)
def test_compiled_fill_cost_is_bit_identical(quantity, price, volume, rate, per_share, impact):
    args = (quantity, price, volume, rate, per_share, impact)
    assert vec_kernel._fill_cost(*args) == costs.fill_cost(*args)


@settings(max_examples=300, deadline=None)
@given(
    positive,
    st.integers(-1000, 1000).map(float),
    positive,
    st.integers(-1000, 1000).map(float),
    positive,
    st.floats(0, 10),
)
def test_compiled_apply_fill_is_bit_identical(cash, position, avg, quantity, price, cost):
    args = (cash, position, avg, quantity, price, cost)
    assert vec_kernel._apply_fill(*args) == accounting.apply_fill(*args)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(-3, 3),
    positive,
    positive,
    st.sampled_from([1.0, 10.0, 0.5]),
    finite,
    st.floats(0, 0.5),
)
def test_compiled_sizing_and_deadband_are_bit_identical(
    exposure, equity, price, lot, intended, band
):
    target = rules.target_shares(exposure, equity, price, lot)
    assert vec_kernel._target_shares(exposure, equity, price, lot) == target
    args = (target, intended, price, equity, band)
    assert vec_kernel._places_order(*args) == rules.places_order(*args)


@settings(max_examples=300, deadline=None)
@given(st.floats(-50, 50), st.floats(0.01, 10))
def test_compiled_exposure_clip_is_bit_identical(exposure, limit):
    assert vec_kernel._clip_exposure(exposure, limit) == rules.clip_exposure(exposure, limit)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5), st.lists(st.tuples(st.booleans(), finite), min_size=1, max_size=30))
def test_compiled_fill_queue_is_bit_identical(delay, decisions):
    # The scalar env's list queue and the kernel's array row see the same orders and fills.
    queue, row = rules.new_fill_queue(delay), np.full(delay, np.nan)
    position = 0.0
    for bar, (decide, target) in enumerate(decisions):
        if decide:
            rules.queue_order(queue, bar, target)
            vec_kernel._queue_order(row, bar, target)
        quantity = rules.due_quantity(queue, bar + 1, position)
        assert vec_kernel._due_quantity(row, bar + 1, position) == quantity
        np.testing.assert_array_equal(row, queue)
        position += quantity


@settings(max_examples=300, deadline=None)
@given(
    st.integers(-1000, 1000).map(float),
    positive,
    st.floats(-1e5, 1e6),
    positive,
    finite,
    positive,
    st.integers(0, 389),
)
def test_compiled_portfolio_fields_are_bit_identical(
    position, price, equity, peak, unrealized, capital, bar
):
    time_left = portfolio.session_time_left(bar, 389)
    assert vec_kernel._session_time_left(bar, 389) == time_left
    args = (position, price, equity, peak, unrealized, capital, time_left)
    assert vec_kernel._portfolio_fields(*args) == portfolio.portfolio_fields(*args)
