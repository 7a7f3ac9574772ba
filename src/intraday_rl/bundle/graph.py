"""The exported graph (torch; imported only by export and by the training side that builds it).

A framework adapter (SB3's: :mod:`intraday_rl.training.extraction`) deep-copies its network onto
the CPU, frozen (``requires_grad=False``), and wraps it in :class:`ExportModule`: raw observation
→ normalization (if any) → network → greedy head; ``scores`` exposes the values the head picks
from, for parity checks. :class:`ExtractedPolicy` is what :func:`~intraday_rl.bundle.export_bundle`
exports; nothing here knows a training framework.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from intraday_rl.bundle.normalization import ObservationNormalization
from intraday_rl.bundle.schema import ONNX_INPUT, ONNX_OUTPUTS, ActionInfo, HeadKind
from intraday_rl.bundle.torchscript_runtime import quiet_torchscript
from intraday_rl.shared.errors import BundleExportError

_ACTIVATIONS: Final = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Identity: "identity"}


class ExportModule(nn.Module):
    """Raw float32 observation (n, obs_dim) → greedy action; ``scores`` → the head's inputs."""

    mean: torch.Tensor
    inv_std: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor

    def __init__(
        self,
        network: nn.Module,
        head: HeadKind,
        normalization: ObservationNormalization | None,
        low: npt.NDArray[np.float32] | None = None,
        high: npt.NDArray[np.float32] | None = None,
        squash_output: bool = False,
        reduce_quantiles: bool = False,
    ) -> None:
        super().__init__()
        self.network = network
        self.head = head
        self.reduce_quantiles = reduce_quantiles
        self.normalize = normalization is not None
        self.clip_obs = 0.0 if normalization is None else float(normalization.clip_obs)
        mean, inv_std = (np.zeros(1, np.float32),) * 2
        if normalization is not None:
            mean, inv_std = normalization.float32_arrays()
        self.register_buffer("mean", torch.from_numpy(mean))
        self.register_buffer("inv_std", torch.from_numpy(inv_std))
        self.squash_output = squash_output
        bounds = np.zeros(1, np.float32)
        self.register_buffer("low", torch.from_numpy(bounds if low is None else low))
        self.register_buffer("high", torch.from_numpy(bounds if high is None else high))

    def scores(self, observation: torch.Tensor) -> torch.Tensor:
        """Return q-values, quantile-mean q-values, logits or box means, (n, k)."""
        hidden = observation
        if self.normalize:
            hidden = (hidden - self.mean) * self.inv_std
            hidden = torch.clamp(hidden, -self.clip_obs, self.clip_obs)
        output: torch.Tensor = self.network(hidden)
        if self.reduce_quantiles:  # (n, quantiles, actions) -> mean over quantiles
            output = output.mean(dim=1)
        return output

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        """Return the greedy action: int64 (n,) indices, or float32 (n, dims) box actions."""
        return self.head_action(self.scores(observation))

    def head_action(self, scores: torch.Tensor) -> torch.Tensor:
        """Return the greedy action for ``scores`` (argmax, or the clipped / squashed mean)."""
        if self.head != "gaussian_mode":
            return torch.argmax(scores, dim=-1)
        if self.squash_output:
            unit = torch.tanh(scores)
            return self.low + 0.5 * (unit + 1.0) * (self.high - self.low)
        return torch.maximum(torch.minimum(scores, self.high), self.low)


