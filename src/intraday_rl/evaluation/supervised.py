"""The supervised baseline: does RL beat a simple forecaster trading through the same env?

A scikit-learn regressor (standardized ridge, or a small histogram gradient boosting model) is
fitted on the **train** env's sessions, from the market-feature part of the observation at bar
``t`` to the log return a position decided at that bar's close would earn over the next decision
step. With horizon ``h`` (the env's ``decision_every`` by default) and fill delay ``d`` (the env's
``costs.fill_delay_bars``, 1 by default) that label is::

    y[t] = log(close[min(t + d + h - 1, last)] / open[t + d])
         = log(close[min(t + h, last)] / open[t + 1])              when d = 1

Rows whose fill would fall after the session's last bar (``t + d > last``: the last bar with
``d = 1``) have no label and are skipped. The portfolio fields of the observation depend on the
policy that produced it, so they are not inputs; the feature window at bar ``t`` only reads bars up
to ``t`` (the env's look-ahead canaries prove it), so the model is causal.

The policy goes long the largest position level when the prediction exceeds ``threshold``, short
the most negative one below ``-threshold``, and flat otherwise. :func:`fit_supervised_baseline`
chooses the threshold on the **validation** env's sessions by net P&L; test sessions are never
seen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import numpy as np
import numpy.typing as npt

from intraday_rl.env.episodes import EpisodeBook
from intraday_rl.env.trading_env import IntradayTradingEnv
from intraday_rl.evaluation.baselines import level_index
from intraday_rl.evaluation.metrics import EvaluationError
from intraday_rl.evaluation.rollout import evaluate_policy
from intraday_rl.shared.arrays import Float32Array, FloatArray, IntArray

SupervisedKind = Literal["ridge", "gbm"]
SUPERVISED_KINDS: Final[tuple[str, ...]] = get_args(SupervisedKind)
"""Model kinds: ``ridge`` (standardized inputs, RidgeCV alpha), ``gbm`` (HistGradientBoosting)."""
RIDGE_ALPHAS: Final[tuple[float, ...]] = tuple(float(a) for a in np.logspace(-2, 4, 13))
"""Ridge penalties RidgeCV chooses from (efficient leave-one-out on the training rows)."""
THRESHOLD_QUANTILES: Final[tuple[float, ...]] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
"""Quantiles of |prediction| on validation that make the default threshold grid."""
MAX_TRAINING_ROWS: Final = 200_000
"""Training rows kept at most (a seeded subsample beyond), so a fit stays ~20 s on one core."""
MIN_TRAINING_ROWS: Final = 100
"""Fewer labelled training rows than this is an error."""


@dataclass(frozen=True, slots=True)
class SupervisedRows:
    """Labelled rows of a book: inputs, forward-return labels and where each row comes from.

    Attributes:
        features: (n, W*F) float32, the feature window ending at each row's bar.
        targets: (n,) float64, the forward log return of a position decided at that bar.
        session_indices: (n,) index of each row's session in the book.
        bar_indices: (n,) bar ``t`` of each row.
    """

    features: Float32Array
    targets: FloatArray
    session_indices: IntArray
    bar_indices: IntArray

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.targets.shape[0])


def forward_returns(
    open_: npt.ArrayLike, close: npt.ArrayLike, horizon: int, fill_delay_bars: int = 1
) -> FloatArray:
    """Return the label of every bar of one session: NaN where the fill falls after the last bar.

    ``y[t] = log(close[min(t + d + h - 1, last)] / open[t + d])`` (module docstring).

    >>> forward_returns([1.0, 2.0, 4.0], [2.0, 4.0, 8.0], horizon=2).round(3).tolist()
    [1.386, 0.693, nan]

    Raises:
        EvaluationError: If ``horizon`` or ``fill_delay_bars`` is not >= 1.
    """
    _check_positive_int("horizon", horizon)
    _check_positive_int("fill_delay_bars", fill_delay_bars)
    opens = np.asarray(open_, dtype=np.float64)
    closes = np.asarray(close, dtype=np.float64)
    last = closes.shape[0] - 1
    labels = np.full(closes.shape[0], np.nan)
    bars = np.arange(max(last - fill_delay_bars + 1, 0))
    start = bars + fill_delay_bars
    end = np.minimum(start + horizon - 1, last)
    labels[bars] = np.log(closes[end] / opens[start])
    return labels


def supervised_rows(book: EpisodeBook, horizon: int, fill_delay_bars: int = 1) -> SupervisedRows:
    """Return every labelled (feature window, forward return) row of ``book``, session by session.

    Raises:
        EvaluationError: If ``horizon`` or ``fill_delay_bars`` is not >= 1.
    """
    features, targets, sessions, bars = [], [], [], []
    for index, session in enumerate(book.sessions):
        labels = forward_returns(session.open, session.close, horizon, fill_delay_bars)
        keep = np.flatnonzero(np.isfinite(labels))
        features.append(np.asarray(book.windows[index][keep], dtype=np.float32))
        targets.append(labels[keep])
        sessions.append(np.full(keep.shape[0], index, dtype=np.int64))
        bars.append(keep.astype(np.int64))
    return SupervisedRows(
        np.concatenate(features),
        np.concatenate(targets),
        np.concatenate(sessions),
        np.concatenate(bars),
    )


class SupervisedForecaster:
    """A scikit-learn regressor from the observation's feature window to the forward return.

    Args:
        kind: ``"ridge"`` or ``"gbm"`` (see :data:`SUPERVISED_KINDS`).
        ridge_alpha: A fixed ridge penalty; None chooses one from :data:`RIDGE_ALPHAS` by RidgeCV.
        max_rows: Fit on a seeded subsample of at most this many rows.
        seed: Seeds the subsample and the gradient boosting's early-stopping split.

    Raises:
        EvaluationError: For an unknown ``kind``, ``ridge_alpha <= 0`` or ``max_rows`` below
            :data:`MIN_TRAINING_ROWS`.
    """

    def __init__(
        self,
        kind: SupervisedKind = "ridge",
        *,
        ridge_alpha: float | None = None,
        max_rows: int = MAX_TRAINING_ROWS,
        seed: int = 0,
    ) -> None:
        if kind not in SUPERVISED_KINDS:
            raise EvaluationError(f"kind: expected one of {list(SUPERVISED_KINDS)}, was {kind!r}")
        if ridge_alpha is not None and not (math.isfinite(ridge_alpha) and ridge_alpha > 0.0):
            raise EvaluationError(f"ridge_alpha: expected a finite value > 0, was {ridge_alpha}")
        if max_rows < MIN_TRAINING_ROWS:
            raise EvaluationError(f"max_rows: expected >= {MIN_TRAINING_ROWS}, was {max_rows}")
        self.kind = kind
        self.ridge_alpha = ridge_alpha
        self.max_rows = max_rows
        self.seed = seed
        self.n_rows = 0
        self.train_r2 = math.nan
        self._model: Any = None
        self._n_inputs = 0

    @property
    def model(self) -> Any:
        """The fitted scikit-learn estimator (a ``Pipeline`` for ridge).

        Raises:
            EvaluationError: If the forecaster is not fitted yet.
        """
        if self._model is None:
            raise EvaluationError("forecaster: expected a fitted model, was not fitted (call fit)")
        return self._model

    @property
    def n_inputs(self) -> int:
        """Width of an input row (W*F), 0 before fitting."""
        return self._n_inputs

    def fit(self, features: npt.ArrayLike, targets: npt.ArrayLike) -> SupervisedForecaster:
        """Fit on rows (n, W*F) and labels (n,), subsampled to ``max_rows``; return ``self``.

        Raises:
            EvaluationError: If the shapes disagree, a value is not finite, or there are fewer
                than :data:`MIN_TRAINING_ROWS` rows.
        """
        inputs, labels = _check_rows(features, targets)
        if inputs.shape[0] > self.max_rows:
            rng = np.random.default_rng(self.seed)
            keep = np.sort(rng.choice(inputs.shape[0], self.max_rows, replace=False))
            inputs, labels = inputs[keep], labels[keep]
        self._model = self._make_model().fit(inputs, labels)
        self._n_inputs = inputs.shape[1]
        self.n_rows = int(inputs.shape[0])
        self.train_r2 = self.score(inputs, labels)
        return self

    def predict(self, features: npt.ArrayLike) -> FloatArray:
        """Return the predicted forward log return of each row (n, W*F).

        Raises:
            EvaluationError: If not fitted or the rows are not (n, n_inputs).
        """
        model = self.model
        inputs = np.asarray(features, dtype=np.float32)
        if inputs.ndim != 2 or inputs.shape[1] != self._n_inputs:
            raise EvaluationError(
                f"features: expected shape (n, {self._n_inputs}), was {inputs.shape}"
            )
        return np.asarray(model.predict(inputs), dtype=np.float64)

    def score(self, features: npt.ArrayLike, targets: npt.ArrayLike) -> float:
        """Return the R² of the predictions on rows and labels (1 is perfect, 0 the mean)."""
        inputs, labels = _check_rows(features, targets, minimum=2)
        residual = float(np.sum((labels - self.predict(inputs)) ** 2))
        total = float(np.sum((labels - labels.mean()) ** 2))
        return 1.0 - residual / total if total > 0.0 else math.nan

    def _make_model(self) -> Any:
        # Imported here: scikit-learn takes about a second to import and is needed only to fit.
        if self.kind == "gbm":
            from sklearn.ensemble import HistGradientBoostingRegressor

            return HistGradientBoostingRegressor(
                learning_rate=0.05,
                max_iter=200,
                max_leaf_nodes=15,
                min_samples_leaf=50,
                l2_regularization=1.0,
                early_stopping=True,
                validation_fraction=0.1,
                n_iter_no_change=10,
                random_state=self.seed,
            )
        from sklearn.linear_model import Ridge, RidgeCV
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        regressor = (
            RidgeCV(alphas=RIDGE_ALPHAS)
            if self.ridge_alpha is None
            else Ridge(alpha=self.ridge_alpha)
        )
        return Pipeline([("scale", StandardScaler()), ("ridge", regressor)])


class SupervisedPolicy:
    """Trades a forecaster's prediction: long above ``threshold``, short below ``-threshold``.

    Long is the largest position level (``max_exposure`` for box actions), short the most negative
    one (``-max_exposure``), flat otherwise. The whole session's predictions are computed in one
    ``predict`` call at its first bar from the env's episode book.

    Raises:
        EvaluationError: If ``threshold`` is not finite and >= 0, or the forecaster is not fitted.
    """

    def __init__(
        self, forecaster: SupervisedForecaster, threshold: float, name: str | None = None
    ) -> None:
        if not (math.isfinite(threshold) and threshold >= 0.0):
            raise EvaluationError(f"threshold: expected a finite value >= 0, was {threshold}")
        if forecaster.n_inputs == 0:
            raise EvaluationError("forecaster: expected a fitted model, was not fitted (call fit)")
        self.forecaster = forecaster
        self.threshold = float(threshold)
        self.name = name or f"supervised_{forecaster.kind}"
        self._book: EpisodeBook | None = None
        self._index_of: dict[int, int] = {}
        self._session_id = -1
        self._predictions: FloatArray = np.zeros(0)

    def act(self, observation: npt.NDArray[np.float32], env: IntradayTradingEnv) -> Any:
        """Return the action for the env's current bar (observation unused: see the class)."""
        session = env.session
        if env.bar_index == 0 or id(session) != self._session_id or env.book is not self._book:
            self._predictions = self.session_predictions(env)
            self._session_id = id(session)
        signal = _side(float(self._predictions[env.bar_index]), self.threshold)
        return _signal_action(env, signal)

    def session_predictions(self, env: IntradayTradingEnv) -> FloatArray:
        """Return the forecaster's prediction at every bar of the env's current session."""
        if env.book is not self._book:
            self._book = env.book
            self._index_of = {id(s): i for i, s in enumerate(env.book.sessions)}
        windows = env.book.windows[self._index_of[id(env.session)]]
        return self.forecaster.predict(windows)


