"""Policy bundles: export from SB3, verified loading, microsecond predict, latency validation.

Importing this package loads neither SB3 nor torch nor onnxruntime: export imports torch when
called, and each runtime imports its own package when a bundle is loaded.

- :func:`export_bundle` writes a verified bundle folder from a trained SB3 model;
- :func:`load_policy` opens a bundle with the fastest installed runtime that verifies;
- :class:`OnnxRuntimePolicy`, :class:`NumpyPolicy`, :class:`TorchScriptPolicy` are the runtimes
  (each ``load_bundle(path)``), all implementing :class:`~intraday_rl.shared.policy.RLPolicy`;
- :func:`validate_bundle_latency` times a bundle's predict (``intraday-rl validate-latency``).
"""

from intraday_rl.bundle.config import ExportConfig, ObservationNormalization, TrainingLineage
from intraday_rl.bundle.export import export_bundle
from intraday_rl.bundle.latency import validate_bundle_latency
from intraday_rl.bundle.loading import available_runtimes, load_policy, runtime_class
from intraday_rl.bundle.numpy_runtime import NumpyPolicy
from intraday_rl.bundle.onnx_runtime import OnnxRuntimePolicy
from intraday_rl.bundle.rollouts import collect_rollout_observations
from intraday_rl.bundle.runtime import BundlePolicy
from intraday_rl.bundle.schema import (
    BUNDLE_SCHEMA_VERSION,
    RUNTIME_NAMES,
    BundleMetadata,
    RuntimeName,
)
from intraday_rl.bundle.storage import LoadedBundle, read_bundle
from intraday_rl.bundle.torchscript_runtime import TorchScriptPolicy

__all__ = [
    "BUNDLE_SCHEMA_VERSION",
    "RUNTIME_NAMES",
    "BundleMetadata",
    "BundlePolicy",
    "ExportConfig",
    "LoadedBundle",
    "NumpyPolicy",
    "ObservationNormalization",
    "OnnxRuntimePolicy",
    "RuntimeName",
    "TorchScriptPolicy",
    "TrainingLineage",
    "available_runtimes",
    "collect_rollout_observations",
    "export_bundle",
    "load_policy",
    "read_bundle",
    "runtime_class",
    "validate_bundle_latency",
]
