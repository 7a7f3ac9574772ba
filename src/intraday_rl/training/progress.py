"""A rich progress bar for training (SB3's own needs tqdm, which we do not ship)."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from stable_baselines3.common.callbacks import BaseCallback


class RichProgressCallback(BaseCallback):
    """Show timesteps done out of ``total_timesteps`` with rich."""

    def __init__(self, total_timesteps: int) -> None:
        super().__init__()
        self.total_timesteps = total_timesteps
        self._progress = Progress(
            TextColumn("training"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._progress.add_task("train", total=total_timesteps)

    def _on_training_start(self) -> None:
        self._progress.start()
        self._progress.update(self._task, completed=self.num_timesteps)

    def _on_step(self) -> bool:
        if self.n_calls % 64 == 0:
            self._progress.update(self._task, completed=self.num_timesteps)
        return True

    def _on_training_end(self) -> None:
        self._progress.update(self._task, completed=self.num_timesteps)
        self._progress.stop()
