import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intraday_rl.market import Portfolio, realized_pnl, unrealized_pnl


def test_opening_adding_reducing_and_flipping_track_the_average_price():
    portfolio = Portfolio(10_000.0)
    portfolio.fill(10.0, 100.0, 0.0)
    assert portfolio.avg_price == 100.0
    portfolio.fill(10.0, 110.0, 0.0)  # grows: volume-weighted
    assert portfolio.avg_price == pytest.approx(105.0)
    portfolio.fill(-5.0, 120.0, 0.0)  # shrinks: unchanged
    assert portfolio.avg_price == pytest.approx(105.0)
    portfolio.fill(-25.0, 90.0, 0.0)  # flips to short 10 at 90
    assert portfolio.position == -10.0
    assert portfolio.avg_price == 90.0
    portfolio.fill(10.0, 95.0, 0.0)  # flat
    assert portfolio.position == 0.0
    assert portfolio.avg_price == 0.0


def test_round_trip_pnl_is_price_move_times_size_minus_costs():
    portfolio = Portfolio(10_000.0)
    portfolio.fill(10.0, 100.0, 1.5)
    portfolio.fill(-10.0, 103.0, 1.5)
    assert portfolio.equity(103.0) == pytest.approx(10_000.0 + 30.0 - 3.0)
    state = portfolio.snapshot(0, "SYN", 103.0, 0.5)
    assert state.realized_pnl == pytest.approx(30.0)
    assert state.unrealized_pnl == 0.0
    assert state.costs_paid == 3.0


fills = st.lists(
    st.tuples(
        st.integers(-500, 500).map(float),
        st.floats(1.0, 1000.0, allow_nan=False),
        st.floats(0.0, 10.0, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(fills, st.floats(1.0, 1000.0))
def test_equity_identity_holds_after_any_fill_sequence(sequence, mark_price):
    portfolio = Portfolio(50_000.0)
    for quantity, price, cost in sequence:
        portfolio.fill(quantity, price, cost)
    equity = portfolio.equity(mark_price)
    assert equity == pytest.approx(portfolio.cash + portfolio.position * mark_price)
    unrealized = unrealized_pnl(portfolio.position, portfolio.avg_price, mark_price)
    realized = realized_pnl(equity, 50_000.0, unrealized, portfolio.costs_paid)
    # Realized P&L computed independently: sum of trade cash flows minus the open position's value.
    trade_pnl = -sum(q * p for q, p, _ in sequence) + portfolio.position * mark_price
    assert realized + unrealized == pytest.approx(trade_pnl, rel=1e-9, abs=1e-6)
    assert portfolio.costs_paid == pytest.approx(sum(c for _, _, c in sequence))
