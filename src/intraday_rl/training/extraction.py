"""From a trained SB3 model to what :func:`intraday_rl.bundle.export_bundle` takes.

The bundle context knows networks, not frameworks: it exports an :class:`ExtractedPolicy` (a
frozen torch network behind a greedy head) and checks it against a reference predict. This
module reads an SB3 / sb3-contrib model structurally (``policy.q_net``, ``policy.quantile_net``,
``policy.mlp_extractor`` ...) to build both; an RLlib backend would bring its own.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from intraday_rl.bundle.graph import (
    ExportModule,
    ExtractedPolicy,
    box_action_info,
    discrete_action_info,
    frozen,
    mlp_program,
)
from intraday_rl.bundle.normalization import ObservationNormalization
from intraday_rl.bundle.schema import HeadKind
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleExportError

SUPPORTED_ALGORITHMS: Final = ("DQN", "QRDQN", "PPO", "A2C")

ReferencePredict = Callable[[Float32Array], npt.NDArray[Any]]


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


def extract_sb3_policy(
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
        action = discrete_action_info(int(space.n), position_levels)
    elif space_kind == "Box":
        action = box_action_info(space.low, space.high, space.shape)
    else:
        raise BundleExportError(
            f"{algorithm}: expected a Discrete or Box action space, was {space_kind}"
        )
    head: HeadKind
    if algorithm == "DQN":
        network, head = frozen(policy.q_net), "q_argmax"
        parts = (network.features_extractor, network.q_net, None)
    elif algorithm == "QRDQN":
        network, head = frozen(policy.quantile_net), "quantile_mean_argmax"
        parts = (network.features_extractor, network.quantile_net, None)
    else:
        head = _actor_critic_head(policy, space_kind)
        network = frozen(
            _ActorNetwork(policy.pi_features_extractor, policy.mlp_extractor, policy.action_net)
        )
        policy_net = getattr(network.extractor, "policy_net", None)
        parts = (network.features, policy_net, network.action_net)
    squash = bool(getattr(policy, "squash_output", False)) and head == "gaussian_mode"
    low = None if action.low is None else np.asarray(action.low, np.float32)
    high = None if action.high is None else np.asarray(action.high, np.float32)
    n_quantiles = int(policy.n_quantiles) if algorithm == "QRDQN" else None
    layers, weights = _plain_mlp(*parts, n_quantiles=n_quantiles)
    reduce_quantiles = n_quantiles is not None
    if n_quantiles is not None and layers:
        # Fold the quantile mean into the last layer: one Gemm instead of Reshape + ReduceMean.
        network = _folded_quantile_network(network, weights, len(layers) - 1)
        reduce_quantiles = False
    module = ExportModule(network, head, normalization, low, high, squash, reduce_quantiles).eval()
    framework, version = _framework(model)
    return ExtractedPolicy(
        algorithm=algorithm,
        policy_class=type(policy).__name__,
        head=head,
        module=module,
        action=action,
        obs_shape=tuple(int(size) for size in model.observation_space.shape or ()),
        framework=framework,
        framework_version=version,
        normalization=normalization,
        n_quantiles=n_quantiles,
        layers=layers,
        numpy_weights=weights,
    )


def sb3_reference_predict(
    model: Any, normalization: ObservationNormalization | None
) -> ReferencePredict:
    """SB3's own greedy ``predict`` on raw observations (normalized as the model saw them)."""

    def predict(observations: Float32Array) -> npt.NDArray[Any]:
        seen = observations if normalization is None else normalization.apply(observations)
        actions, _ = model.predict(seen, deterministic=True)
        return np.asarray(actions)

    return predict


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


def _plain_mlp(
    features: Any, body: Any, head: Any, *, n_quantiles: int | None
) -> tuple[tuple[str, ...], dict[str, npt.NDArray[np.float32]]]:
    # The numpy runtime runs plain MLPs over flattened 1-D observations only.
    if type(features).__name__ != "FlattenExtractor" or not isinstance(body, nn.Sequential):
        return (), {}
    return mlp_program([*body, *([head] if head is not None else [])], n_quantiles=n_quantiles)


def _folded_quantile_network(
    network: Any, weights: dict[str, npt.NDArray[np.float32]], index: int
) -> nn.Module:
    # QR-DQN's features → hidden layers → one Linear with the quantile-averaged weights.
    body = list(network.quantile_net)
    last = nn.Linear(body[-1].in_features, weights[f"layer{index}.bias"].size)
    with torch.no_grad():
        last.weight.copy_(torch.from_numpy(weights[f"layer{index}.weight"]))
        last.bias.copy_(torch.from_numpy(weights[f"layer{index}.bias"]))
    folded: nn.Module = frozen(nn.Sequential(network.features_extractor, *body[:-1], last))
    return folded


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


def _framework(model: Any) -> tuple[str, str]:
    name = (
        "sb3-contrib" if type(model).__module__.startswith("sb3_contrib") else "stable-baselines3"
    )
    try:
        return name, importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return name, "unknown"