def fit_supervised_baseline(
    train_env: IntradayTradingEnv,
    validation_env: IntradayTradingEnv,
    kind: SupervisedKind = "ridge",
    thresholds: Sequence[float] | None = None,
    horizon: int | None = None,
    *,
    seed: int = 0,
    max_rows: int = MAX_TRAINING_ROWS,
) -> tuple[SupervisedPolicy, dict[str, Any]]:
    """Fit a forecaster on ``train_env``'s sessions and choose its threshold on ``validation_env``.

    The threshold grid is ``thresholds`` or the :data:`THRESHOLD_QUANTILES` of |prediction| on the
    validation rows. Each is played through ``validation_env`` (all its sessions, one account); the
    highest net P&L wins (the smallest threshold on ties). Never trading earns 0: when every
    threshold loses, the largest one (the least trading) is chosen and ``all_lose`` is True.

    Args:
        train_env: Its sessions are the training rows.
        validation_env: Its sessions choose the threshold and give the validation R².
        kind: ``"ridge"`` or ``"gbm"``.
        thresholds: Absolute thresholds (log returns) to try instead of the quantile grid.
        horizon: Label horizon in bars; default ``train_env.config.decision_every``.
        seed: Seeds the row subsample and the gradient boosting.
        max_rows: Training rows kept at most.

    Returns:
        The policy, and a report: ``kind``, ``horizon``, ``n_rows``, ``train_r2``,
        ``validation_r2``, ``thresholds``, ``validation_net_pnl`` (one per threshold),
        ``threshold`` (chosen), ``chosen_validation_net_pnl``, ``all_lose``.

    Raises:
        EvaluationError: For an unknown ``kind``, envs of different feature specs or windows, a
            bad horizon or threshold, or too few training rows.
    """
    forecaster = SupervisedForecaster(kind, max_rows=max_rows, seed=seed)
    _check_same_features(train_env, validation_env)
    horizon = train_env.config.decision_every if horizon is None else horizon
    _check_positive_int("horizon", horizon)
    train = supervised_rows(train_env.book, horizon, train_env.config.costs.fill_delay_bars)
    if train.n_rows < MIN_TRAINING_ROWS:
        raise EvaluationError(
            f"train_env: expected >= {MIN_TRAINING_ROWS} labelled rows, was {train.n_rows} "
            "(give it more or longer sessions)"
        )
    forecaster.fit(train.features, train.targets)
    validation = supervised_rows(
        validation_env.book, horizon, validation_env.config.costs.fill_delay_bars
    )
    grid = _threshold_grid(forecaster, validation, thresholds)
    pnl = [
        evaluate_policy(validation_env, SupervisedPolicy(forecaster, threshold))[0].net_pnl
        for threshold in grid
    ]
    all_lose = max(pnl) < 0.0
    chosen = grid[-1] if all_lose else grid[int(np.argmax(pnl))]
    report: dict[str, Any] = {
        "kind": kind,
        "horizon": horizon,
        "n_rows": forecaster.n_rows,
        "train_r2": forecaster.train_r2,
        "validation_r2": (
            forecaster.score(validation.features, validation.targets)
            if validation.n_rows >= 2
            else math.nan
        ),
        "thresholds": grid,
        "validation_net_pnl": pnl,
        "threshold": chosen,
        "chosen_validation_net_pnl": pnl[grid.index(chosen)],
        "all_lose": all_lose,
    }
    return SupervisedPolicy(forecaster, chosen), report


