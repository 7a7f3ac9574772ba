"""IntradayVecEnv: N intraday sessions stepped at once with numpy, as an SB3 ``VecEnv``.

Every line of market mechanics is the scalar env's: the same cost model and accounting functions
run here on arrays. Env ``i`` draws its sessions with its own RNG exactly as an
:class:`IntradayTradingEnv` reset with the same seed would, so N scalar envs given the same seeds
and actions produce the same observations, rewards and dones (tested step for step).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from intraday_rl.data.sessions import Session
from intraday_rl.env.book import EpisodeBook
from intraday_rl.env.config import EnvConfig
from intraday_rl.env.trading_env import as_book, make_spaces
from intraday_rl.market.accounting import apply_fill, unrealized_pnl
from intraday_rl.market.costs import trade_cost
from intraday_rl.shared.errors import EnvError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class IntradayVecEnv(VecEnv):
    """``n_envs`` intraday sessions simulated together; auto-resets each env at its session end.

    Infos are empty dicts except for envs that just finished a session, which carry
    ``terminal_observation``, ``TimeLimit.truncated`` (always False), ``equity``, ``costs_paid``,
    ``n_trades`` and ``session_index``. Per-env state is readable as arrays (``equity``,
    ``position``, ``cash``, ...).
    """

    def __init__(
        self,
        sessions: Sequence[Session] | EpisodeBook,
        n_envs: int,
        config: EnvConfig | None = None,
    ) -> None:
        if n_envs < 1:
            raise EnvError(f"n_envs: expected >= 1, was {n_envs}")
        self.config = config or EnvConfig()
        self.book = as_book(sessions, self.config)
        self.layout = self.book.layout
        observation_space, action_space = make_spaces(self.book, self.config)
        super().__init__(n_envs, observation_space, action_space)
        self._data = self.book.stacked
        self._levels = np.asarray(self.config.position_levels, dtype=np.float64)
        self._capital = self.config.initial_capital
        self._delay = self.config.costs.fill_delay_bars
        self._deadband = self.config.min_trade_fraction
        self._discrete = self.config.action_type == "discrete"
        self._rngs = [seeding.np_random()[0] for _ in range(n_envs)]
        self._next_sequential = np.arange(n_envs, dtype=np.int64)
        self._env_index = np.arange(n_envs)
        self._actions: npt.NDArray[Any] = np.zeros(n_envs)
        zeros = np.zeros(n_envs)
        self.session_index = np.zeros(n_envs, dtype=np.int64)
        self.bar = np.zeros(n_envs, dtype=np.int64)
        self._row = np.zeros(n_envs, dtype=np.int64)
        self.last_bar = np.ones(n_envs, dtype=np.int64)
        self.cash, self.position, self.avg_price = zeros.copy(), zeros.copy(), zeros.copy()
        self.costs_paid, self.peak_equity, self.equity = zeros.copy(), zeros.copy(), zeros.copy()
        self.n_trades = np.zeros(n_envs, dtype=np.int64)
        self._intended = zeros.copy()
        self._pending = np.full((n_envs, self._delay), np.nan)

    # -- resets -------------------------------------------------------------------------------
    def reset(self) -> VecEnvObs:
        """Reset every env (applying seeds and options set since the last reset)."""
        for i in range(self.num_envs):
            if self._seeds[i] is not None:
                self._rngs[i] = seeding.np_random(self._seeds[i])[0]
            options = self._options[i] or {}
            self._start_session(i, options.get("session_index"))
        self._reset_seeds()
        self._reset_options()
        return self._observe(self._env_index)

    def _start_session(self, i: int, index: int | None = None) -> None:
        if index is None:
            if self.config.session_order == "random":
                index = int(self._rngs[i].integers(self.book.n_sessions))
            else:
                index = int(self._next_sequential[i] % self.book.n_sessions)
                self._next_sequential[i] += self.num_envs
        elif not 0 <= index < self.book.n_sessions:
            raise EnvError(
                f"reset options.session_index: expected 0..{self.book.n_sessions - 1}, was {index}"
            )
        self.session_index[i] = index
        self.bar[i] = 0
        self._row[i] = index * self._data.stride + self.layout.window - 1
        self.last_bar[i] = self._data.n_bars[index] - 1
        self.cash[i] = self.equity[i] = self.peak_equity[i] = self._capital
        self.position[i] = self.avg_price[i] = self.costs_paid[i] = self._intended[i] = 0.0
        self.n_trades[i] = 0
        self._pending[i] = np.nan

    # -- stepping -----------------------------------------------------------------------------
    def step_async(self, actions: npt.NDArray[Any]) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        data = self._data
        exposure = self._target_exposure(self._actions)
        equity_before = self.equity
        quantity = self._orders_due(exposure, equity_before, data.close[self._row])

        self.bar += 1
        self._row += 1
        row = self._row
        step_cost = self._fill(quantity, data.open[row], row)
        close = data.close[row]
        dones = self.bar == self.last_bar
        any_done = bool(dones.any())
        if any_done:  # close every finished session at its last close (market-on-close)
            step_cost = step_cost + self._fill(np.where(dones, -self.position, 0.0), close, row)
            self._intended[dones] = 0.0
        self.equity = self.cash + self.position * close
        self.peak_equity = np.maximum(self.peak_equity, self.equity)
        rewards = ((self.equity - equity_before) / self._capital).astype(np.float32)
        self.last_step_costs = step_cost
        obs = self._observe(self._env_index)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if any_done:
            done_index = np.flatnonzero(dones)
            for i in done_index.tolist():
                infos[i] = self._final_info(i, obs[i].copy())
                self._start_session(i)
            obs[done_index] = self._observe(done_index)
        return obs, rewards, dones, infos

    def _target_exposure(self, actions: npt.NDArray[Any]) -> FloatArray:
        if self._discrete:
            action_index = actions.reshape(self.num_envs)
            if action_index.dtype != np.int64:
                action_index = action_index.astype(np.int64)
            if action_index.min() < 0 or action_index.max() >= self._levels.shape[0]:
                bad = (action_index < 0) | (action_index >= self._levels.shape[0])
                raise EnvError(
                    f"actions: expected 0..{self._levels.shape[0] - 1}, "
                    f"was {int(action_index[bad][0])} (env {int(np.flatnonzero(bad)[0])})"
                )
            levels: FloatArray = self._levels[action_index]
            return levels
        values = actions.reshape(self.num_envs, -1)[:, 0].astype(np.float64)
        if not np.isfinite(values).all():
            raise EnvError(f"actions: expected finite target exposures, was {values}")
        limit = self.config.max_exposure
        return np.minimum(np.maximum(values, -limit), limit)

    def _orders_due(
        self, exposure: FloatArray, equity: FloatArray, close: FloatArray
    ) -> FloatArray:
        """Place this bar's orders; return the share quantities that fill at the next open."""
        lot = self.config.lot_size
        target = np.trunc(exposure * np.maximum(equity, 0.0) / close / lot) * lot
        intended = self._intended
        place = (target != intended) & (
            (target == 0.0) | (np.abs(target - intended) * close >= self._deadband * equity)
        )
        self._intended = np.where(place, target, intended)
        if self._delay == 1:  # the order fills at the very next open: no queue needed
            return np.where(place, target - self.position, 0.0)
        placed = np.flatnonzero(place)
        self._pending[placed, self.bar[placed] % self._delay] = target[placed]
        slot = (self.bar + 1) % self._delay
        due = self._pending[self._env_index, slot]
        self._pending[self._env_index, slot] = np.nan
        return np.where(np.isnan(due), 0.0, due - self.position)

    def _fill(self, quantity: FloatArray, price: FloatArray, row: IntArray) -> FloatArray:
        # Envs with quantity 0 pass through unchanged (zero cost, same cash, position, average).
        cost = trade_cost(quantity, price, self._data.fill_volume[row], self.config.costs)
        self.cash, self.position, self.avg_price = apply_fill(
            self.cash, self.position, self.avg_price, quantity, price, cost
        )
        self.costs_paid = self.costs_paid + cost
        self.n_trades += quantity != 0.0
        return cost

    # -- observations -------------------------------------------------------------------------
    def _observe(self, envs: npt.NDArray[np.intp] | IntArray) -> npt.NDArray[np.float32]:
        all_envs = envs is self._env_index
        row = self._row if all_envs else self._row[envs]
        price = self._data.close[row]
        equity = self.equity if all_envs else self.equity[envs]
        position = self.position if all_envs else self.position[envs]
        avg_price = self.avg_price if all_envs else self.avg_price[envs]
        peak = self.peak_equity if all_envs else self.peak_equity[envs]
        last = self.last_bar if all_envs else self.last_bar[envs]
        bar = self.bar if all_envs else self.bar[envs]
        positive = equity > 0.0
        exposure = np.where(positive, position * price / np.where(positive, equity, 1.0), 0.0)
        out = np.empty((row.shape[0], self.layout.obs_dim), np.float32)
        return self.layout.write(
            out,
            self._data.windows[row - (self.layout.window - 1)],
            exposure,
            unrealized_pnl(position, avg_price, price) / self._capital,
            (last - bar) / last,
            1.0 - equity / peak,
        )

    def _final_info(self, i: int, terminal_obs: npt.NDArray[np.float32]) -> dict[str, Any]:
        return {
            "terminal_observation": terminal_obs,
            "TimeLimit.truncated": False,
            "equity": float(self.equity[i]),
            "costs_paid": float(self.costs_paid[i]),
            "n_trades": int(self.n_trades[i]),
            "session_index": int(self.session_index[i]),
        }

    # -- VecEnv plumbing ----------------------------------------------------------------------
    def close(self) -> None:
        return None

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **kwargs: Any
    ) -> list[Any]:
        method = getattr(self, method_name)
        return [method(*method_args, **kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[Any], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[npt.NDArray[Any] | None]:
        return [None for _ in range(self.num_envs)]
