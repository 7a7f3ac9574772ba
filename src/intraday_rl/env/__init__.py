"""Intraday trading environments: the gymnasium env and its numpy-vectorized SB3 VecEnv."""

from intraday_rl.env.config import EnvConfig
from intraday_rl.env.episodes import EpisodeBook
from intraday_rl.env.trading_env import IntradayTradingEnv

__all__ = ["EnvConfig", "EpisodeBook", "IntradayTradingEnv", "IntradayVecEnv"]


def __getattr__(name: str) -> object:
    # The VecEnv needs SB3; import it only when asked for, so execution never loads SB3.
    if name == "IntradayVecEnv":
        from intraday_rl.env.vec_env import IntradayVecEnv

        return IntradayVecEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
