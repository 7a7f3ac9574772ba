"""RiskAwareCallback: risk metrics into TensorBoard, and an early stop when risk stays too high."""

from __future__ import annotations

import json
import logging
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from intraday_rl.training.interfaces.risk_advisor import RiskAdvisor
from intraday_rl.training.risk_shaping import GROSS, PENALTY, SEVERITY, SHAPED

_LOG = logging.getLogger(__name__)
EARLY_STOP_FILE = "early_stop.json"


class RiskAwareCallback(BaseCallback):
    """Log the shaping terms and stop training when mean breach severity stays above a threshold.

    Reads the risk keys the shaping wrappers put into each step's infos. The rolling window holds
    the mean severity across envs of the last ``window`` steps; once full, a mean above
    ``early_stop_threshold`` stops training, and the reason is logged and written to
    ``<run_dir>/early_stop.json``.
    """

    def __init__(
        self,
        risk_advisor: RiskAdvisor | None,
        penalty_weight: float,
        early_stop_threshold: float | None = None,
        window: int = 2_000,
        log_freq: int = 100,
        run_dir: Path | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        self.risk_advisor = risk_advisor
        self.penalty_weight = penalty_weight
        self.early_stop_threshold = early_stop_threshold
        self.window = window
        self.log_freq = log_freq
        self.run_dir = run_dir
        self.stop_reason: str | None = None
        self._severity: deque[float] = deque(maxlen=window)
        self._sums = dict.fromkeys((GROSS, PENALTY, SHAPED, SEVERITY), 0.0)
        self._count = 0

    def _on_training_start(self) -> None:
        policy_hash = getattr(self.risk_advisor, "policy_hash", None)
        if policy_hash:
            _LOG.info("risk policy %s, penalty weight %g", policy_hash, self.penalty_weight)

    def _on_step(self) -> bool:
        infos: list[dict[str, Any]] = self.locals.get("infos", [])
        risk_infos = [info for info in infos if PENALTY in info]
        if not risk_infos:
            return True
        for key in self._sums:
            self._sums[key] += float(sum(info[key] for info in risk_infos))
        self._count += len(risk_infos)
        severities = [info[SEVERITY] for info in risk_infos]
        self._severity.append(float(np.mean(np.minimum(severities, 1e6))))
        if self.n_calls % self.log_freq == 0:
            self._flush()
        return self._keep_training()

    def _flush(self) -> None:
        if self._count:
            for key, total in self._sums.items():
                self.logger.record(key, total / self._count)
            self.logger.record("risk/rolling_breach_severity", float(np.mean(self._severity)))
        self._sums = dict.fromkeys(self._sums, 0.0)
        self._count = 0

    def _keep_training(self) -> bool:
        threshold = self.early_stop_threshold
        if threshold is None or len(self._severity) < self.window:
            return True
        rolling = float(np.mean(self._severity))
        if rolling <= threshold:
            return True
        self.stop_reason = (
            f"rolling mean breach severity {rolling:.4g} over the last {self.window} steps "
            f"stayed above early_stop_threshold {threshold:g} at timestep {self.num_timesteps}"
        )
        _LOG.warning("early stop: %s", self.stop_reason)
        self.logger.record("risk/early_stop", 1.0)
        self._flush()
        if self.run_dir is not None:
            record = {
                "reason": self.stop_reason,
                "timestep": self.num_timesteps,
                "rolling_breach_severity": rolling,
                "threshold": threshold,
                "window": self.window,
            }
            (self.run_dir / EARLY_STOP_FILE).write_text(json.dumps(record, indent=2) + "\n")
        return False

    def _on_training_end(self) -> None:
        self._flush()
