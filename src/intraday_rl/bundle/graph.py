"""From a trained SB3 model to the exported graph (torch; imported only by export).

The SB3 model is read structurally (``policy.q_net``, ``policy.quantile_net``,
``policy.mlp_extractor`` ...), never imported, so this context stays free of SB3. Its networks are
deep-copied onto the CPU, frozen (``requires_grad=False``) and wrapped in :class:`ExportModule`:
raw observation → normalization (if any) → network → greedy head. ``scores`` exposes the values
the head picks from, for parity checks.
"""

from __future__ import annotations

import copy
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

SUPPORTED_ALGORITHMS: Final = ("DQN", "QRDQN", "PPO", "A2C")
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


class _ActorNetwork(nn.Module):
    # PPO / A2C actor: features → mlp_extractor.forward_actor → action_net.
    def __init__(self, features: nn.Module, extractor: Any, action_net: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.extractor: Any = extractor
        self.action_net = action_net

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        latent: torch.Tensor = self.extractor.forward_actor(self.features(observation))
        output: torch.Tensor = self.action_net(latent)
        return output


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
    """An SB3 policy prepared for export."""

    algorithm: str
    policy_class: str
    head: HeadKind
    module: ExportModule
    action: ActionInfo
    n_quantiles: int | None = None
    layers: tuple[str, ...] = ()
    numpy_weights: dict[str, npt.NDArray[np.float32]] = field(default_factory=dict)

    def reference_scores(self, observations: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Run ``scores`` eagerly on raw observations (the parity reference)."""
        with torch.inference_mode():
            scores = self.module.scores(torch.from_numpy(np.ascontiguousarray(observations)))
        return scores.numpy().astype(np.float32)


def algorithm_name(model: Any) -> str:
    """Return the supported SB3 algorithm a model is (or subclasses).

    Raises:
        BundleExportError: The model is not DQN, QRDQN, PPO or A2C.
    """
    for cls in type(model).__mro__:
        if cls.__name__ in SUPPORTED_ALGORITHMS:
            return cls.__name__
    raise BundleExportError(
        f"model: expected an SB3 {', '.join(SUPPORTED_ALGORITHMS)} model, was "
        f"{type(model).__module__}.{type(model).__name__}"
    )


def extract_policy(
    model: Any,
    normalization: ObservationNormalization | None,
    position_levels: tuple[float, ...],
) -> ExtractedPolicy:
    """Deep-copy the model's greedy network to the CPU and wrap it for export.

    Raises:
        BundleExportError: Unsupported algorithm, action space or distribution.
    """
    algorithm = algorithm_name(model)
    policy = model.policy
    space = model.action_space
    space_kind = type(space).__name__
    if algorithm in ("DQN", "QRDQN") or space_kind == "Discrete":
        if space_kind != "Discrete":
            raise BundleExportError(f"{algorithm}: expected a Discrete action space, was {space}")
        action = _discrete_action(int(space.n), position_levels)
    elif space_kind == "Box":
        action = _box_action(space)
    else:
        raise BundleExportError(
            f"{algorithm}: expected a Discrete or Box action space, was {space_kind}"
        )
    head: HeadKind
    if algorithm == "DQN":
        network, head = _frozen(policy.q_net), "q_argmax"
        parts = (network.features_extractor, network.q_net, None)
    elif algorithm == "QRDQN":
        network, head = _frozen(policy.quantile_net), "quantile_mean_argmax"
        parts = (network.features_extractor, network.quantile_net, None)
    else:
        head = _actor_critic_head(policy, space_kind)
        network = _frozen(
            _ActorNetwork(policy.pi_features_extractor, policy.mlp_extractor, policy.action_net)
        )
        policy_net = getattr(network.extractor, "policy_net", None)
        parts = (network.features, policy_net, network.action_net)
    squash = bool(getattr(policy, "squash_output", False)) and head == "gaussian_mode"
    low = None if action.low is None else np.asarray(action.low, np.float32)
    high = None if action.high is None else np.asarray(action.high, np.float32)
    n_quantiles = int(policy.n_quantiles) if algorithm == "QRDQN" else None
    layers, weights = _mlp_program(*parts, n_quantiles=n_quantiles)
    reduce_quantiles = n_quantiles is not None
    if n_quantiles is not None and layers:
        # Fold the quantile mean into the last layer: one Gemm instead of Reshape + ReduceMean.
        network = _folded_quantile_network(network, weights, len(layers) - 1)
        reduce_quantiles = False
    module = ExportModule(network, head, normalization, low, high, squash, reduce_quantiles).eval()
    return ExtractedPolicy(
        algorithm=algorithm,
        policy_class=type(policy).__name__,
        head=head,
        module=module,
        action=action,
        n_quantiles=n_quantiles,
        layers=layers,
        numpy_weights=weights,
    )


def _folded_quantile_network(
    network: Any, weights: dict[str, npt.NDArray[np.float32]], index: int
) -> nn.Module:
    # QR-DQN's features → hidden layers → one Linear with the quantile-averaged weights.
    body = list(network.quantile_net)
    last = nn.Linear(body[-1].in_features, weights[f"layer{index}.bias"].size)
    with torch.no_grad():
        last.weight.copy_(torch.from_numpy(weights[f"layer{index}.weight"]))
        last.bias.copy_(torch.from_numpy(weights[f"layer{index}.bias"]))
    folded: nn.Module = _frozen(nn.Sequential(network.features_extractor, *body[:-1], last))
    return folded


def _frozen(module: nn.Module) -> Any:
    copied = copy.deepcopy(module).to("cpu").eval()
    for parameter in copied.parameters():
        parameter.requires_grad_(False)
    return copied


def _discrete_action(n_actions: int, position_levels: tuple[float, ...]) -> ActionInfo:
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


def _box_action(space: Any) -> ActionInfo:
    low = np.asarray(space.low, dtype=np.float64).reshape(-1)
    high = np.asarray(space.high, dtype=np.float64).reshape(-1)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise BundleExportError(f"action space: expected finite Box bounds, was {space}")
    return ActionInfo(
        kind="box",
        shape=tuple(int(size) for size in space.shape),
        low=tuple(low.tolist()),
        high=tuple(high.tolist()),
        n_scores=int(low.size),
    )


def _actor_critic_head(policy: Any, space_kind: str) -> HeadKind:
    distribution = type(policy.action_dist).__name__
    if space_kind == "Discrete" and distribution == "CategoricalDistribution":
        return "categorical_mode"
    if space_kind == "Box" and distribution in (
        "DiagGaussianDistribution",
        "StateDependentNoiseDistribution",
    ):
        return "gaussian_mode"
    raise BundleExportError(
        f"policy: action distribution {distribution} with a {space_kind} action space is not "
        "supported (expected Categorical or diagonal Gaussian)"
    )


def _mlp_program(
    features: Any, body: Any, head: Any, *, n_quantiles: int | None
) -> tuple[tuple[str, ...], dict[str, npt.NDArray[np.float32]]]:
    # The numpy runtime's layers and weights, or ((), {}) when the network is not a plain MLP
    # over flattened 1-D observations.
    if type(features).__name__ != "FlattenExtractor" or not isinstance(body, nn.Sequential):
        return (), {}
    modules = [*body, *([head] if head is not None else [])]
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