class _OnnxOutputs(nn.Module):
    # What policy.onnx computes: both outputs of one pass.
    def __init__(self, module: ExportModule) -> None:
        super().__init__()
        self.module = module

    def forward(self, observation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.module.scores(observation)
        return self.module.head_action(scores), scores


@dataclass
class ExtractedPolicy:
    """A trained policy's greedy network, framework-free, with what the bundle records of it."""

    algorithm: str
    policy_class: str
    head: HeadKind
    module: ExportModule
    action: ActionInfo
    obs_shape: tuple[int, ...]
    framework: str
    framework_version: str
    normalization: ObservationNormalization | None = None
    n_quantiles: int | None = None
    layers: tuple[str, ...] = ()
    numpy_weights: dict[str, npt.NDArray[np.float32]] = field(default_factory=dict)

    def reference_scores(self, observations: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Run ``scores`` eagerly on raw observations (the parity reference)."""
        with torch.inference_mode():
            scores = self.module.scores(torch.from_numpy(np.ascontiguousarray(observations)))
        return scores.numpy().astype(np.float32)


def frozen(module: nn.Module) -> Any:
    """A deep copy of ``module`` on the CPU in eval mode, with no gradients."""
    copied = copy.deepcopy(module).to("cpu").eval()
    for parameter in copied.parameters():
        parameter.requires_grad_(False)
    return copied


def discrete_action_info(n_actions: int, position_levels: tuple[float, ...]) -> ActionInfo:
    """The action record of a Discrete(n) policy whose action i targets ``position_levels[i]``."""
    if len(position_levels) != n_actions:
        raise BundleExportError(
            f"position_levels: expected {n_actions} levels (the model's Discrete({n_actions}) "
            f"action space), was {len(position_levels)}: {position_levels}"
        )
    return ActionInfo(
        kind="discrete",
        n_actions=n_actions,
        position_levels=tuple(float(level) for level in position_levels),
        n_scores=n_actions,
    )


def box_action_info(low: Any, high: Any, shape: tuple[int, ...]) -> ActionInfo:
    """The action record of a Box policy (target exposure within [low, high])."""
    low = np.asarray(low, dtype=np.float64).reshape(-1)
    high = np.asarray(high, dtype=np.float64).reshape(-1)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise BundleExportError(
            f"action space: expected finite Box bounds, was low={low.tolist()} high={high.tolist()}"
        )
    return ActionInfo(
        kind="box",
        shape=tuple(int(size) for size in shape),
        low=tuple(low.tolist()),
        high=tuple(high.tolist()),
        n_scores=int(low.size),
    )


def mlp_program(
    modules: Sequence[nn.Module], *, n_quantiles: int | None
) -> tuple[tuple[str, ...], dict[str, npt.NDArray[np.float32]]]:
    """The numpy runtime's layers and weights for ``modules`` (Linear and activations, in order).

    Returns ((), {}) when they are not a plain MLP; with ``n_quantiles`` the last layer's
    quantile mean is folded in (QR-DQN).
    """
    layers: list[str] = []
    weights: dict[str, npt.NDArray[np.float32]] = {}
    for index, module in enumerate(modules):
        if isinstance(module, nn.Linear):
            layers.append(f"linear {module.in_features}x{module.out_features}")
            weights[f"layer{index}.weight"] = module.weight.detach().numpy().astype(np.float32)
            weights[f"layer{index}.bias"] = module.bias.detach().numpy().astype(np.float32)
        elif type(module) in _ACTIVATIONS:
            layers.append(_ACTIVATIONS[type(module)])
        else:
            return (), {}
    if not layers or not layers[0].startswith("linear ") or not layers[-1].startswith("linear"):
        return (), {}
    if n_quantiles is not None:
        _fold_quantile_mean(weights, len(modules) - 1, n_quantiles)
        out = weights[f"layer{len(modules) - 1}.bias"].size
        layers[-1] = f"{layers[-1].split('x')[0]}x{out}"
    return tuple(layers), weights


def _fold_quantile_mean(
    weights: dict[str, npt.NDArray[np.float32]], index: int, n_quantiles: int
) -> None:
    # mean over quantiles of (W x + b) = (mean W) x + mean b, with rows ordered (quantile, action).
    weight = weights[f"layer{index}.weight"].astype(np.float64)
    bias = weights[f"layer{index}.bias"].astype(np.float64)
    n_actions = bias.size // n_quantiles
    folded = weight.reshape(n_quantiles, n_actions, -1).mean(axis=0)
    weights[f"layer{index}.weight"] = folded.astype(np.float32)
    weights[f"layer{index}.bias"] = (
        bias.reshape(n_quantiles, n_actions).mean(axis=0).astype(np.float32)
    )


def write_torchscript(module: ExportModule, obs_dim: int, path: Path) -> None:
    """Trace ``forward`` and ``scores``, freeze, and save ``policy.pt``."""
    example = torch.zeros(2, obs_dim, dtype=torch.float32)
    with quiet_torchscript(), torch.no_grad():
        traced = torch.jit.trace_module(  # type: ignore[no-untyped-call]
            module, {"forward": example, "scores": example}
        )
        frozen = torch.jit.freeze(traced.eval(), preserved_attrs=["scores"])
        torch.jit.save(frozen, str(path))


def write_onnx(module: ExportModule, obs_dim: int, path: Path, opset_version: int) -> None:
    """Export ``policy.onnx`` (TorchScript-based exporter) with a dynamic batch axis."""
    example = torch.zeros(2, obs_dim, dtype=torch.float32)
    batch_axes = {name: {0: "batch"} for name in (ONNX_INPUT, *ONNX_OUTPUTS)}
    with quiet_torchscript(), torch.no_grad():
        try:
            torch.onnx.export(
                _OnnxOutputs(module).eval(),
                (example,),
                str(path),
                dynamo=False,
                input_names=[ONNX_INPUT],
                output_names=list(ONNX_OUTPUTS),
                dynamic_axes=batch_axes,
                opset_version=opset_version,
                do_constant_folding=True,
            )
        except Exception as error:  # the exporter raises many unrelated types
            raise BundleExportError(f"{path}: ONNX export failed: {error}") from error


def write_numpy_weights(weights: dict[str, npt.NDArray[np.float32]], path: Path) -> None:
    """Save the numpy runtime's weights (``policy.npz``, no pickles)."""
    with path.open("wb") as stream:
        np.savez(stream, **weights)  # type: ignore[arg-type]
