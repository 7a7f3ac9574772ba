"""Run directories and lineage: what a run used, written next to what it produced.

``runs/<name>-<YYYYmmdd-HHMMSS>/``::

    config.yaml        the resolved config (every default filled in)
    lineage.json       config hash, data fingerprint, feature spec hash, risk policy hash,
                       git commit, package versions, seed, created_at
    tensorboard/       SB3 and risk metrics
    checkpoints/       model_<steps>_steps.zip (+ replay buffer for DQN / QR-DQN)
    best/              best model on the validation sessions (best_model.zip) and its score
                       (best_model.json)
    eval/              evaluations.npz: every validation evaluation, kept across resumes
    evaluation.json    the final model's validation summary
    early_stop.json    only when the risk early stop fired, with its reason
    training.log       the run's log
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from intraday_rl.shared.errors import ConfigError
from intraday_rl.training.config import TrainingConfig

_LOG = logging.getLogger(__name__)
CONFIG_FILE = "config.yaml"
LINEAGE_FILE = "lineage.json"
CHECKPOINT_DIR = "checkpoints"
# Folders whose files are written to a temporary name containing ".tmp", then renamed.
ATOMIC_WRITE_DIRS = (CHECKPOINT_DIR, "best", "eval")
PACKAGES = (
    "intraday-rl",
    "torch",
    "stable-baselines3",
    "sb3-contrib",
    "gymnasium",
    "numpy",
    "numba",
    "pandas",
    "pydantic",
)


def create_run_dir(config: TrainingConfig, now: dt.datetime | None = None) -> Path:
    """Create ``<runs_dir>/<name>-<timestamp>`` (suffixed ``-2``, ``-3`` … if taken)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = config.run.runs_dir / f"{config.run.name}-{stamp}"
    path, suffix = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            break
        except FileExistsError:
            suffix += 1
            path = base.with_name(f"{base.name}-{suffix}")
    (path / CONFIG_FILE).write_text(
        yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )
    return path


def git_commit(start: Path | None = None) -> str | None:
    """The checkout's HEAD commit, or None outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=start or Path.cwd(),
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def write_lineage(run_dir: Path, lineage: dict[str, Any]) -> Path:
    """Write ``lineage.json`` (sorted keys) and return its path."""
    path = run_dir / LINEAGE_FILE
    path.write_text(json.dumps(lineage, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_lineage(run_dir: Path) -> dict[str, Any]:
    """Read a run's ``lineage.json``."""
    data: dict[str, Any] = json.loads((run_dir / LINEAGE_FILE).read_text(encoding="utf-8"))
    return data


def checkpoints_newest_first(run_dir: Path) -> list[tuple[int, Path]]:
    """Every ``model_<steps>_steps.zip`` of a run as (timestep, path), newest first."""
    found = []
    for path in (run_dir / CHECKPOINT_DIR).glob("model_*_steps.zip"):
        match = re.fullmatch(r"model_(\d+)_steps\.zip", path.name)
        if match:
            found.append((int(match.group(1)), path))
    if not found:
        raise ConfigError(f"{run_dir}: no checkpoint to resume from in {CHECKPOINT_DIR}/")
    return sorted(found, reverse=True)


def remove_interrupted_writes(run_dir: Path) -> list[Path]:
    """Delete what a killed run left half-written in ``run_dir``; return the removed paths.

    Removes the temporary folders of a bundle export (``.<name>.tmp-*``, see
    ``bundle.storage.make_temp_folder``) and the temporary files (names containing ``.tmp``) in
    ``checkpoints/``, ``best/`` and ``eval/``. A bundle's backup (``.<name>.old-*``) is removed
    when its bundle is in place, and renamed back into place when a kill cut the swap short.
    """
    removed: list[Path] = []
    for backup in sorted(run_dir.glob(".*.old-*")):
        target = run_dir / backup.name[1:].split(".old-")[0]
        if backup.is_dir() and not target.exists():
            os.rename(backup, target)
            _LOG.info("restored %s from %s", target.name, backup.name)
            continue
        removed.append(backup)
    removed.extend(path for path in sorted(run_dir.glob(".*.tmp-*")) if path.is_dir())
    for folder in ATOMIC_WRITE_DIRS:
        removed.extend(path for path in sorted((run_dir / folder).glob("*.tmp*")) if path.is_file())
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        _LOG.info("removed %s, left by an interrupted run", path.relative_to(run_dir))
    return removed
