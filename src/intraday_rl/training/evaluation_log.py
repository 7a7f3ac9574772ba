"""ResumableEvalCallback: SB3's ``EvalCallback`` that a kill and a resume do not make forget.

SB3's ``EvalCallback`` starts every ``learn`` with empty evaluation lists and a best mean reward
of -inf, so after ``intraday-rl train --resume`` it overwrites ``eval/evaluations.npz`` without
the evaluations before the kill, and its first evaluation overwrites ``best/best_model.zip`` (the
model that gets exported) however the model before the kill scored. This subclass:

- restores ``evaluations_timesteps``, ``evaluations_results`` and ``evaluations_length`` from
  ``eval/evaluations.npz`` when training starts, keeping only the evaluations at or before the
  resumed model's timestep (those after it belong to the future the kill lost), and rewrites the
  file without them;
- restores ``best_mean_reward`` from ``best/best_model.json`` (the score of ``best_model.zip``), so
  a new evaluation replaces the best model only when its mean beats it. A best model saved after
  the checkpoint stays: it was scored on the same validation sessions. Runs written before
  ``best_model.json`` existed: the highest mean in ``evaluations.npz`` (before any truncation);
- writes ``evaluations.npz``, ``best_model.json`` and ``best_model.zip`` to temporary names and
  renames them into place, so a kill never leaves half of one (the score first: a kill between the
  two renames leaves a best that is at worst harder to beat, never easier).
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.vec_env import VecEnv

_LOG = logging.getLogger(__name__)
EVALUATIONS_FILE = "evaluations.npz"
BEST_MODEL_FILE = "best_model.zip"
BEST_SCORE_FILE = "best_model.json"
# The name EvalCallback's np.savez writes to (it appends ".npz"); renamed into place after.
_TEMPORARY_LOG = ".evaluations.tmp"


@dataclass(frozen=True, slots=True)
class Evaluations:
    """An ``evaluations.npz``: per evaluation, its timestep and each episode's return and length."""

    timesteps: list[int]
    results: list[list[float]]
    lengths: list[list[int]]

    def until(self, timestep: int) -> Evaluations:
        """The evaluations made at or before ``timestep``."""
        keep = [i for i, step in enumerate(self.timesteps) if step <= timestep]
        return Evaluations(
            [self.timesteps[i] for i in keep],
            [self.results[i] for i in keep],
            [self.lengths[i] for i in keep],
        )

    def best_mean(self) -> float:
        """The highest mean episode return of any evaluation (-inf when there is none)."""
        return max((float(np.mean(returns)) for returns in self.results), default=-np.inf)


def read_evaluations(path: Path) -> Evaluations | None:
    """Read an ``evaluations.npz``; None when it is missing or unreadable (logged)."""
    if not path.exists():
        return None
    try:
        with np.load(path) as data:
            return Evaluations(
                [int(step) for step in data["timesteps"]],
                [[float(value) for value in row] for row in data["results"]],
                [[int(value) for value in row] for row in data["ep_lengths"]],
            )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        _LOG.warning("%s: unreadable, evaluations start afresh: %s", path, error)
        return None


def write_evaluations(path: Path, evaluations: Evaluations) -> None:
    """Write ``evaluations`` as EvalCallback does, atomically (temporary name, then rename)."""
    temporary = path.with_name(_TEMPORARY_LOG + ".npz")
    np.savez(
        temporary,
        timesteps=np.asarray(evaluations.timesteps, dtype=np.int64),
        results=np.asarray(evaluations.results, dtype=np.float64),
        ep_lengths=np.asarray(evaluations.lengths, dtype=np.int64),
    )
    os.replace(temporary, path)


