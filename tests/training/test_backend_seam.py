"""TrainerAgent through its backend seam: a framework that is not SB3 trains, evaluates, exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from intraday_rl.bundle import load_policy, read_bundle
from intraday_rl.bundle.graph import ExportModule, ExtractedPolicy, discrete_action_info, frozen
from intraday_rl.training.backend import FitOutcome, TrainingPlan
from intraday_rl.training.config import load_training_config
from intraday_rl.training.trainer_agent import TrainerAgent


class _LongPolicy:
    name = "always-long"

    def act(self, observation: Any, env: Any) -> int:
        return 2  # the last level: fully long


class _FixedModel:
    """A 'trained' linear Q network that always prefers the last action."""

    def __init__(self, obs_dim: int, steps: int) -> None:
        torch.manual_seed(0)
        layer = torch.nn.Linear(obs_dim, 3)
        with torch.no_grad():
            layer.weight.zero_()
            layer.bias.copy_(torch.tensor([0.0, 1.0, 2.0]))
        self.network = frozen(torch.nn.Sequential(layer))
        self.obs_dim = obs_dim
        self.steps = steps
        self.saved: list[Path] = []

    @property
    def num_timesteps(self) -> int:
        return self.steps

    def save(self, path: Path) -> None:
        torch.save(self.network.state_dict(), path)
        self.saved.append(path)

    def env_policy(self, name: str = "agent") -> _LongPolicy:
        return _LongPolicy()

    def extract(self, position_levels: tuple[float, ...]) -> tuple[ExtractedPolicy, Any]:
        policy = ExtractedPolicy(
            algorithm="DQN",
            policy_class="FixedQ",
            head="q_argmax",
            module=ExportModule(self.network, "q_argmax", None).eval(),
            action=discrete_action_info(3, position_levels),
            obs_shape=(self.obs_dim,),
            framework="fixed-test",
            framework_version="1",
        )
        return policy, lambda observations: np.full(len(observations), 2, np.int64)


class _FixedBackend:
    name = "fixed"
    final_model_name = "final_model.pt"

    def __init__(self) -> None:
        self.plans: list[TrainingPlan] = []

    def fit(self, plan: TrainingPlan) -> FitOutcome:
        self.plans.append(plan)
        obs_dim = plan.validation_env().observation_space.shape[0]
        return FitOutcome(_FixedModel(obs_dim, 123), resumed_from=None, stop_reason=None)

    def load(self, run_dir: Path, which: Literal["best", "final"]) -> _FixedModel | None:
        return None


def test_a_non_sb3_backend_trains_evaluates_and_exports_through_the_trainer(make_config):
    backend = _FixedBackend()
    config = load_training_config(make_config(run={"export_bundle": True}))
    bundle = TrainerAgent(config, backend=backend).run()

    (plan,) = backend.plans
    assert plan.advisor is not None
    assert plan.advisor().policy_hash
    assert len(plan.train_sessions) > 0
    assert plan.train_env_config.reward_control_variate >= 0
    assert (plan.run_dir / "final_model.pt").is_file()
    metadata = read_bundle(bundle).metadata
    assert metadata.algorithm.framework == "fixed-test"
    assert metadata.lineage.timesteps == 123
    policy = load_policy(bundle)
    action, info = policy.predict(np.zeros(policy.layout.obs_dim, np.float32))
    assert action == 2
    assert info["target_position"] == config.env.position_levels[2]
    assert (plan.run_dir / "evaluation.json").is_file()
