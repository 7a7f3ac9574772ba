"""``NumpyPolicy``: runs an MLP bundle with numpy alone (no torch, no onnxruntime, no SB3).

``policy.npz`` holds the weights of the network that ``metadata.algorithm.layers`` describes
(``"linear 52x64"``, ``"relu"``, ``"tanh"``, ...); QR-DQN's quantile average is folded into the
last layer at export. Normalization comes from ``metadata.normalization`` through the same
float32 conversion the exported graphs use. One observation runs through preallocated buffers
(``np.dot(..., out=)``), so a call allocates only its result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Self

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.consistency import read_numpy_weights
from intraday_rl.bundle.runtime import Action, BundlePolicy
from intraday_rl.bundle.schema import NUMPY_FILE
from intraday_rl.bundle.storage import LoadedBundle
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleSchemaError

Layer = Callable[[Float32Array], Float32Array]

ACTIVATIONS: Final[dict[str, Callable[[Float32Array, Float32Array], object]]] = {
    "relu": lambda x, out: np.maximum(x, 0.0, out=out),
    "tanh": lambda x, out: np.tanh(x, out=out),
    "identity": lambda x, out: None,
}
"""Activations the numpy runtime evaluates (in place); export writes no npz for others."""


class NumpyPolicy(BundlePolicy):
    """A bundle policy evaluated with numpy from ``policy.npz`` (MLP policies only)."""

    runtime = "numpy"

    def __init__(
        self,
        bundle: LoadedBundle,
        layout: ObservationLayout,
        weights: list[tuple[Float32Array, Float32Array]],
    ) -> None:
        super().__init__(bundle, layout)
        metadata = bundle.metadata
        self._weights = weights  # (W^T (in, out), b (out,)) per linear layer
        self._program = self._compile(metadata.algorithm.layers)
        self._normalize: Layer | None = None
        if metadata.normalization is not None:
            mean, inv_std = metadata.normalization.float32_arrays()
            self._normalize = _normalizer(mean, inv_std, metadata.normalization.clip_obs)
        action = metadata.action
        self._squash = metadata.algorithm.squash_output
        self._low = np.asarray(action.low or (), dtype=np.float32)
        self._high = np.asarray(action.high or (), dtype=np.float32)

    @classmethod
    def _open(cls, bundle: LoadedBundle, layout: ObservationLayout, n_threads: int | None) -> Self:
        # Shapes are checked against algorithm.layers (BundleSchemaError naming the array).
        checked = read_numpy_weights(bundle.path / NUMPY_FILE, bundle.metadata.algorithm.layers)
        weights = [(np.ascontiguousarray(weight.T), bias.copy()) for weight, bias in checked]
        return cls(bundle, layout, weights)

    def _compile(self, layers: tuple[str, ...]) -> list[Layer]:
        # One closure per layer writing into its own preallocated buffer (single observations).
        if not layers or not layers[0].startswith("linear "):
            raise BundleSchemaError(
                f"algorithm.layers: expected a linear first layer, was {layers}"
            )
        program: list[Layer] = []
        weights = iter(self._weights)
        for name in layers:
            if name.startswith("linear "):
                weight, bias = next(weights)
                program.append(_linear(weight, bias))
            elif name in ACTIVATIONS:
                program.append(_activation(ACTIVATIONS[name]))
            else:
                raise BundleSchemaError(f"algorithm.layers: unknown layer {name!r}")
        return program

    def _forward(self, observation: Float32Array) -> Float32Array:
        hidden = observation if self._normalize is None else self._normalize(observation)
        for layer in self._program:
            hidden = layer(hidden)
        return hidden

    def _act(self, observation: Float32Array) -> Action:
        scores = self._forward(observation)
        if self._discrete:
            return int(scores.argmax())
        action: Float32Array = self._box_action(scores[None, :])[0]
        return action

    def _box_action(self, means: Float32Array) -> Float32Array:
        if self._squash:
            unit = np.tanh(means)
            return (self._low + 0.5 * (unit + 1.0) * (self._high - self._low)).astype(np.float32)
        return np.minimum(np.maximum(means, self._low), self._high).astype(np.float32)

    def _evaluate(self, observations: Float32Array) -> tuple[npt.NDArray[Any], Float32Array]:
        hidden = observations.astype(np.float32)
        normalization = self.metadata.normalization
        if normalization is not None:
            mean, inv_std = normalization.float32_arrays()
            clip = np.float32(normalization.clip_obs)
            hidden = np.clip((hidden - mean) * inv_std, -clip, clip)
        weights = iter(self._weights)
        for name in self.metadata.algorithm.layers:
            if name.startswith("linear "):
                weight, bias = next(weights)
                hidden = hidden @ weight + bias
            else:
                ACTIVATIONS[name](hidden, hidden)
        scores = hidden.astype(np.float32)
        if self._discrete:
            return scores.argmax(axis=1).astype(np.int64), scores
        return self._box_action(scores), scores


def _linear(weight: Float32Array, bias: Float32Array) -> Layer:
    buffer = np.empty(weight.shape[1], dtype=np.float32)
    dot, add = np.dot, np.add

    def layer(hidden: Float32Array) -> Float32Array:
        dot(hidden, weight, out=buffer)
        add(buffer, bias, out=buffer)
        return buffer

    return layer


def _activation(function: Callable[[Float32Array, Float32Array], object]) -> Layer:
    def layer(hidden: Float32Array) -> Float32Array:
        function(hidden, hidden)
        return hidden

    return layer


def _normalizer(mean: Float32Array, inv_std: Float32Array, clip_obs: float) -> Layer:
    buffer = np.empty_like(mean)
    high, low = np.float32(clip_obs), np.float32(-clip_obs)

    def normalize(observation: Float32Array) -> Float32Array:
        np.subtract(observation, mean, out=buffer)
        np.multiply(buffer, inv_std, out=buffer)
        np.minimum(buffer, high, out=buffer)
        np.maximum(buffer, low, out=buffer)
        return buffer

    return normalize
