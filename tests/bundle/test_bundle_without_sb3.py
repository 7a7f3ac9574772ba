"""The bundle runtimes import and predict where SB3 (and, for numpy, torch) cannot be imported.

Each check runs in a fresh interpreter with a ``sys.meta_path`` finder that makes the named
packages unimportable, then asserts what got imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

_PRELUDE = """
import importlib.abc, json, sys

BLOCKED = {blocked!r}

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked for this test")
        return None

sys.meta_path.insert(0, Blocker())
"""


def _run(code: str, blocked: tuple[str, ...]) -> dict:
    script = _PRELUDE.format(blocked=set(blocked)) + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


SB3 = ("stable_baselines3", "sb3_contrib")


def test_bundle_package_loads_and_predicts_without_sb3(bundles, trained):
    observation = trained["DQN"].observations[7].tolist()
    code = f"""
    import numpy as np
    import intraday_rl.bundle as bundle
    lazy = [name for name in ("torch", "onnxruntime") if name in sys.modules]
    policies = [bundle.load_policy({str(bundles["DQN"])!r})]
    runtimes = (bundle.TorchScriptPolicy, bundle.OnnxRuntimePolicy, bundle.NumpyPolicy)
    policies += [cls.load_bundle({str(bundles["DQN"])!r}) for cls in runtimes]
    obs = np.asarray({observation!r}, dtype=np.float32)
    print(json.dumps({{
        "lazy": lazy,
        "actions": [policy.predict(obs)[0] for policy in policies],
        "runtimes": [policy.runtime for policy in policies],
        "training": "intraday_rl.training" in sys.modules,
        "sb3": [name for name in {SB3!r} if name in sys.modules],
    }}))
    """
    result = _run(code, SB3)
    expected = int(
        trained["DQN"].model.predict(trained["DQN"].observations[7], deterministic=True)[0]
    )
    assert result["lazy"] == []  # importing intraday_rl.bundle loads neither torch nor ORT
    assert result["actions"] == [expected] * 4
    assert result["runtimes"] == ["onnxruntime", "torchscript", "onnxruntime", "numpy"]
    assert result["training"] is False
    assert result["sb3"] == []


def test_seed_torchscript_path_works_without_sb3(bundles, trained):
    observation = trained["PPO"].observations[3].tolist()
    code = f"""
    from intraday_rl.training.policies.sb3_policy import TorchScriptPolicy
    policy = TorchScriptPolicy.load_bundle({str(bundles["PPO"])!r})
    stats = policy.validate_prediction_latency({observation!r})
    print(json.dumps({{
        "action": policy.predict({observation!r})[0],
        "p99": stats["p99_latency_us"],
        "sb3": [name for name in {SB3!r} if name in sys.modules],
    }}))
    """
    result = _run(code, SB3)
    expected = int(
        trained["PPO"].model.predict(trained["PPO"].observations[3], deterministic=True)[0]
    )
    assert result["action"] == expected
    assert result["sb3"] == []


def test_numpy_runtime_runs_with_only_numpy(bundles, trained):
    observation = trained["QRDQN"].observations[11].tolist()
    code = f"""
    from intraday_rl.bundle import load_policy
    policy = load_policy({str(bundles["QRDQN"])!r})
    print(json.dumps({{"runtime": policy.runtime, "action": policy.predict({observation!r})[0]}}))
    """
    result = _run(code, (*SB3, "torch", "onnxruntime"))
    expected = trained["QRDQN"].model.predict(trained["QRDQN"].observations[11], deterministic=True)
    assert result == {"runtime": "numpy", "action": int(expected[0])}


def test_a_runtime_whose_package_is_missing_says_how_to_install_it(bundles):
    code = f"""
    from intraday_rl.bundle import OnnxRuntimePolicy
    from intraday_rl.shared.errors import BundleRuntimeUnavailableError
    try:
        OnnxRuntimePolicy.load_bundle({str(bundles["A2C"])!r})
    except BundleRuntimeUnavailableError as error:
        print(json.dumps({{"error": str(error)}}))
    """
    result = _run(code, ("onnxruntime",))
    assert "pip install onnxruntime" in result["error"]


@pytest.mark.parametrize("module", ["intraday_rl.bundle", "intraday_rl.training.policies"])
def test_importing_loads_no_heavy_package(module):
    code = f"""
    import {module}
    print(json.dumps([m for m in ("torch", "onnxruntime", "onnx", "stable_baselines3")
                      if m in sys.modules]))
    """
    assert _run(code, ()) == []