class ResumableEvalCallback(EvalCallback):
    """Evaluate on the validation env, keeping the log and the best model across resumes.

    Args:
        eval_env: The validation env.
        log_dir: Folder of ``evaluations.npz``.
        best_dir: Folder of ``best_model.zip`` and ``best_model.json``.
        restore: Restore the log and the best score found there when training starts (a resumed
            run); otherwise start afresh as ``EvalCallback`` does.
        callback_after_eval: Runs after each evaluation, with this callback as its parent.
        n_eval_episodes: Episodes per evaluation.
        eval_freq: Evaluate every ``eval_freq`` calls (env steps of all envs at once).
        deterministic: Greedy actions.
        verbose: SB3 verbosity.
    """

    def __init__(
        self,
        eval_env: VecEnv,
        *,
        log_dir: Path,
        best_dir: Path,
        restore: bool,
        callback_after_eval: BaseCallback | None = None,
        n_eval_episodes: int = 5,
        eval_freq: int = 10_000,
        deterministic: bool = True,
        verbose: int = 0,
    ) -> None:
        # No best_model_save_path: this class saves the best model itself, atomically.
        super().__init__(
            eval_env,
            callback_after_eval=callback_after_eval,
            n_eval_episodes=n_eval_episodes,
            eval_freq=eval_freq,
            log_path=str(log_dir),
            deterministic=deterministic,
            verbose=verbose,
        )
        self.log_file = log_dir / EVALUATIONS_FILE
        self.best_dir = best_dir
        self.restore = restore
        self.log_path = str(log_dir / _TEMPORARY_LOG)

    def _init_callback(self) -> None:
        super()._init_callback()
        self.best_dir.mkdir(parents=True, exist_ok=True)
        if self.restore:
            self._restore(self.model.num_timesteps)

    def _restore(self, timestep: int) -> None:
        recorded = read_evaluations(self.log_file)
        kept = recorded.until(timestep) if recorded is not None else Evaluations([], [], [])
        self.evaluations_timesteps = kept.timesteps
        self.evaluations_results = kept.results
        self.evaluations_length = kept.lengths
        if recorded is not None and len(kept.timesteps) < len(recorded.timesteps):
            write_evaluations(self.log_file, kept)
        self.best_mean_reward = self._restored_best(recorded)
        _LOG.info(
            "restored %d evaluations up to timestep %d (dropped %d after it), best mean reward %g",
            len(kept.timesteps),
            timestep,
            len(recorded.timesteps) - len(kept.timesteps) if recorded is not None else 0,
            self.best_mean_reward,
        )

    def _restored_best(self, recorded: Evaluations | None) -> float:
        # The score of best_model.zip: its sidecar, else (older runs) the best recorded mean.
        if not (self.best_dir / BEST_MODEL_FILE).exists():
            return -np.inf
        try:
            score = json.loads((self.best_dir / BEST_SCORE_FILE).read_text(encoding="utf-8"))
            return float(score["mean_reward"])
        except (OSError, ValueError, KeyError, TypeError):
            return recorded.best_mean() if recorded is not None else -np.inf

    def _on_step(self) -> bool:
        best_before = self.best_mean_reward
        keep_training = super()._on_step()
        temporary = self.log_file.with_name(_TEMPORARY_LOG + ".npz")
        if temporary.exists():
            os.replace(temporary, self.log_file)
        if self.best_mean_reward > best_before:
            self._save_best()
        return keep_training

    def _save_best(self) -> None:
        score = {"timestep": self.num_timesteps, "mean_reward": self.best_mean_reward}
        score_path = self.best_dir / BEST_SCORE_FILE
        temporary_score = score_path.with_name(f".{BEST_SCORE_FILE}.tmp")
        temporary_score.write_text(json.dumps(score) + "\n", encoding="utf-8")
        os.replace(temporary_score, score_path)
        temporary = self.best_dir / f".{BEST_MODEL_FILE.removesuffix('.zip')}.tmp.zip"
        self.model.save(temporary)
        os.replace(temporary, self.best_dir / BEST_MODEL_FILE)
        _LOG.info("best mean reward %g at timestep %d", self.best_mean_reward, self.num_timesteps)
