"""Deprecated: the trainer moved to :mod:`intraday_rl.training.trainer_agent`.

Importing this module warns once; its names forward to the new trainer.
"""

from __future__ import annotations

import warnings
from typing import Any

warnings.warn(
    "intraday_rl.agents.trainer_agent is deprecated; import TrainerAgent and "
    "create_trainer_agent from intraday_rl.training instead",
    DeprecationWarning,
    stacklevel=2,
)


def create_trainer_agent(config: Any) -> Any:
    """Deprecated: forwards to :func:`intraday_rl.training.create_trainer_agent`."""
    warnings.warn(
        "intraday_rl.agents.trainer_agent.create_trainer_agent is deprecated; use "
        "intraday_rl.training.create_trainer_agent",
        DeprecationWarning,
        stacklevel=2,
    )
    from intraday_rl.training.trainer_agent import create_trainer_agent as create

    return create(config)


def __getattr__(name: str) -> Any:
    if name == "TrainerAgent":
        warnings.warn(
            "intraday_rl.agents.trainer_agent.TrainerAgent is deprecated; use "
            "intraday_rl.training.TrainerAgent",
            DeprecationWarning,
            stacklevel=2,
        )
        from intraday_rl.training.trainer_agent import TrainerAgent

        return TrainerAgent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
