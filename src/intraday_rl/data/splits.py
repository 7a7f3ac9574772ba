"""Chronological splits and walk-forward folds of sessions, always by whole trading dates.

Every symbol's session of a date falls in the same split, so a model never trains on one symbol's
Tuesday and is tested on another's. Within each split, sessions are ordered by date, then symbol.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from intraday_rl.data.config import SplitConfig, WalkForwardConfig
from intraday_rl.data.sessions import Session
from intraday_rl.shared.errors import DataError

__all__ = [
    "Fold",
    "SessionSplit",
    "session_dates",
    "split_chronological",
    "walk_forward_folds",
]


@dataclass(frozen=True, slots=True)
class SessionSplit:
    """Train, validation and test sessions; every train date precedes every validation date,
    which precedes every test date."""

    train: tuple[Session, ...]
    validation: tuple[Session, ...]
    test: tuple[Session, ...]


@dataclass(frozen=True, slots=True)
class Fold:
    """One walk-forward fold: train on ``train``, evaluate on the later ``test``."""

    index: int
    train: tuple[Session, ...]
    test: tuple[Session, ...]

    @property
    def train_dates(self) -> list[dt.date]:
        """Distinct train dates, ascending."""
        return session_dates(self.train)

    @property
    def test_dates(self) -> list[dt.date]:
        """Distinct test dates, ascending."""
        return session_dates(self.test)


def session_dates(sessions: Sequence[Session]) -> list[dt.date]:
    """Return the distinct dates of ``sessions``, ascending."""
    return sorted({session.date for session in sessions})


def split_chronological(sessions: Sequence[Session], config: SplitConfig) -> SessionSplit:
    """Split sessions by date into train, validation and test, in that order in time.

    With ``n`` distinct dates, train takes ``floor(n * train_fraction)`` dates and validation
    ``floor(n * validation_fraction)``, each at least one; test takes the rest.

    Raises:
        DataError: If there are fewer than three dates, or the fractions leave a split empty.
    """
    dates = session_dates(sessions)
    n_dates = len(dates)
    n_train = max(1, int(n_dates * config.train_fraction))
    n_validation = max(1, int(n_dates * config.validation_fraction))
    n_test = n_dates - n_train - n_validation
    if n_test < 1:
        raise DataError(
            f"split_chronological: {n_dates} dates give train={n_train}, "
            f"validation={n_validation}, test={n_test}; every split needs at least one date, "
            f"so at least {_dates_needed(config)} dates are needed with these fractions"
        )
    ordered = _by_date(sessions)
    train_end = dates[n_train - 1]
    validation_end = dates[n_train + n_validation - 1]
    return SessionSplit(
        train=tuple(s for s in ordered if s.date <= train_end),
        validation=tuple(s for s in ordered if train_end < s.date <= validation_end),
        test=tuple(s for s in ordered if s.date > validation_end),
    )


def _dates_needed(config: SplitConfig) -> int:
    # The smallest n whose floors leave a test date; n >= 2 / test_fraction always does.
    enough = math.ceil(2.0 / config.test_fraction) + 3
    for n_dates in range(3, min(enough, 100_000)):
        n_train = max(1, int(n_dates * config.train_fraction))
        n_validation = max(1, int(n_dates * config.validation_fraction))
        if n_dates - n_train - n_validation >= 1:
            return n_dates
    return enough


def walk_forward_folds(sessions: Sequence[Session], config: WalkForwardConfig) -> list[Fold]:
    """Build walk-forward folds over dates; the last fold's test ends on the last date.

    Fold ``k`` (0-based) tests on ``test_sessions`` dates starting
    ``embargo_sessions`` dates after its train end; consecutive test windows touch but never
    overlap and move forward in time. Anchored mode trains on every date from the first one to
    the embargo (at least ``train_sessions`` dates, more when data is left over); sliding mode
    trains on exactly the ``train_sessions`` dates before the embargo.

    Raises:
        DataError: If there are fewer dates than ``train + embargo + n_folds * test``.
    """
    dates = session_dates(sessions)
    if len(dates) < config.min_dates:
        raise DataError(
            f"walk_forward_folds: need {config.min_dates} dates (train {config.train_sessions} "
            f"+ embargo {config.embargo_sessions} + {config.n_folds} folds x "
            f"{config.test_sessions} test), have {len(dates)}"
        )
    ordered = _by_date(sessions)
    # Left-over dates go to the front: anchored folds train on them, sliding folds skip them.
    first_test = len(dates) - config.n_folds * config.test_sessions
    folds = []
    for index in range(config.n_folds):
        test_start = first_test + index * config.test_sessions
        train_end = test_start - config.embargo_sessions
        train_start = 0 if config.mode == "anchored" else train_end - config.train_sessions
        train_dates = set(dates[train_start:train_end])
        test_dates = set(dates[test_start : test_start + config.test_sessions])
        folds.append(
            Fold(
                index=index,
                train=tuple(s for s in ordered if s.date in train_dates),
                test=tuple(s for s in ordered if s.date in test_dates),
            )
        )
    return folds


def _by_date(sessions: Sequence[Session]) -> list[Session]:
    return sorted(sessions, key=lambda session: (session.date, session.symbol))
