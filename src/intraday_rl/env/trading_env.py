"""IntradayTradingEnv: one session per episode, decisions at bar closes, fills at later opens.

Timeline of one ``step(action)`` taken at the close of bar ``t``:

1. The action becomes a target exposure and then a target position in shares, sized from equity
   and the close of ``t`` (the last prices the agent has seen). Unless it is inside the rebalance
   deadband, it becomes an order that fills at the open of bar ``t + fill_delay_bars``. Every
   rule of this step is :mod:`intraday_rl.market.rules` (``ActionMap``, ``target_shares``,
   ``places_order``, the fill-delay queue), which execution applies too.
2. Time advances to bar ``t + 1``; an order due now fills at its open, paying costs (cost model).
3. On the session's last bar any position is closed at that bar's close (a market-on-close order),
   costs charged, and the episode terminates flat.
4. Equity is marked at the close; reward = (equity change) / initial capital (plus, in training
   with ``reward_control_variate``, the control variate of :func:`~.mechanics.control_variate`).

With ``decision_every = k`` one ``step`` runs 1-4 for k bars with the same action (fewer at the
session's end) and returns the summed reward: the agent acts on a k-bar clock.

No step ever reads a price after the bar it advances to: the look-ahead canary tests prove it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from intraday_rl.data.sessions import Session
from intraday_rl.env.config import EnvConfig
from intraday_rl.env.episodes import EpisodeBook
from intraday_rl.env.mechanics import control_variate
from intraday_rl.features.portfolio import portfolio_fields, session_time_left
from intraday_rl.market.accounting import Portfolio, unrealized_pnl
from intraday_rl.market.costs import fill_cost, split_costs
from intraday_rl.market.rules import (
    ActionMap,
    due_quantity,
    new_fill_queue,
    places_order,
    queue_order,
    target_shares,
)
from intraday_rl.shared.errors import ActionError, EnvError
from intraday_rl.shared.types import PortfolioState

ObsType = npt.NDArray[np.float32]
# Bounds of (position, unrealized_pnl, time_left, drawdown) in the observation.
PORTFOLIO_BOUNDS = [1e6, 1e6, 1.0, 1e6]


def make_spaces(book: EpisodeBook, config: EnvConfig) -> tuple[spaces.Box, spaces.Space[Any]]:
    """Return (observation_space, action_space) for a book and config (shared with the VecEnv)."""
    # Features are clipped by their spec; portfolio fields get wide finite bounds.
    clips = [d.clip for d in book.spec.features for _ in d.column_names]
    high = np.array(clips * book.layout.window + PORTFOLIO_BOUNDS, dtype=np.float32)
    low = -high
    low[-2] = 0.0  # time_left
    obs_space = spaces.Box(low, high, dtype=np.float32)
    action_space: spaces.Space[Any]
    if config.action_type == "discrete":
        action_space = spaces.Discrete(len(config.position_levels))
    else:
        limit = config.max_exposure
        action_space = spaces.Box(-limit, limit, shape=(1,), dtype=np.float32)
    return obs_space, action_space


def as_book(sessions: Sequence[Session] | EpisodeBook, config: EnvConfig) -> EpisodeBook:
    """Return ``sessions`` prepared as an :class:`EpisodeBook` (reused when already one)."""
    if isinstance(sessions, EpisodeBook):
        if sessions.spec != config.features or sessions.layout.window != config.window:
            raise EnvError("episode book: its feature spec or window differs from the env config")
        return sessions
    return EpisodeBook(sessions, config.features, config.window)


class IntradayTradingEnv(gym.Env[ObsType, Any]):
    """A gymnasium env that trades one symbol through one intraday session per episode.

    Observation: :class:`~intraday_rl.features.layout.ObservationLayout` vector (float32).
    Action: ``Discrete(K)`` index into ``config.position_levels`` (target exposure), or a ``Box``
    target exposure. Reward: net change in equity (after all costs) / initial capital.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium's convention)

    def __init__(
        self, sessions: Sequence[Session] | EpisodeBook, config: EnvConfig | None = None
    ) -> None:
        self.config = config or EnvConfig()
        self.book = as_book(sessions, self.config)
        self.layout = self.book.layout
        self.observation_space, self.action_space = make_spaces(self.book, self.config)
        self.action_map = action_map(self.config)
        self._target_exposure = self.action_map.target_exposure
        self._capital = self.config.initial_capital
        self._rates = self.config.costs.rates
        self._delay = self.config.costs.fill_delay_bars
        self._deadband = self.config.min_trade_fraction
        self._lot = self.config.lot_size
        self._fill_totals = [0.0, 0.0]  # this session's traded notional and shares
        self._decision_every = self.config.decision_every
        self._control_variate = self.config.reward_control_variate
        self.portfolio = Portfolio(self._capital)
        self._next_sequential = 0
        self._session_index = -1
        self._t = 0
        self._last = 0

    # -- episode set-up -------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsType, dict[str, Any]]:
        """Start a session: ``options={"session_index": i}`` picks one, else the config's order."""
        super().reset(seed=seed)
        index = None if options is None else options.get("session_index")
        if index is None:
            index = self._draw_session()
        elif not 0 <= int(index) < self.book.n_sessions:
            raise EnvError(
                f"reset options.session_index: expected 0..{self.book.n_sessions - 1}, was {index}"
            )
        self._load(int(index))
        close = self._close[0]
        return self._observation(0, close, self._capital), self._info(close, 0.0, False)

    def _draw_session(self) -> int:
        if self.config.session_order == "random":
            return int(self.np_random.integers(self.book.n_sessions))
        index = self._next_sequential % self.book.n_sessions
        self._next_sequential += 1
        return index

    def _load(self, index: int) -> None:
        session = self.book.sessions[index]
        self._session_index = index
        self._open: list[float] = session.open.tolist()
        self._close: list[float] = session.close.tolist()
        self._volume: list[float] = self.book.fill_volume[index].tolist()
        self._forecast: list[float] = self.book.forecast[index].tolist()
        self._windows = self.book.windows[index]
        self._last = session.n_bars - 1
        self._t = 0
        self.portfolio.reset()
        self._equity = self._capital
        self._pending = new_fill_queue(self._delay)
        self._intended = 0.0
        self._n_trades = 0
        self._fill_totals = [0.0, 0.0]

    # -- stepping ---------------------------------------------------------------------------
    def step(self, action: Any) -> tuple[ObsType, SupportsFloat, bool, bool, dict[str, Any]]:
        """Advance ``decision_every`` bars (fewer at the session's end): module docstring."""
        if self._t >= self._last:
            raise EnvError("step() called after the episode ended: call reset() first")
        try:
            exposure = self._target_exposure(action)
        except ActionError as error:
            raise EnvError(str(error)) from error
        reward, step_cost, traded, terminated = self._advance(exposure)
        for _ in range(self._decision_every - 1):
            if terminated:
                break
            bar_reward, bar_cost, bar_traded, terminated = self._advance(exposure)
            reward += bar_reward
            step_cost += bar_cost
            traded = traded or bar_traded
        close = self._close[self._t]
        return (
            self._observation(self._t, close, self._equity),
            reward,
            terminated,
            False,
            self._info(close, step_cost, traded),
        )

    def _advance(self, exposure: float) -> tuple[float, float, bool, bool]:
        # One bar of the timeline; returns (reward, costs, traded, terminated).
        t = self._t
        equity_before = self._equity
        close = self._close[t]
        target = target_shares(exposure, equity_before, close, self._lot)
        if places_order(target, self._intended, close, equity_before, self._deadband):
            queue_order(self._pending, t, target)
            self._intended = target

        t += 1
        self._t = t
        portfolio = self.portfolio
        step_cost = 0.0
        traded = False
        quantity = due_quantity(self._pending, t, portfolio.position)
        if quantity != 0.0:
            step_cost += self._fill(quantity, self._open[t], t)
            traded = True
        held = portfolio.position
        close = self._close[t]
        terminated = t == self._last
        if terminated and portfolio.position != 0.0:
            step_cost += self._fill(-portfolio.position, close, t)
            traded = True
            self._intended = 0.0
        equity = portfolio.mark(close)
        self._equity = equity
        reward = (equity - equity_before) / self._capital
        if self._control_variate:  # training only; the call is skipped on the evaluation path
            reward += control_variate(
                self._control_variate,
                held,
                self._open[t],
                close,
                self._forecast[t - 1],
                self._capital,
            )
        return reward, step_cost, traded, terminated

    def _fill(self, quantity: float, price: float, t: int) -> float:
        volume = self._volume[t]
        cost = fill_cost(quantity, price, volume, *self._rates)
        self.portfolio.fill(quantity, price, cost)
        self._n_trades += 1
        # The session's traded notional and shares; fill_totals derives the cost parts.
        totals = self._fill_totals
        size = abs(quantity)
        totals[0] += size * price
        totals[1] += size
        return cost

    # -- observation and info ----------------------------------------------------------------
    def _observation(self, t: int, price: float, equity: float) -> ObsType:
        portfolio = self.portfolio
        position = portfolio.position
        fields = portfolio_fields(
            position,
            price,
            equity,
            portfolio.peak_equity,
            unrealized_pnl(position, portfolio.avg_price, price),
            self._capital,
            session_time_left(t, self._last),
        )
        return self.layout.build(self._windows[t], *fields)

    def _info(self, price: float, step_cost: float, traded: bool) -> dict[str, Any]:
        portfolio = self.portfolio
        return {
            "equity": self._equity,
            "cash": portfolio.cash,
            "position": portfolio.position,
            "price": price,
            "costs": step_cost,
            "costs_paid": portfolio.costs_paid,
            "trade": traded,
            "n_trades": self._n_trades,
            "drawdown": 1.0 - self._equity / portfolio.peak_equity,
        }

    # -- read-only views ---------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The session being played."""
        return self.book.sessions[self._session_index]

    @property
    def fill_totals(self) -> dict[str, float]:
        """This session's traded notional and its costs by kind so far (currency).

        Commission and spread are linear in notional (and shares), so they are derived from the
        session's sums; impact is the rest of what the cost model charged.
        """
        notional, shares = self._fill_totals
        commission, spread, impact = split_costs(
            notional, shares, self.portfolio.costs_paid, self.config.costs
        )
        return {
            "traded_notional": notional,
            "commission": commission,
            "spread": spread,
            "impact": impact,
        }

    @property
    def bar_index(self) -> int:
        """Index of the bar whose close the current observation describes."""
        return self._t

    def portfolio_state(self) -> PortfolioState:
        """The portfolio at the current bar's close, as the risk engine sees it."""
        t = self._t
        session = self.session
        return self.portfolio.snapshot(
            int(session.ts_ns[t]), session.symbol, self._close[t], session_time_left(t, self._last)
        )


def action_map(config: EnvConfig) -> ActionMap:
    """The :class:`~intraday_rl.market.rules.ActionMap` of an env config's actions."""
    return ActionMap(config.action_type, config.position_levels, config.max_exposure)
