"""Cross-file rules: the arrays in a bundle have the shapes ``metadata.json`` describes.

:class:`~intraday_rl.bundle.schema.BundleMetadata` checks the rules between metadata fields;
this module checks the numpy files against them, so a wrong-shaped array is a
:class:`~intraday_rl.shared.errors.BundleSchemaError` naming the array, the expected and the
actual shape, at load, and never a raw ``ValueError`` in the first ``predict``:

- ``policy.npz``: ``layer{i}.weight`` (out, in) and ``layer{i}.bias`` (out,) for every
  ``"linear INxOUT"`` entry of ``algorithm.layers``, finite float values;
- ``verification.npz``: ``observations`` (n, obs_dim), ``scores`` (n, n_scores), ``actions``
  (n,) or (n, *action.shape), with n = ``parity.n_verification_observations``.

:func:`~intraday_rl.bundle.storage.read_bundle` runs :func:`check_bundle_files` after the hashes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from intraday_rl.bundle.parity import load_reference
from intraday_rl.bundle.schema import (
    NUMPY_FILE,
    VERIFICATION_FILE,
    BundleMetadata,
    parse_linear,
)
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleSchemaError

LinearWeights = list[tuple[Float32Array, Float32Array]]


def check_bundle_files(folder: Path, metadata: BundleMetadata) -> None:
    """Check ``policy.npz`` (when listed) and ``verification.npz`` against the metadata.

    Raises:
        BundleSchemaError: An array is missing, is not numeric, or has another shape than the
            metadata gives; the message names the file, the array, expected and actual shapes.
    """
    if NUMPY_FILE in metadata.files:
        read_numpy_weights(folder / NUMPY_FILE, metadata.algorithm.layers)
    check_verification_file(folder / VERIFICATION_FILE, metadata)


def read_numpy_weights(path: Path, layers: tuple[str, ...]) -> LinearWeights:
    """Read ``policy.npz`` as ``(weight (out, in), bias (out,))`` per linear layer, checked.

    Args:
        path: The ``policy.npz`` file.
        layers: ``metadata.algorithm.layers`` (e.g. ``("linear 52x64", "relu", ...)``).

    Raises:
        BundleSchemaError: A weight is missing, has another shape, or is not finite.
    """
    if not layers:
        raise BundleSchemaError(
            f"{path}: algorithm.layers: expected the MLP these weights belong to, was empty"
        )
    weights: LinearWeights = []
    try:
        with np.load(path, allow_pickle=False) as data:
            for index, layer in enumerate(layers):
                sizes = parse_linear(layer)
                if sizes is None:
                    continue
                n_in, n_out = sizes
                weight = _array(path, data, f"layer{index}.weight", (n_out, n_in), layer)
                bias = _array(path, data, f"layer{index}.bias", (n_out,), layer)
                weights.append((weight, bias))
    except (ValueError, OSError) as error:  # not an npz, pickled arrays, damaged zip
        raise BundleSchemaError(f"{path}: not a numpy weights file ({error})") from None
    return weights


def _array(
    path: Path, data: np.lib.npyio.NpzFile, key: str, shape: tuple[int, ...], layer: str
) -> Float32Array:
    if key not in data.files:
        raise BundleSchemaError(
            f"{path}: {key}: expected an array of shape {shape} for layer {layer!r}, none found"
        )
    array = np.asarray(data[key])
    if array.dtype.kind != "f":
        raise BundleSchemaError(f"{path}: {key}: expected float values, was dtype {array.dtype}")
    if array.shape != shape:
        raise BundleSchemaError(
            f"{path}: {key}: expected shape {shape} (algorithm.layers {layer!r}), was {array.shape}"
        )
    if not np.isfinite(array).all():
        raise BundleSchemaError(f"{path}: {key}: expected finite values, found NaN or inf")
    return np.asarray(array, dtype=np.float32)


def check_verification_file(path: Path, metadata: BundleMetadata) -> None:
    """Check the shapes of ``verification.npz`` against the observation, action and parity info.

    Raises:
        BundleSchemaError: An array is missing or has another shape than the metadata gives.
    """
    reference = load_reference(path)
    action = metadata.action
    n_rows = metadata.parity.n_verification_observations
    action_shape = () if action.kind == "discrete" else tuple(action.shape or ())
    expected = {
        "observations": ((n_rows, *metadata.observation.shape), reference.observations.shape),
        "scores": ((n_rows, action.n_scores), reference.scores.shape),
        "actions": ((n_rows, *action_shape), reference.actions.shape),
    }
    for key, (shape, actual) in expected.items():
        if actual != shape:
            raise BundleSchemaError(
                f"{path}: {key}: expected shape {shape} (from observation.shape, action and "
                f"parity.n_verification_observations), was {actual}"
            )
    if not np.isfinite(reference.scores).all():
        raise BundleSchemaError(f"{path}: scores: expected finite values, found NaN or inf")