def _threshold_grid(
    forecaster: SupervisedForecaster,
    validation: SupervisedRows,
    thresholds: Sequence[float] | None,
) -> list[float]:
    # Sorted distinct thresholds: the given ones, or quantiles of |prediction| on validation.
    if thresholds is None:
        if validation.n_rows == 0:
            raise EvaluationError("validation_env: expected labelled rows, was none")
        magnitude = np.abs(forecaster.predict(validation.features))
        values = np.quantile(magnitude, THRESHOLD_QUANTILES)
    else:
        values = np.asarray(thresholds, dtype=np.float64)
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0.0):
            raise EvaluationError(
                f"thresholds: expected finite values >= 0, at least one, was {list(thresholds)}"
            )
    return [float(value) for value in np.unique(values)]


def _check_same_features(train_env: IntradayTradingEnv, validation_env: IntradayTradingEnv) -> None:
    train, validation = train_env.book, validation_env.book
    if train.spec != validation.spec or train.layout.window != validation.layout.window:
        raise EvaluationError(
            "validation_env: expected the train env's features "
            f"{list(train.layout.feature_names)} over {train.layout.window} bars, was "
            f"{list(validation.layout.feature_names)} over {validation.layout.window} bars"
        )


def _check_rows(
    features: npt.ArrayLike, targets: npt.ArrayLike, minimum: int = MIN_TRAINING_ROWS
) -> tuple[Float32Array, FloatArray]:
    inputs = np.asarray(features, dtype=np.float32)
    labels = np.asarray(targets, dtype=np.float64)
    if inputs.ndim != 2 or labels.shape != (inputs.shape[0],):
        raise EvaluationError(
            f"features, targets: expected shapes (n, k) and (n,), was {inputs.shape} and "
            f"{labels.shape}"
        )
    if inputs.shape[0] < minimum:
        raise EvaluationError(f"features: expected >= {minimum} rows, was {inputs.shape[0]}")
    if not (np.all(np.isfinite(inputs)) and np.all(np.isfinite(labels))):
        raise EvaluationError("features, targets: expected finite values, was NaN or inf")
    return inputs, labels


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise EvaluationError(f"{name}: expected an integer >= 1, was {value!r}")


def _side(value: float, threshold: float) -> float:
    # +1 beyond +threshold, -1 beyond -threshold, 0 inside.
    return 1.0 if value > threshold else -1.0 if value < -threshold else 0.0


def _signal_action(env: IntradayTradingEnv, signal: float) -> Any:
    # The env action for long (+1), short (-1) or flat (0) at the extreme levels.
    config = env.config
    if config.action_type == "box":
        return np.array([signal * config.max_exposure], dtype=np.float32)
    levels = config.position_levels
    exposure = max(levels) if signal > 0 else min(levels) if signal < 0 else 0.0
    return level_index(levels, exposure)
