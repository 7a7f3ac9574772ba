"""Policy bundles: export, verified loading, microsecond predict, latency validation.

Importing this package loads neither SB3 nor torch nor onnxruntime: export imports torch when
called, and each runtime imports its own package when a bundle is loaded.

- :func:`export_bundle` writes a verified bundle folder from an extracted policy network and
  its framework's reference predict (SB3 models: ``intraday_rl.training.export.export_sb3_model``);
- :func:`load_policy` opens a bundle with the fastest installed runtime that verifies;
- :class:`OnnxRuntimePolicy`, :class:`NumpyPolicy`, :class:`TorchScriptPolicy` are the runtimes
  (each ``load_bundle(path)``), all implementing :class:`~intraday_rl.shared.policy.RLPolicy`;
- :func:`validate_bundle_latency` times a bundle's predict (``intraday-rl validate-latency``);
- :func:`sign_bundle`, :func:`verify_bundle_signature` and :func:`generate_signing_key` sign
  bundles with Ed25519 (``load_policy(..., require_signature=True)`` refuses unsigned ones).
"""

from intraday_rl.bundle.errors import (
    BundleSignatureError,
    BundleSignatureInvalidError,
    BundleSigningKeyError,
    BundleUnsignedError,
    BundleUntrustedKeyError,
)
from intraday_rl.bundle.export import export_bundle
from intraday_rl.bundle.loading import (
    available_runtimes,
    load_policy,
    runtime_class,
    validate_bundle_latency,
)
from intraday_rl.bundle.normalization import ExportConfig, ObservationNormalization, TrainingLineage
from intraday_rl.bundle.numpy_runtime import NumpyPolicy
from intraday_rl.bundle.onnx_runtime import OnnxRuntimePolicy
from intraday_rl.bundle.runtime import BundlePolicy
from intraday_rl.bundle.schema import (
    BUNDLE_SCHEMA_VERSION,
    RUNTIME_NAMES,
    BundleMetadata,
    RuntimeName,
)
from intraday_rl.bundle.signing import (
    SIGNING_KEY_ENV,
    TRUSTED_KEYS_ENV,
    GeneratedKey,
    VerifiedBundle,
    generate_signing_key,
    load_signing_key,
    load_trusted_keys,
    public_key_id,
    sign_bundle,
    verify_bundle_signature,
)
from intraday_rl.bundle.storage import LoadedBundle, read_bundle
from intraday_rl.bundle.torchscript_runtime import TorchScriptPolicy

__all__ = [
    "BUNDLE_SCHEMA_VERSION",
    "RUNTIME_NAMES",
    "SIGNING_KEY_ENV",
    "TRUSTED_KEYS_ENV",
    "BundleMetadata",
    "BundlePolicy",
    "BundleSignatureError",
    "BundleSignatureInvalidError",
    "BundleSigningKeyError",
    "BundleUnsignedError",
    "BundleUntrustedKeyError",
    "ExportConfig",
    "GeneratedKey",
    "LoadedBundle",
    "NumpyPolicy",
    "ObservationNormalization",
    "OnnxRuntimePolicy",
    "RuntimeName",
    "TorchScriptPolicy",
    "TrainingLineage",
    "VerifiedBundle",
    "available_runtimes",
    "export_bundle",
    "generate_signing_key",
    "load_policy",
    "load_signing_key",
    "load_trusted_keys",
    "public_key_id",
    "read_bundle",
    "runtime_class",
    "sign_bundle",
    "validate_bundle_latency",
    "verify_bundle_signature",
]
