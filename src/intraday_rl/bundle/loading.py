"""``load_policy``: open a bundle with the fastest installed runtime that passes verification.

Runtimes are tried in :data:`~intraday_rl.bundle.schema.RUNTIME_NAMES` order (fastest first, as
measured by ``intraday-rl bench predict``): ONNX Runtime, numpy, TorchScript. A runtime whose
package is missing, that the bundle lacks, or that fails its parity self-check is skipped (with a
warning for the last); problems with the bundle itself (integrity, schema, layout, signature)
are raised at once, since no runtime could fix them.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy.typing as npt

from intraday_rl.bundle.compatibility import check_compatibility
from intraday_rl.bundle.runtime import BundlePolicy
from intraday_rl.bundle.schema import RUNTIME_NAMES, RuntimeName
from intraday_rl.bundle.signing import read_verified_bundle
from intraday_rl.features.config import FeatureSpec
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.errors import (
    BundleError,
    BundleRuntimeUnavailableError,
    BundleVerificationError,
)
from intraday_rl.shared.policy import DEFAULT_LATENCY_SLO_US

if TYPE_CHECKING:
    from intraday_rl.bundle.signing import TrustedKeys

_LOG = logging.getLogger(__name__)

_RUNTIME_PACKAGES: dict[str, str | None] = {
    "onnxruntime": "onnxruntime",
    "numpy": None,
    "torchscript": "torch",
}


def runtime_class(name: str) -> type[BundlePolicy]:
    """Return the policy class of a runtime (imports its module, not its package).

    Raises:
        BundleError: ``name`` is not a runtime.
    """
    if name == "onnxruntime":
        from intraday_rl.bundle.onnx_runtime import OnnxRuntimePolicy

        return OnnxRuntimePolicy
    if name == "numpy":
        from intraday_rl.bundle.numpy_runtime import NumpyPolicy

        return NumpyPolicy
    if name == "torchscript":
        from intraday_rl.bundle.torchscript_runtime import TorchScriptPolicy

        return TorchScriptPolicy
    raise BundleError(f"runtime: expected one of {', '.join(RUNTIME_NAMES)}, was {name!r}")


def available_runtimes() -> tuple[RuntimeName, ...]:
    """Return the runtimes whose package is installed, fastest first (imports nothing)."""
    return tuple(
        name
        for name in RUNTIME_NAMES
        if (package := _RUNTIME_PACKAGES[name]) is None or importlib.util.find_spec(package)
    )


def load_policy(
    path: str | Path,
    *,
    runtimes: Sequence[str] | None = None,
    feature_spec: FeatureSpec | None = None,
    layout: ObservationLayout | None = None,
    n_threads: int | None = 1,
    require_signature: bool = False,
    trusted_keys: TrustedKeys | None = None,
) -> BundlePolicy:
    """Load a bundle with the first runtime (fastest first) that is installed and verifies.

    Args:
        path: The bundle folder.
        runtimes: Runtimes to try, in order; default :data:`RUNTIME_NAMES`.
        feature_spec: The spec the caller computes features with; must be the bundle's.
        layout: The layout the caller builds observations with; must be the bundle's.
        n_threads: Intra-op threads for the runtime (see :meth:`BundlePolicy.load_bundle`).
        require_signature: Refuse a bundle without a valid ``signature.json`` from a trusted key
            (checked before any model file is opened).
        trusted_keys: Public keys (or key files) to trust; default ``INTRADAY_RL_TRUSTED_KEYS``.
            Passing keys also requires a signature.

    Raises:
        BundleNotFoundError, BundleIntegrityError, BundleSchemaError, BundleLayoutMismatchError:
            The bundle itself is unusable (raised before any runtime is tried).
        BundleUnsignedError, BundleUntrustedKeyError, BundleSignatureInvalidError: A signature
            is required and missing, from an untrusted key, or invalid.
        BundleSigningKeyError: A signature is required and no trusted key is given or readable.
        BundleVerificationError: No runtime could run it and at least one failed verification.
        BundleRuntimeUnavailableError: No runtime the bundle supports is installed.
    """
    bundle = read_verified_bundle(
        path, require_signature=require_signature, trusted_keys=trusted_keys
    )
    check_compatibility(bundle.metadata, feature_spec=feature_spec, layout=layout)
    failures: list[str] = []
    verification_failed = False
    for name in runtimes or RUNTIME_NAMES:
        cls = runtime_class(name)
        try:
            return cls.from_bundle(
                bundle, feature_spec=feature_spec, layout=layout, n_threads=n_threads
            )
        except BundleRuntimeUnavailableError as error:
            failures.append(f"{name}: {error}")
        except BundleVerificationError as error:
            _LOG.warning("bundle %s: runtime %s failed verification: %s", path, name, error)
            failures.append(f"{name}: {error}")
            verification_failed = True
    error_type = BundleVerificationError if verification_failed else BundleRuntimeUnavailableError
    raise error_type(f"{path}: no runtime can run this bundle: " + "; ".join(failures))


def validate_bundle_latency(
    path: str | Path,
    *,
    runtime: str | None = None,
    num_trials: int = 10_000,
    slo_us: float = DEFAULT_LATENCY_SLO_US,
    observation: npt.ArrayLike | None = None,
) -> dict[str, Any]:
    """Load a bundle and validate its predict latency (what ``intraday-rl validate-latency`` runs).

    Args:
        path: The bundle folder.
        runtime: ``"onnxruntime"``, ``"numpy"`` or ``"torchscript"``; ``None`` takes the one
            :func:`~intraday_rl.bundle.load_policy` picks.
        num_trials: Timed single-observation predicts (after a warm-up).
        slo_us: Latency objective for ``slo_pass`` (p99) and ``violation_rate``.
        observation: The observation to predict on; default: the first observation of the
            bundle's ``verification.npz`` (recorded from real rollouts at export).

    Returns:
        The :class:`LatencyStats` keys plus ``bundle``, ``algorithm`` and ``recorded_at_export``
        (the stats export measured for the same runtime, or ``None``).

    Raises:
        BundleError: Any load, verification or argument error (subclasses name the problem).
    """
    policy = load_policy(path, runtimes=None if runtime is None else (runtime,))
    sample = policy.reference_observation() if observation is None else observation
    stats = policy.validate_prediction_latency(sample, num_trials, slo_us=slo_us)
    metadata = policy.metadata
    return {
        "bundle": str(Path(path)),
        "algorithm": metadata.algorithm.name,
        **stats,
        "recorded_at_export": metadata.latency_validation.get(policy.runtime),
    }
