"""A regime model fitted on training sessions and filtered causally: the ``regime`` feature kind.

Intraday markets switch between days that trend, days that revert to where they opened and days
that are only noisy; which one today is, is the state a per-bar feature window misses. The model,
fitted on the training sessions only (:func:`fit_regime_model`) and carried in the feature spec
(so the hash, batch, streaming and bundles all see the same numbers):

* **Normalized returns.** ``y_t = log(c_t / o_t) / v_t`` with ``v_t`` the training sessions' RMS
  one-bar return at bar ``t`` of the session (intraday volatility profile, smoothed).
* **Kalman drift.** ``y_t = mu_t + e_t``, ``mu_t = phi mu_{t-1} + n_t`` (``e ~ N(0, R)``,
  ``n ~ N(0, Q)``), started each session from its stationary law; ``(phi, Q, R)`` by maximum
  likelihood on the training sessions. ``m_t`` is the filtered drift after bar ``t``.
* **Regressors** known at the close of ``t``: ``x_t = (d_t, m_t, e_t)`` with ``d_t`` the move
  since the session's first open ``log(c_t / o_0) / mean(v)`` and ``e_t`` an EWMA (span
  ``ewma_span``) of ``y``; ``x_{-1} = 0``.
* **Regimes.** A session is in one of ``K`` states for the whole session; in state ``k``,
  ``y_{t+1} = x_t . beta_k + sigma_k z``. The states' prior at a session's start is ``pi``.
  Fitted by EM over sessions (each session's likelihood under each state, responsibilities, then
  weighted least squares per state), several starts, the best likelihood kept; states are
  ordered by ``sigma_k``.
* **Filtering** (forward only, within the session): ``log p_k(t) = log pi_k + sum_{s<=t} log
  N(y_s; x_{s-1} . beta_k, sigma_k^2)``, normalized.

Columns (before the definition's ``scale`` and ``clip``): ``regime_p{k}`` the posterior of each
state, ``regime_forecast`` the expected next-bar log return ``sum_k p_k(t) x_t . beta_k
v_{t+1}`` in basis points, and ``regime_drift`` ``m_t`` (normalized units). Nothing at bar ``t``
reads a later bar. The model assumes nothing about the built-in market beyond OHLC bars grouped
in sessions; how well it fits real data is for the walk-forward evaluation to say.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from intraday_rl.features.inputs import SessionBars
from intraday_rl.shared.arrays import FloatArray
from intraday_rl.shared.config import FrozenConfig
from intraday_rl.shared.errors import FeatureError

N_REGRESSORS: Final = 3
BPS: Final = 1e4
_LOG_2PI: Final = math.log(2.0 * math.pi)
_MIN_VOLATILITY: Final = 1e-8
_PROFILE_SMOOTHING: Final = 11  # bars in the centred moving average of the volatility profile
_EM_ITERATIONS: Final = 200
_EM_TOLERANCE: Final = 1e-7
_EM_STARTS: Final = 6


class RegimeModel(FrozenConfig):
    """Fitted parameters of the regime model (module docstring); JSON-serializable and hashed."""

    n_states: int = Field(ge=1, le=8, description="Number of regimes K.")
    prior: tuple[float, ...] = Field(description="pi: each state's probability at session start.")
    coefficients: tuple[tuple[float, ...], ...] = Field(
        description="beta: K rows of (move since open, Kalman drift, EWMA) coefficients."
    )
    residual_std: tuple[float, ...] = Field(description="sigma_k, in normalized-return units.")
    volatility_profile: tuple[float, ...] = Field(
        description="v_t: RMS one-bar log return at each bar of the session (training sessions); "
        "bars past its end use the last value."
    )
    ewma_span: int = Field(ge=1, description="Span in bars of the EWMA regressor.")
    kalman_phi: float = Field(ge=0.0, lt=1.0, description="AR(1) coefficient of the drift.")
    kalman_q: float = Field(gt=0.0, description="Variance of the drift's innovations.")
    kalman_r: float = Field(gt=0.0, description="Variance of the observation noise.")
    n_train_sessions: int = Field(ge=1, description="Sessions the model was fitted on.")

    @model_validator(mode="after")
    def _check_shapes(self) -> RegimeModel:
        k = self.n_states
        if len(self.prior) != k or len(self.residual_std) != k or len(self.coefficients) != k:
            raise ValueError(f"prior, residual_std, coefficients: expected {k} states each")
        if any(len(row) != N_REGRESSORS for row in self.coefficients):
            raise ValueError(f"coefficients: expected {N_REGRESSORS} per state")
        if not self.volatility_profile or min(self.volatility_profile) <= 0.0:
            raise ValueError("volatility_profile: expected positive values, at least one")
        if min(self.residual_std) <= 0.0 or min(self.prior) < 0.0:
            raise ValueError("residual_std must be > 0 and prior >= 0")
        return self

    def profile_at(self, bar: int) -> float:
        """``v_t`` at bar ``bar`` (the last value past the profile's end)."""
        profile = self.volatility_profile
        return profile[bar] if bar < len(profile) else profile[-1]

    @property
    def move_scale(self) -> float:
        """``mean(v)``: the unit of the move-since-open regressor."""
        return float(np.mean(self.volatility_profile))

    @property
    def ewma_alpha(self) -> float:
        return 2.0 / (self.ewma_span + 1.0)


def not_fitted_error() -> FeatureError:
    """The error for computing a regime feature whose model was never fitted."""
    return FeatureError(
        "feature 'regime': its model is not fitted; fit the spec on training sessions first "
        "(intraday_rl.features.fit_feature_spec, which the trainer calls)"
    )


def regime_column_names(n_states: int) -> tuple[str, ...]:
    """Column names of a regime definition with ``n_states`` states."""
    return (*(f"regime_p{k}" for k in range(n_states)), "regime_forecast", "regime_drift")


# -- batch filter (one session) -----------------------------------------------------------------
def _kalman_gains(model: RegimeModel, n_bars: int) -> FloatArray:
    # The gain sequence depends only on the parameters and the bar index, not on the data.
    phi, q, r = model.kalman_phi, model.kalman_q, model.kalman_r
    variance = q / (1.0 - phi * phi)  # of mu_{-1}
    gains = np.empty(n_bars)
    for t in range(n_bars):
        predicted = phi * phi * variance + q
        gain = predicted / (predicted + r)
        gains[t] = gain
        variance = (1.0 - gain) * predicted
    return gains


def regime_batch(model: RegimeModel, open_: FloatArray, close: FloatArray) -> list[FloatArray]:
    """The regime columns of one session (module docstring), row ``t`` from bars ``0..t``."""
    n_bars = close.shape[0]
    profile = np.array([model.profile_at(t) for t in range(n_bars + 1)])
    y = np.log(close / open_) / profile[:n_bars]
    x = _regressors(model, y, open_[0], close)
    previous = np.zeros_like(x)
    previous[1:] = x[:-1]
    beta = np.asarray(model.coefficients)  # (K, P)
    sigma = np.asarray(model.residual_std)
    residual = y[:, None] - previous @ beta.T  # (T, K)
    loglik = -0.5 * (residual / sigma) ** 2 - np.log(sigma) - 0.5 * _LOG_2PI
    with np.errstate(divide="ignore"):
        log_post = np.log(np.asarray(model.prior)) + np.cumsum(loglik, axis=0)
    log_post -= log_post.max(axis=1, keepdims=True)
    post = np.exp(log_post)
    post /= post.sum(axis=1, keepdims=True)
    forecast = np.sum(post * (x @ beta.T), axis=1) * profile[1:] * BPS
    return [*post.T, forecast, x[:, 1]]


def _regressors(
    model: RegimeModel, y: FloatArray, first_open: float, close: FloatArray
) -> FloatArray:
    n_bars = y.shape[0]
    gains = _kalman_gains(model, n_bars)
    phi, alpha = model.kalman_phi, model.ewma_alpha
    drift = np.empty(n_bars)
    ewma = np.empty(n_bars)
    mu, e = 0.0, 0.0
    for t in range(n_bars):
        predicted = phi * mu
        mu = predicted + gains[t] * (y[t] - predicted)
        drift[t] = mu
        e = alpha * y[t] + (1.0 - alpha) * e
        ewma[t] = e
    move = np.log(close / first_open) / model.move_scale
    return np.column_stack((move, drift, ewma))


# -- streaming filter --------------------------------------------------------------------------
class RegimeFilter:
    """The same filter one bar at a time, O(K) per bar (pure Python floats)."""

    __slots__ = (
        "_alpha",
        "_beta",
        "_ewma",
        "_first_open",
        "_gain_variance",
        "_log_post",
        "_log_prior",
        "_log_sigma",
        "_model",
        "_move_scale",
        "_mu",
        "_previous",
        "_sigma",
        "_t",
    )

    def __init__(self, model: RegimeModel) -> None:
        self._model = model
        self._beta = [list(row) for row in model.coefficients]
        self._sigma = list(model.residual_std)
        self._log_sigma = [math.log(s) + 0.5 * _LOG_2PI for s in self._sigma]
        self._log_prior = [math.log(p) if p > 0.0 else -math.inf for p in model.prior]
        self._alpha = model.ewma_alpha
        self._move_scale = model.move_scale
        self.reset()

    def reset(self) -> None:
        """Start a new session."""
        model = self._model
        self._t = 0
        self._mu = self._ewma = self._first_open = 0.0
        self._gain_variance = model.kalman_q / (1.0 - model.kalman_phi**2)
        self._log_post = list(self._log_prior)
        self._previous = [0.0] * N_REGRESSORS

    def update(self, open_: float, close: float) -> list[float]:
        """Take bar ``t`` and return its regime columns (unscaled)."""
        model, t = self._model, self._t
        if t == 0:
            self._first_open = open_
        y = math.log(close / open_) / model.profile_at(t)
        previous = self._previous
        log_post = self._log_post
        for k, beta in enumerate(self._beta):
            mean = beta[0] * previous[0] + beta[1] * previous[1] + beta[2] * previous[2]
            z = (y - mean) / self._sigma[k]
            log_post[k] += -0.5 * z * z - self._log_sigma[k]
        phi, q, r = model.kalman_phi, model.kalman_q, model.kalman_r
        predicted_var = phi * phi * self._gain_variance + q
        gain = predicted_var / (predicted_var + r)
        self._gain_variance = (1.0 - gain) * predicted_var
        predicted = phi * self._mu
        self._mu = predicted + gain * (y - predicted)
        self._ewma = self._alpha * y + (1.0 - self._alpha) * self._ewma
        x = [math.log(close / self._first_open) / self._move_scale, self._mu, self._ewma]
        self._previous = x
        top = max(log_post)
        weights = [math.exp(value - top) for value in log_post]
        total = sum(weights)
        forecast = 0.0
        out = []
        for k, beta in enumerate(self._beta):
            p = weights[k] / total
            out.append(p)
            forecast += p * (beta[0] * x[0] + beta[1] * x[1] + beta[2] * x[2])
        out.append(forecast * model.profile_at(t + 1) * BPS)
        out.append(self._mu)
        self._t = t + 1
        return out


# -- fitting -----------------------------------------------------------------------------------
def fit_regime_model(
    sessions: Sequence[SessionBars], n_states: int = 3, ewma_span: int = 10, seed: int = 0
) -> RegimeModel:
    """Fit the regime model on ``sessions`` (the training sessions only).

    Raises:
        FeatureError: With fewer than ``2 * n_states`` sessions of at least 3 bars.
    """
    usable = [s for s in sessions if len(s.close) >= 3]
    if len(usable) < 2 * n_states:
        raise FeatureError(
            f"regime model: expected at least {2 * n_states} training sessions of >= 3 bars, "
            f"was {len(usable)}"
        )
    returns = [np.log(np.asarray(s.close) / np.asarray(s.open)) for s in usable]
    profile = _volatility_profile(returns)
    normalized = [r / profile[: r.shape[0]] for r in returns]
    phi, q, r = _fit_kalman(normalized)
    draft = RegimeModel(
        n_states=1,
        prior=(1.0,),
        coefficients=((0.0,) * N_REGRESSORS,),
        residual_std=(1.0,),
        volatility_profile=tuple(float(v) for v in profile),
        ewma_span=ewma_span,
        kalman_phi=phi,
        kalman_q=q,
        kalman_r=r,
        n_train_sessions=len(usable),
    )
    targets, designs, owners = [], [], []
    for index, (session, y) in enumerate(zip(usable, normalized, strict=True)):
        x = _regressors(draft, y, float(session.open[0]), np.asarray(session.close))
        previous = np.zeros_like(x)
        previous[1:] = x[:-1]
        targets.append(y)
        designs.append(previous)
        owners.append(np.full(y.shape[0], index))
    prior, beta, sigma = _em(
        np.concatenate(targets), np.concatenate(designs), np.concatenate(owners), n_states, seed
    )
    order = np.argsort(sigma)
    return draft.model_copy(
        update={
            "n_states": n_states,
            "prior": tuple(float(v) for v in prior[order]),
            "coefficients": tuple(tuple(float(v) for v in row) for row in beta[order]),
            "residual_std": tuple(float(v) for v in sigma[order]),
        }
    )


def _volatility_profile(returns: Sequence[FloatArray]) -> FloatArray:
    length = max(r.shape[0] for r in returns)
    sums, counts = np.zeros(length), np.zeros(length)
    for r in returns:
        sums[: r.shape[0]] += r * r
        counts[: r.shape[0]] += 1.0
    rms = np.sqrt(sums / np.maximum(counts, 1.0))
    width = min(_PROFILE_SMOOTHING, length)
    padded = np.pad(rms, (width // 2, width - 1 - width // 2), mode="edge")
    smooth = np.convolve(padded, np.ones(width) / width, mode="valid")
    return np.maximum(smooth, _MIN_VOLATILITY)


def _kalman_loglik(params: FloatArray, y: FloatArray, mask: FloatArray) -> float:
    # y, mask: (sessions, bars), NaN-free; mask 0 past a session's end.
    phi = 0.999 / (1.0 + math.exp(-params[0]))
    q, r = math.exp(params[1]), math.exp(params[2])
    mu = np.zeros(y.shape[0])
    variance = q / (1.0 - phi * phi)
    total = 0.0
    for t in range(y.shape[1]):
        predicted = phi * mu
        predicted_var = phi * phi * variance + q
        innovation_var = predicted_var + r
        innovation = y[:, t] - predicted
        total += float(
            np.sum(mask[:, t] * (innovation**2 / innovation_var + math.log(innovation_var)))
        )
        gain = predicted_var / innovation_var
        mu = predicted + gain * innovation
        variance = (1.0 - gain) * predicted_var
    return 0.5 * total


def _fit_kalman(normalized: Sequence[FloatArray]) -> tuple[float, float, float]:
    from scipy.optimize import minimize

    length = max(y.shape[0] for y in normalized)
    y = np.zeros((len(normalized), length))
    mask = np.zeros_like(y)
    for row, values in enumerate(normalized):
        y[row, : values.shape[0]] = values
        mask[row, : values.shape[0]] = 1.0
    start = np.array([2.0, math.log(0.01), math.log(0.99)])
    result = minimize(
        _kalman_loglik,
        start,
        args=(y, mask),
        method="Nelder-Mead",
        options={"xatol": 1e-4, "fatol": 1e-3, "maxiter": 400},
    )
    params = result.x
    phi = 0.999 / (1.0 + math.exp(-params[0]))
    return float(phi), float(math.exp(params[1])), float(math.exp(params[2]))


def _em(
    y: FloatArray, x: FloatArray, owner: npt.NDArray[np.int64], n_states: int, seed: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    # Mixture of regressions over sessions: a session's bars share one state.
    n_sessions = int(owner.max()) + 1
    rng = np.random.default_rng(seed)
    best: tuple[float, FloatArray, FloatArray, FloatArray] | None = None
    session_var = np.bincount(owner, weights=y * y) / np.bincount(owner)
    for start in range(_EM_STARTS):
        if start == 0:  # deterministic start: sessions ranked by their variance
            ranks = np.argsort(np.argsort(session_var)) * n_states // n_sessions
            resp = np.full((n_sessions, n_states), 0.1 / max(n_states - 1, 1))
            resp[np.arange(n_sessions), ranks] = 0.9
        else:
            resp = rng.dirichlet(np.ones(n_states), size=n_sessions)
        loglik, prior, beta, sigma = _em_run(y, x, owner, resp)
        if best is None or loglik > best[0]:
            best = (loglik, prior, beta, sigma)
    assert best is not None
    return best[1], best[2], best[3]


def _em_run(
    y: FloatArray, x: FloatArray, owner: npt.NDArray[np.int64], resp: FloatArray
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    n_sessions, n_states = resp.shape
    previous = -math.inf
    loglik = -math.inf
    prior = beta = sigma = np.zeros(0)
    for _ in range(_EM_ITERATIONS):
        prior = np.maximum(resp.mean(axis=0), 1e-6)
        prior /= prior.sum()
        beta = np.zeros((n_states, x.shape[1]))
        sigma = np.ones(n_states)
        for k in range(n_states):
            w = resp[owner, k]
            gram = (x * w[:, None]).T @ x + 1e-6 * np.eye(x.shape[1])
            beta[k] = np.linalg.solve(gram, (x * w[:, None]).T @ y)
            residual = y - x @ beta[k]
            sigma[k] = math.sqrt(max(float(np.sum(w * residual**2) / max(w.sum(), 1e-12)), 1e-8))
        residual = y[:, None] - x @ beta.T
        bar_ll = -0.5 * (residual / sigma) ** 2 - np.log(sigma) - 0.5 * _LOG_2PI
        session_ll = np.zeros((n_sessions, n_states))
        for k in range(n_states):
            session_ll[:, k] = np.bincount(owner, weights=bar_ll[:, k], minlength=n_sessions)
        joint = session_ll + np.log(prior)
        top = joint.max(axis=1, keepdims=True)
        weights = np.exp(joint - top)
        total = weights.sum(axis=1, keepdims=True)
        resp = weights / total
        loglik = float(np.sum(top[:, 0] + np.log(total[:, 0])))
        if loglik - previous < _EM_TOLERANCE * abs(loglik):
            break
        previous = loglik
    return loglik, prior, beta, sigma
