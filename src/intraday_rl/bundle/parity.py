"""Parity of a runtime with SB3: the same actions on the same observations.

The reference is SB3's own ``model.predict(obs, deterministic=True)`` (actions) plus the scores
of the exported graph run eagerly in torch at export (q-values, quantile means, logits or box
means). A runtime passes when, on every observation,

- its scores are within ``atol + rtol * max|reference scores|`` of the reference, and
- its action is SB3's, or, for discrete heads, both actions score within twice that tolerance of
  the best reference score (a near tie that float rounding may break either way).

The first rows are stored in ``verification.npz`` and re-checked whenever a runtime loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.schema import RuntimeParity
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleSchemaError, BundleVerificationError


@dataclass(frozen=True, slots=True)
class ParityReference:
    """Observations (raw, float32) with SB3's actions and the reference scores."""

    observations: Float32Array
    actions: npt.NDArray[Any]
    scores: Float32Array

    def head(self, n_rows: int) -> ParityReference:
        """Return the first ``n_rows`` rows."""
        return ParityReference(
            self.observations[:n_rows], self.actions[:n_rows], self.scores[:n_rows]
        )


def save_reference(path: Path, reference: ParityReference) -> None:
    """Write a reference as an uncompressed ``.npz`` (no pickles)."""
    with path.open("wb") as stream:
        np.savez(
            stream,
            observations=reference.observations,
            actions=reference.actions,
            scores=reference.scores,
        )


def load_reference(path: Path) -> ParityReference:
    """Read a reference written by :func:`save_reference`.

    Raises:
        BundleSchemaError: The file lacks an array or its arrays disagree in length.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            observations = np.ascontiguousarray(data["observations"], dtype=np.float32)
            actions = np.asarray(data["actions"])
            scores = np.asarray(data["scores"], dtype=np.float32)
    except (KeyError, ValueError, OSError) as error:
        raise BundleSchemaError(f"{path}: not a verification file ({error})") from None
    if not len(observations) == len(actions) == len(scores) or observations.ndim != 2:
        raise BundleSchemaError(
            f"{path}: expected observations (n, d), actions (n, ...) and scores (n, k), was "
            f"{observations.shape}, {actions.shape}, {scores.shape}"
        )
    return ParityReference(observations, actions, scores)


def compare_to_reference(
    reference: ParityReference,
    actions: npt.NDArray[Any],
    scores: Float32Array,
    *,
    discrete: bool,
    atol: float,
    rtol: float,
    runtime: str,
) -> RuntimeParity:
    """Compare a runtime's outputs with the reference; return the parity summary.

    Raises:
        BundleVerificationError: A score beyond tolerance or an action that is not a near tie;
            the message gives the count, the first offending row and its values.
    """
    n_rows = len(reference.observations)
    if scores.shape != reference.scores.shape:
        raise BundleVerificationError(
            f"{runtime}: scores have shape {scores.shape}, expected {reference.scores.shape}"
        )
    ref_scores = reference.scores.astype(np.float64)
    tolerance = atol + rtol * np.abs(ref_scores).max(axis=1)
    score_diff = np.abs(scores.astype(np.float64) - ref_scores).max(axis=1)
    bad = np.flatnonzero(score_diff > tolerance)
    if bad.size:
        row = int(bad[0])
        raise BundleVerificationError(
            f"{runtime}: scores differ from SB3's on {bad.size} of {n_rows} observations; first "
            f"at row {row}: |diff| {score_diff[row]:.3g} > tolerance {tolerance[row]:.3g}"
        )
    if discrete:
        mismatched = _discrete_mismatches(reference, actions, ref_scores, tolerance, runtime)
    else:
        mismatched = _box_mismatches(reference, actions, atol, rtol, runtime)
    return RuntimeParity(
        n_observations=n_rows,
        n_action_mismatches=mismatched,
        max_abs_score_diff=float(score_diff.max()),
    )


def _discrete_mismatches(
    reference: ParityReference,
    actions: npt.NDArray[Any],
    ref_scores: npt.NDArray[np.float64],
    tolerance: npt.NDArray[np.float64],
    runtime: str,
) -> int:
    expected = reference.actions.astype(np.int64).reshape(-1)
    actual = np.asarray(actions, dtype=np.int64).reshape(-1)
    if actual.shape != expected.shape:
        raise BundleVerificationError(
            f"{runtime}: {actual.shape[0]} actions for {expected.shape[0]} observations"
        )
    rows = np.flatnonzero(actual != expected)
    if not rows.size:
        return 0
    best = ref_scores[rows].max(axis=1)
    slack = 2.0 * tolerance[rows]
    near_tie = (ref_scores[rows, actual[rows]] >= best - slack) & (
        ref_scores[rows, expected[rows]] >= best - slack
    )
    if not near_tie.all():
        row = int(rows[~near_tie][0])
        raise BundleVerificationError(
            f"{runtime}: actions differ from SB3's on {int((~near_tie).sum())} of "
            f"{len(expected)} observations (not near ties); first at row {row}: SB3 "
            f"{expected[row]}, runtime {actual[row]}, scores {ref_scores[row].round(6).tolist()}"
        )
    return int(rows.size)


def _box_mismatches(
    reference: ParityReference,
    actions: npt.NDArray[Any],
    atol: float,
    rtol: float,
    runtime: str,
) -> int:
    expected = reference.actions.astype(np.float64).reshape(len(reference.actions), -1)
    actual = np.asarray(actions, dtype=np.float64).reshape(expected.shape[0], -1)
    diff = np.abs(actual - expected).max(axis=1)
    bad = np.flatnonzero(diff > atol + rtol * np.abs(expected).max(axis=1))
    if bad.size:
        row = int(bad[0])
        raise BundleVerificationError(
            f"{runtime}: actions differ from SB3's on {bad.size} of {len(expected)} "
            f"observations; first at row {row}: SB3 {expected[row].tolist()}, runtime "
            f"{actual[row].tolist()}"
        )
    return 0
