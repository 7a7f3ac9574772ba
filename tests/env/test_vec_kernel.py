"""The kernel's compiled rules are the scalar env's functions, bit for bit."""

from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.env import vec_kernel
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
