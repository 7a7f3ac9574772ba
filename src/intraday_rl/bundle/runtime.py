"""``BundlePolicy``: what every bundle runtime shares (loading, checks, predict, latency).

A runtime implements three hooks: ``_open`` (build from a verified bundle), ``_act`` (one
float32 observation → action, the hot path) and ``_evaluate`` (a batch → actions and scores).
Everything else (integrity and layout checks, the parity self-check against
``verification.npz``, input validation, latency validation, copying the bundle) lives here, so the
runtimes cannot drift apart.

Instances keep preallocated input/output buffers: one instance must not be used from several
threads at once (make one per thread).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.compatibility import check_compatibility
from intraday_rl.bundle.inputs import FLOAT32, ObservationChecker
from intraday_rl.bundle.latency import measure_predict_latency
from intraday_rl.bundle.parity import ParityReference, compare_to_reference, load_reference
from intraday_rl.bundle.schema import VERIFICATION_FILE, BundleMetadata, RuntimeName, RuntimeParity
from intraday_rl.bundle.signing import read_verified_bundle
from intraday_rl.bundle.storage import LoadedBundle, copy_bundle, read_bundle
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleRuntimeUnavailableError, PredictionInputError
from intraday_rl.shared.policy import DEFAULT_LATENCY_SLO_US, LatencyStats

if TYPE_CHECKING:
    from intraday_rl.bundle.signing import TrustedKeys

Action = int | Float32Array


class BundlePolicy(ABC):
    """A policy run from a verified bundle folder; implements :class:`~intraday_rl.shared.RLPolicy`.

    Attributes:
        runtime: The runtime's name (``"onnxruntime"``, ``"numpy"``, ``"torchscript"``).
        bundle: The verified bundle (folder and metadata).
        layout: The observation layout, rebuilt by the running code.
    """

    runtime: ClassVar[RuntimeName]

    def __init__(self, bundle: LoadedBundle, layout: ObservationLayout) -> None:
        self.bundle = bundle
        self.layout = layout
        self._checker = ObservationChecker(layout.field_names)
        self._shape = self._checker.shape
        # x · (2**-100, ...) is finite iff every x_i is: it cannot overflow for finite float32
        # values (|sum| < obs_dim * 2**28) and, unlike x · x or x · 0, raises no FP warning for
        # inf / NaN. One BLAS call (~0.3 µs) instead of np.isfinite(x).all() (~1 µs).
        self._finite_probe = np.full(layout.obs_dim, 2.0**-100, dtype=np.float32)
        action = bundle.metadata.action
        self._discrete = action.kind == "discrete"
        self._levels = tuple(action.position_levels or ())
        self._reference: ParityReference | None = None

    # -- loading ------------------------------------------------------------------------------
    @classmethod
    def load_bundle(
        cls,
        path: str | Path,
        *,
        feature_spec: FeatureSpec | None = None,
        layout: ObservationLayout | None = None,
        n_threads: int | None = 1,
        require_signature: bool = False,
        trusted_keys: TrustedKeys | None = None,
    ) -> Self:
        """Load a bundle folder with this runtime, verifying everything before it runs.

        Args:
            path: The bundle folder.
            feature_spec: The spec the caller computes features with; must be the bundle's.
            layout: The layout the caller builds observations with; must be the bundle's.
            n_threads: Intra-op threads: torch's setting is process-wide (``None`` keeps the
                current one); ONNX Runtime's is per session (``None`` means 1); numpy ignores it.
            require_signature: Refuse a bundle without a valid signature from a trusted key.
            trusted_keys: Keys to trust (default ``INTRADAY_RL_TRUSTED_KEYS``); passing keys
                also requires a signature.

        Raises:
            BundleNotFoundError, BundleIntegrityError, BundleSchemaError: See
                :func:`~intraday_rl.bundle.storage.read_bundle`.
            BundleSignatureError: A signature is required and missing, untrusted or invalid.
            BundleLayoutMismatchError: The observation layout differs from the running code's.
            BundleRuntimeUnavailableError: This runtime's package is not installed.
            BundleVerificationError: The runtime does not reproduce the recorded actions.
        """
        bundle = read_verified_bundle(
            path, require_signature=require_signature, trusted_keys=trusted_keys
        )
        return cls.from_bundle(
            bundle, feature_spec=feature_spec, layout=layout, n_threads=n_threads
        )

    @classmethod
    def from_bundle(
        cls,
        bundle: LoadedBundle,
        *,
        feature_spec: FeatureSpec | None = None,
        layout: ObservationLayout | None = None,
        n_threads: int | None = 1,
    ) -> Self:
        """Open an already-read bundle (see :meth:`load_bundle`) and run the parity self-check."""
        if cls.runtime not in bundle.metadata.runtimes:
            raise BundleRuntimeUnavailableError(
                f"{bundle.path}: this bundle has no {cls.runtime} runtime (it has "
                f"{', '.join(bundle.metadata.runtimes)})"
            )
        bundle_layout = check_compatibility(
            bundle.metadata, feature_spec=feature_spec, layout=layout
        )
        policy = cls._open(bundle, bundle_layout, n_threads)
        policy.verify()
        return policy

    @classmethod
    @abstractmethod
    def _open(cls, bundle: LoadedBundle, layout: ObservationLayout, n_threads: int | None) -> Self:
        """Build the runtime from a verified bundle."""

    # -- hooks ------------------------------------------------------------------------------------
    @abstractmethod
    def _act(self, observation: Float32Array) -> Action:
        """Return the action for one checked float32 observation of shape (obs_dim,)."""

    @abstractmethod
    def _evaluate(self, observations: Float32Array) -> tuple[npt.NDArray[Any], Float32Array]:
        """Return (actions, scores) for a checked float32 batch (n, obs_dim)."""

    # -- the RLPolicy interface ---------------------------------------------------------------
    @property
    def metadata(self) -> BundleMetadata:
        """The bundle's verified metadata."""
        return self.bundle.metadata

    @property
    def obs_dim(self) -> int:
        """Length of one observation."""
        return self.layout.obs_dim

    def predict(
        self, observation: npt.ArrayLike, deterministic: bool = True
    ) -> tuple[Any, dict[str, Any]]:
        """Return ``(action, info)`` for one observation (obs_dim,) or a batch (n, obs_dim).

        One observation gives a Python ``int`` (discrete; ``info["target_position"]`` is its
        position level) or a float32 array (box); a batch gives an array of n actions
        (``info["target_positions"]`` for discrete). See :mod:`intraday_rl.bundle.inputs` for the
        accepted dtypes.

        Raises:
            PredictionInputError: Wrong shape, a dtype that cannot be cast safely, NaN / inf, or
                ``deterministic=False`` (a bundle holds the greedy policy only).
        """
        if not deterministic:
            raise PredictionInputError(
                "deterministic: a bundle holds the greedy policy only, was False"
            )
        if (
            type(observation) is np.ndarray
            and observation.dtype is FLOAT32
            and observation.shape == self._shape
        ):
            array: Float32Array = observation
        else:
            array = self._checker.convert(observation)
            if array.ndim == 2:
                return self._predict_batch(array)
        if not math.isfinite(array.dot(self._finite_probe)):
            self._checker.check_finite(array)
        action = self._act(array)
        if self._discrete:
            return action, {"target_position": self._levels[action]}
        return action, {}

    def _predict_batch(self, observations: Float32Array) -> tuple[Any, dict[str, Any]]:
        actions, _ = self._evaluate(observations)
        if self._discrete:
            levels = np.asarray(self._levels, dtype=np.float64)
            return actions, {"target_positions": levels[actions]}
        return actions, {}

    def predict_with_scores(
        self, observations: npt.ArrayLike
    ) -> tuple[npt.NDArray[Any], Float32Array]:
        """Return (actions, scores) for a batch: scores are q-values, logits or box means."""
        array = self._checker.convert(observations)
        return self._evaluate(array.reshape(-1, self.obs_dim))

    def validate_prediction_latency(
        self,
        observation: npt.ArrayLike,
        num_trials: int = 100,
        *,
        slo_us: float = DEFAULT_LATENCY_SLO_US,
        n_warmup: int | None = None,
    ) -> LatencyStats:
        """Time ``num_trials`` calls of ``predict(observation)`` (numpy in, action out).

        Runs single-threaded with the GC paused; warm-up calls (default
        ``max(200, num_trials // 10)``) are not timed.

        Raises:
            PredictionInputError: ``observation`` is not one valid observation.
        """
        return measure_predict_latency(
            self._checker,
            self.predict,
            observation,
            num_trials,
            runtime=self.runtime,
            slo_us=slo_us,
            n_warmup=n_warmup,
        )

    def save_bundle(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Copy this policy's bundle to ``path`` (re-verified first, written atomically)."""
        return copy_bundle(read_bundle(self.bundle.path), path, overwrite=overwrite)

    # -- verification -------------------------------------------------------------------------
    def verify(self) -> RuntimeParity:
        """Re-check the actions recorded in ``verification.npz`` with this runtime.

        Both the batch path and the single-observation path are checked.

        Raises:
            BundleVerificationError: A score or action differs beyond tolerance.
        """
        reference = self.reference()
        actions, scores = self._evaluate(reference.observations)
        parity = self.metadata.parity
        result = compare_to_reference(
            reference,
            actions,
            scores,
            discrete=self._discrete,
            atol=parity.score_atol,
            rtol=parity.score_rtol,
            runtime=self.runtime,
        )
        # The single-observation path (preallocated buffers) is what production runs.
        single = np.asarray([self._act(row) for row in reference.observations])
        compare_to_reference(
            reference,
            single,
            scores,
            discrete=self._discrete,
            atol=parity.score_atol,
            rtol=parity.score_rtol,
            runtime=f"{self.runtime} (single-observation predict)",
        )
        return result

    def reference(self) -> ParityReference:
        """The bundle's verification observations with SB3's actions and scores."""
        if self._reference is None:
            self._reference = load_reference(self.bundle.path / VERIFICATION_FILE)
        return self._reference

    def reference_observation(self) -> Float32Array:
        """The first verification observation (a real rollout observation at export)."""
        first: Float32Array = self.reference().observations[0].copy()
        return first

    def __repr__(self) -> str:
        algorithm = self.metadata.algorithm.name
        return f"{type(self).__name__}({str(self.bundle.path)!r}, algorithm={algorithm})"
