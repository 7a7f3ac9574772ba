"""IntradayVecEnv: N intraday sessions stepped at once over numpy arrays, as an SB3 ``VecEnv``.

The per-bar mechanics run in one compiled kernel (:mod:`intraday_rl.env.vec_kernel`) built from
the scalar env's own cost, accounting, trading-rule and observation functions. Env ``i`` draws
its sessions with its own RNG exactly as an :class:`IntradayTradingEnv` reset with the same seed
would, so N scalar envs given the same seeds and actions produce the same observations, rewards
and dones (tested step for step).
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

import intraday_rl.env.vec_kernel as kernel
from intraday_rl.data.sessions import Session
from intraday_rl.env.config import EnvConfig
from intraday_rl.env.episodes import EpisodeBook
from intraday_rl.env.trading_env import as_book, make_spaces
from intraday_rl.features.portfolio import session_time_left
from intraday_rl.market.accounting import portfolio_state
from intraday_rl.shared.arrays import FloatArray, IntArray
from intraday_rl.shared.errors import EnvError
from intraday_rl.shared.types import PortfolioState


class IntradayVecEnv(VecEnv):
    """``n_envs`` intraday sessions simulated together; auto-resets each env at its session end.

    Infos are empty dicts except for envs that just finished a session, which carry
    ``terminal_observation``, ``portfolio_state`` (the terminal :class:`PortfolioState`),
    ``TimeLimit.truncated`` (always False), ``equity``, ``costs_paid``, ``n_trades`` and
    ``session_index``. Per-env state is readable as arrays (``equity``,
    ``position``, ``cash``, ``costs_paid``, ``n_trades``, ``bar``, ...).
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
        self.render_mode = None  # nothing to render; read by VecEnv.__init__
        super().__init__(n_envs, observation_space, action_space)
        data = self.book.stacked
        self._n_bars = data.n_bars
        self._stride = data.stride
        self._windows = data.windows
        self._observations = data.observations
        self._market = np.stack([data.open, data.close, data.fill_volume, data.forecast])
        costs = self.config.costs
        self._params = np.array(
            [
                *costs.rates,
                self.config.lot_size,
                self.config.min_trade_fraction,
                self.config.initial_capital,
                self.config.reward_control_variate,
                float(self.config.decision_every),
                self.config.max_exposure,
            ]
        )
        self._levels = np.asarray(self.config.position_levels, dtype=np.float64)
        self._discrete = self.config.action_type == "discrete"
        self._rngs = [seeding.np_random()[0] for _ in range(n_envs)]
        self._next_sequential = np.arange(n_envs, dtype=np.int64)
        self._env_index = np.arange(n_envs, dtype=np.int64)
        self._no_actions = np.zeros(n_envs, dtype=np.int64)
        self._no_exposure = np.zeros(n_envs)
        self._actions: npt.NDArray[Any] = self._no_actions
        self._fs = np.zeros((kernel.N_FLOAT_STATE, n_envs))
        self._ints = np.zeros((kernel.N_INT_STATE, n_envs), dtype=np.int64)
        # One fill-delay queue (market.rules) per env, as rows of one array.
        self._pending = np.full((n_envs, costs.fill_delay_bars), np.nan)
        self.session_index = np.zeros(n_envs, dtype=np.int64)

    # -- per-env state, as views of the kernel's arrays -----------------------------------------
    def _float_row(self, row: int) -> FloatArray:
        values: FloatArray = self._fs[row]
        return values

    def _int_row(self, row: int) -> IntArray:
        values: IntArray = self._ints[row]
        return values

    @property
    def cash(self) -> FloatArray:
        return self._float_row(kernel.CASH)

    @property
    def position(self) -> FloatArray:
        return self._float_row(kernel.POSITION)

    @property
    def avg_price(self) -> FloatArray:
        return self._float_row(kernel.AVG_PRICE)

    @property
    def costs_paid(self) -> FloatArray:
        return self._float_row(kernel.COSTS_PAID)

    @property
    def peak_equity(self) -> FloatArray:
        return self._float_row(kernel.PEAK_EQUITY)

    @property
    def equity(self) -> FloatArray:
        return self._float_row(kernel.EQUITY)

    @property
    def last_step_costs(self) -> FloatArray:
        return self._float_row(kernel.STEP_COST)

    @property
    def bar(self) -> IntArray:
        return self._int_row(kernel.BAR)

    @property
    def last_bar(self) -> IntArray:
        return self._int_row(kernel.LAST_BAR)

    @property
    def n_trades(self) -> IntArray:
        return self._int_row(kernel.N_TRADES)

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
        n_sessions = self.book.n_sessions
        if index is None:
            if self.config.session_order == "random":
                index = int(self._rngs[i].integers(n_sessions))
            else:
                index = int(self._next_sequential[i] % n_sessions)
                self._next_sequential[i] += self.num_envs
        elif not 0 <= index < n_sessions:
            raise EnvError(
                f"reset options.session_index: expected 0..{n_sessions - 1}, was {index}"
            )
        self.session_index[i] = index
        self._fs[:, i] = 0.0
        for row in (kernel.CASH, kernel.EQUITY, kernel.PEAK_EQUITY):
            self._fs[row, i] = self.config.initial_capital
        self._ints[:, i] = 0
        self._ints[kernel.ROW, i] = index * self._stride + self.layout.window - 1
        self._ints[kernel.LAST_BAR, i] = self._n_bars[index] - 1
        self._pending[i] = np.nan

    # -- stepping -----------------------------------------------------------------------------
    def step_async(self, actions: npt.NDArray[Any]) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        action_index, exposure = self._parse_actions(self._actions)
        rewards = np.empty(self.num_envs, np.float32)
        dones = np.empty(self.num_envs, np.bool_)
        fields = np.empty((self.num_envs, 4))
        n_done = kernel.step_kernel(
            action_index,
            exposure,
            self._levels,
            self._discrete,
            self._fs,
            self._ints,
            self._pending,
            self._market,
            self._params,
            rewards,
            dones,
            fields,
        )
        if n_done < 0:
            bad = -1 - n_done
            raise EnvError(
                f"actions: expected 0..{self._levels.shape[0] - 1}, "
                f"was {int(action_index[bad])} (env {bad})"
            )
        obs = self._build(self._ints[kernel.ROW], fields)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if n_done:
            done_index = np.flatnonzero(dones)
            for i in done_index.tolist():
                infos[i] = self._final_info(i, obs[i].copy())
                self._start_session(i)
            obs[done_index] = self._observe(done_index)
        return obs, rewards, dones, infos

    def _parse_actions(self, actions: npt.NDArray[Any]) -> tuple[IntArray, FloatArray]:
        if self._discrete:
            index = actions.reshape(self.num_envs)
            if index.dtype != np.int64:
                index = index.astype(np.int64)
            return index, self._no_exposure
        values = actions.reshape(self.num_envs, -1)[:, 0].astype(np.float64)
        if not np.isfinite(values).all():
            raise EnvError(f"actions: expected finite target exposures, was {values}")
        return self._no_actions, values  # the kernel clips them (market.rules.clip_exposure)

    # -- observations -------------------------------------------------------------------------
    def _observe(self, envs: IntArray) -> npt.NDArray[np.float32]:
        fields = np.empty((envs.shape[0], 4))
        kernel.fields_kernel(envs, self._fs, self._ints, self._market, self._params, fields)
        return self._build(self._ints[kernel.ROW, envs], fields)

    def _build(self, rows: IntArray, fields: FloatArray) -> npt.NDArray[np.float32]:
        if self._observations is not None:
            return self.layout.write_rows(self._observations, rows, fields)
        out = np.empty((rows.shape[0], self.layout.obs_dim), np.float32)
        return self.layout.write(out, self._windows[rows - (self.layout.window - 1)], fields)

    def portfolio_state(self, i: int) -> PortfolioState:
        """Env ``i``'s portfolio at its current bar's close, as the risk engine sees it."""
        session = self.book.sessions[int(self.session_index[i])]
        bar, last = int(self.bar[i]), int(self.last_bar[i])
        fs = self._fs[:, i].tolist()
        return portfolio_state(
            int(session.ts_ns[bar]),
            session.symbol,
            float(session.close[bar]),
            fs[kernel.CASH],
            fs[kernel.POSITION],
            fs[kernel.AVG_PRICE],
            fs[kernel.COSTS_PAID],
            fs[kernel.PEAK_EQUITY],
            self.config.initial_capital,
            session_time_left(bar, last),
        )

    def _final_info(self, i: int, terminal_obs: npt.NDArray[np.float32]) -> dict[str, Any]:
        return {
            "terminal_observation": terminal_obs,
            "portfolio_state": self.portfolio_state(i),
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
