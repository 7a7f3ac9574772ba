"""The observation's four portfolio fields, computed in one place.

The scalar env, the vectorized env's numba kernel (which compiles these very functions) and
:meth:`~intraday_rl.features.layout.ObservationLayout.build_from_state` (execution's path, from a
:class:`~intraday_rl.shared.types.PortfolioState`) all call :func:`portfolio_fields`, so a policy
sees the same numbers in training and in production. Scalar float arithmetic only: numba must
compile it.
"""

from __future__ import annotations


def session_time_left(bar: int, last_bar: int) -> float:
    """Fraction of the session's bars still to come after ``bar`` (1 at the open, 0 at the end).

    >>> session_time_left(15, 60)
    0.75
    """
    return (last_bar - bar) / last_bar


def portfolio_fields(
    position: float,
    price: float,
    equity: float,
    peak_equity: float,
    unrealized_pnl: float,
    initial_capital: float,
    time_left: float,
) -> tuple[float, float, float, float]:
    """Return the observation's (exposure, unrealized P&L / capital, time left, drawdown).

    Args:
        position: Shares held (signed).
        price: The price the portfolio is marked at (the bar's close).
        equity: Cash plus the position marked at ``price``.
        peak_equity: The session's highest equity so far (>= ``equity``).
        unrealized_pnl: P&L of the open position at ``price``, before costs (currency).
        initial_capital: The session's starting capital (currency, > 0).
        time_left: :func:`session_time_left` of the bar.

    Exposure is 0 when equity is not positive, drawdown 0 when the peak is not (neither happens
    in the env; the guards keep a broken live state from dividing by zero). These are fractions:
    :class:`~intraday_rl.features.layout.ObservationLayout` scales P&L and drawdown.
    """
    exposure = position * price / equity if equity > 0.0 else 0.0
    drawdown = 1.0 - equity / peak_equity if peak_equity > 0.0 else 0.0
    return exposure, unrealized_pnl / initial_capital, time_left, drawdown
