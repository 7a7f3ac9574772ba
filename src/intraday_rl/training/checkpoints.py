"""Crash-safe checkpoints: every file is written to a temporary name, then renamed into place.

The replay buffer (off-policy algorithms) is written before the model, so a model checkpoint on
disk always has its complete buffer beside it: a run killed at any instant resumes from the
newest complete checkpoint.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

_LOG = logging.getLogger(__name__)


def checkpoint_paths(directory: Path, steps: int) -> tuple[Path, Path]:
    """(model zip, replay buffer pickle) of the checkpoint at ``steps``."""
    return (
        directory / f"model_{steps}_steps.zip",
        directory / f"model_replay_buffer_{steps}_steps.pkl",
    )


class AtomicCheckpointCallback(BaseCallback):
    """Save the model (and replay buffer) every ``save_freq`` calls, atomically."""

    def __init__(self, save_freq: int, directory: Path, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.save_freq = save_freq
        self.directory = directory

    def _init_callback(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            self.save()
        return True

    def save(self) -> Path:
        """Write the checkpoint for the current timestep and return the model's path."""
        model_path, buffer_path = checkpoint_paths(self.directory, self.num_timesteps)
        if isinstance(self.model, OffPolicyAlgorithm):
            temporary = buffer_path.with_name(buffer_path.name + ".tmp")
            self.model.save_replay_buffer(temporary)
            os.replace(temporary, buffer_path)
        temporary = model_path.with_name(model_path.stem + ".tmp.zip")
        self.model.save(temporary)
        os.replace(temporary, model_path)
        _LOG.info("checkpoint at timestep %d: %s", self.num_timesteps, model_path)
        return model_path
