"""Fixtures for every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _sb3_logs_in_pytest_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """SB3 models built without a tensorboard folder log into pytest's temp dir, not /tmp."""
    folder = tmp_path_factory.mktemp("sb3-logs")
    patch = pytest.MonkeyPatch()
    patch.setenv("SB3_LOGDIR", str(folder))
    yield folder
    patch.undo()
