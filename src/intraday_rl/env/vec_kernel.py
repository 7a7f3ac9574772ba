"""The vectorized env's inner loop, compiled with numba from the scalar env's own rules.

The kernel calls numba-compiled copies of the very functions the scalar env calls
(:func:`~intraday_rl.market.costs.fill_cost`, :func:`~intraday_rl.market.accounting.apply_fill`,
:mod:`~intraday_rl.market.rules`, :mod:`~intraday_rl.features.portfolio`,
:mod:`~intraday_rl.env.mechanics`), so there is one implementation of costs, accounting, the
box-action clip, sizing, the deadband, the fill-delay queue and the observed portfolio fields,
and the two envs agree bit for bit. Compiled on first use and cached on disk.

State is packed into a few 2-D arrays (one row per quantity, one column per env) because each
argument of a numba call costs dispatch time on every step.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

import intraday_rl.env.mechanics as mechanics
import intraday_rl.features.portfolio as portfolio
import intraday_rl.market.rules as rules
from intraday_rl.market import accounting, costs
from intraday_rl.shared.arrays import FloatArray, IntArray

_fill_cost = numba.njit(cache=True)(costs.fill_cost)
_apply_fill = numba.njit(cache=True)(accounting.apply_fill)
_unrealized_pnl = numba.njit(cache=True)(accounting.unrealized_pnl)
_clip_exposure = numba.njit(cache=True)(rules.clip_exposure)
_target_shares = numba.njit(cache=True)(rules.target_shares)
_places_order = numba.njit(cache=True)(rules.places_order)
_queue_order = numba.njit(cache=True)(rules.queue_order)
_due_quantity = numba.njit(cache=True)(rules.due_quantity)
_portfolio_fields = numba.njit(cache=True)(portfolio.portfolio_fields)
_session_time_left = numba.njit(cache=True)(portfolio.session_time_left)
_control_variate = numba.njit(cache=True)(mechanics.control_variate)


# Rows of the float state.
CASH, POSITION, AVG_PRICE, COSTS_PAID, PEAK_EQUITY, EQUITY, INTENDED, STEP_COST = range(8)
N_FLOAT_STATE = 8
# Rows of the integer state.
ROW, BAR, LAST_BAR, N_TRADES = range(4)
N_INT_STATE = 4
# Rows of the market table (one column per padded bar of every session).
OPEN, CLOSE, FILL_VOLUME, FORECAST = range(4)
# Entries of the parameter vector.
(
    PROPORTIONAL,
    PER_SHARE,
    IMPACT,
    LOT,
    DEADBAND,
    CAPITAL,
    CONTROL_VARIATE,
    DECISION_EVERY,
    MAX_EXPOSURE,
) = range(9)


@numba.njit(cache=True)
def _fill(
    fs: FloatArray,
    ints: IntArray,
    i: int,
    quantity: float,
    price: float,
    volume: float,
    p: FloatArray,
) -> None:
    cost = _fill_cost(quantity, price, volume, p[PROPORTIONAL], p[PER_SHARE], p[IMPACT])
    fs[CASH, i], fs[POSITION, i], fs[AVG_PRICE, i] = _apply_fill(
        fs[CASH, i], fs[POSITION, i], fs[AVG_PRICE, i], quantity, price, cost
    )
    fs[COSTS_PAID, i] += cost
    fs[STEP_COST, i] += cost
    ints[N_TRADES, i] += 1


@numba.njit(cache=True)
def _step_one(
    i: int,
    exposure: float,
    fs: FloatArray,
    ints: IntArray,
    pending: FloatArray,
    market: FloatArray,
    p: FloatArray,
) -> tuple[float, bool]:
    # IntradayTradingEnv.step for env i; returns (reward, done).
    queue = pending[i]
    equity_before = fs[EQUITY, i]
    price = market[CLOSE, ints[ROW, i]]
    target = _target_shares(exposure, equity_before, price, p[LOT])
    if _places_order(target, fs[INTENDED, i], price, equity_before, p[DEADBAND]):
        _queue_order(queue, ints[BAR, i], target)
        fs[INTENDED, i] = target
    ints[BAR, i] += 1
    ints[ROW, i] += 1
    r = ints[ROW, i]
    fs[STEP_COST, i] = 0.0
    quantity = _due_quantity(queue, ints[BAR, i], fs[POSITION, i])
    if quantity != 0.0:
        _fill(fs, ints, i, quantity, market[OPEN, r], market[FILL_VOLUME, r], p)
    held = fs[POSITION, i]
    price = market[CLOSE, r]
    done = ints[BAR, i] == ints[LAST_BAR, i]
    if done and fs[POSITION, i] != 0.0:
        _fill(fs, ints, i, -fs[POSITION, i], price, market[FILL_VOLUME, r], p)
        fs[INTENDED, i] = 0.0
    value = fs[CASH, i] + fs[POSITION, i] * price
    if value > fs[PEAK_EQUITY, i]:
        fs[PEAK_EQUITY, i] = value
    fs[EQUITY, i] = value
    correction = _control_variate(
        p[CONTROL_VARIATE], held, market[OPEN, r], price, market[FORECAST, r - 1], p[CAPITAL]
    )
    return (value - equity_before) / p[CAPITAL] + correction, done


@numba.njit(cache=True)
def _write_fields(
    i: int,
    k: int,
    fs: FloatArray,
    ints: IntArray,
    market: FloatArray,
    p: FloatArray,
    out: FloatArray,
) -> None:
    price = market[CLOSE, ints[ROW, i]]
    fields = _portfolio_fields(
        fs[POSITION, i],
        price,
        fs[EQUITY, i],
        fs[PEAK_EQUITY, i],
        _unrealized_pnl(fs[POSITION, i], fs[AVG_PRICE, i], price),
        p[CAPITAL],
        _session_time_left(ints[BAR, i], ints[LAST_BAR, i]),
    )
    out[k, 0], out[k, 1], out[k, 2], out[k, 3] = fields


@numba.njit(cache=True)
def step_kernel(
    action_index: IntArray,
    exposure: FloatArray,
    levels: FloatArray,
    discrete: bool,
    fs: FloatArray,
    ints: IntArray,
    pending: FloatArray,
    market: FloatArray,
    p: FloatArray,
    rewards: npt.NDArray[np.float32],
    dones: npt.NDArray[np.bool_],
    fields: FloatArray,
) -> int:
    """Advance every env one bar in place and write its observation fields.

    Returns how many envs finished their session, or ``-1 - i`` when env ``i`` has an out-of-range
    discrete action (then nothing moved).
    """
    n_envs = fs.shape[1]
    if discrete:
        for i in range(n_envs):
            if action_index[i] < 0 or action_index[i] >= levels.shape[0]:
                return -1 - i
    n_done = 0
    every = int(p[DECISION_EVERY])
    for i in range(n_envs):
        target_exposure = (
            levels[action_index[i]] if discrete else _clip_exposure(exposure[i], p[MAX_EXPOSURE])
        )
        reward = 0.0
        step_cost = 0.0
        done = False
        for _ in range(every):
            bar_reward, done = _step_one(i, target_exposure, fs, ints, pending, market, p)
            reward += bar_reward
            step_cost += fs[STEP_COST, i]
            if done:
                break
        fs[STEP_COST, i] = step_cost
        rewards[i] = reward
        dones[i] = done
        n_done += done
        _write_fields(i, i, fs, ints, market, p, fields)
    return n_done


@numba.njit(cache=True)
def fields_kernel(
    envs: IntArray,
    fs: FloatArray,
    ints: IntArray,
    market: FloatArray,
    p: FloatArray,
    out: FloatArray,
) -> None:
    """Write the observation's portfolio fields of the given envs into ``out`` (k, 4)."""
    for k in range(envs.shape[0]):
        _write_fields(envs[k], k, fs, ints, market, p, out)
