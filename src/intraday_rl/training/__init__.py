"""Training: risk-aware RL on the intraday environments.

Importing this package loads no SB3 or torch; the trainer's names load them on first use.
"""

from typing import Any

__all__ = ["TrainerAgent", "TrainingConfig", "create_trainer_agent", "load_training_config"]


def __getattr__(name: str) -> Any:
    if name in ("TrainerAgent", "create_trainer_agent"):
        from intraday_rl.training import trainer_agent

        return getattr(trainer_agent, name)
    if name in ("TrainingConfig", "load_training_config"):
        from intraday_rl.training import config

        return getattr(config, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
