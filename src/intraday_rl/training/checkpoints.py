"""Crash-safe checkpoints: every file is written to a temporary name, then renamed into place.

The replay buffer (off-policy algorithms) is written before the model, so a model checkpoint on
disk always has its complete buffer beside it: a run killed at any instant resumes from the
newest complete checkpoint.

Replay buffers are large (DQN's default 1M-transition buffer is ~87 MB per checkpoint), so only
those of the newest ``keep_replay_buffers`` complete checkpoints are kept (default
:data:`KEEP_REPLAY_BUFFERS` = 1): older ones are deleted once a newer checkpoint is complete, never
before. Older model zips stay; an off-policy run resumes only from a checkpoint that kept its
buffer.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

_LOG = logging.getLogger(__name__)
KEEP_REPLAY_BUFFERS = 1
_BUFFER_NAME = re.compile(r"model_replay_buffer_(\d+)_steps\.pkl")


def checkpoint_paths(directory: Path, steps: int) -> tuple[Path, Path]:
    """(model zip, replay buffer pickle) of the checkpoint at ``steps``."""
    return (
        directory / f"model_{steps}_steps.zip",
        directory / f"model_replay_buffer_{steps}_steps.pkl",
    )


def prune_replay_buffers(
    directory: Path, newest_steps: int, keep: int = KEEP_REPLAY_BUFFERS
) -> list[Path]:
    """Delete every replay buffer but those of the newest ``keep`` complete checkpoints.

    A checkpoint is complete when both its model zip and its buffer exist; only checkpoints at
    or before ``newest_steps`` (the one just written or resumed from) count, so buffers of a
    future a kill lost go too. Returns the deleted paths.

    Raises:
        ValueError: ``keep`` is below 1 (an off-policy run could no longer resume).
    """
    if keep < 1:
        raise ValueError(f"keep_replay_buffers: expected >= 1, was {keep}")
    buffers: dict[int, Path] = {}
    for path in directory.glob("model_replay_buffer_*_steps.pkl"):
        match = _BUFFER_NAME.fullmatch(path.name)
        if match:
            buffers[int(match.group(1))] = path
    complete = sorted(
        steps
        for steps in buffers
        if steps <= newest_steps and checkpoint_paths(directory, steps)[0].exists()
    )
    kept = set(complete[-keep:])
    if not kept:  # no complete checkpoint to fall back on: delete nothing
        return []
    deleted = []
    for steps, path in sorted(buffers.items()):
        if steps not in kept:
            path.unlink(missing_ok=True)
            deleted.append(path)
    if deleted:
        _LOG.info("pruned %d replay buffers, kept %s", len(deleted), sorted(kept))
    return deleted


class AtomicCheckpointCallback(BaseCallback):
    """Save the model (and replay buffer) every ``save_freq`` calls, atomically.

    Args:
        save_freq: Save every ``save_freq`` calls (env steps of all envs at once).
        directory: The checkpoints folder.
        keep_replay_buffers: Replay buffers of the newest checkpoints to keep (at least 1).
        verbose: SB3 verbosity.
    """

    def __init__(
        self,
        save_freq: int,
        directory: Path,
        keep_replay_buffers: int = KEEP_REPLAY_BUFFERS,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if keep_replay_buffers < 1:
            raise ValueError(f"keep_replay_buffers: expected >= 1, was {keep_replay_buffers}")
        self.save_freq = save_freq
        self.directory = directory
        self.keep_replay_buffers = keep_replay_buffers

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
        if isinstance(self.model, OffPolicyAlgorithm):  # complete now: older buffers may go
            prune_replay_buffers(self.directory, self.num_timesteps, self.keep_replay_buffers)
        return model_path
