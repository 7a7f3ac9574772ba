"""Policies on the training side: ``SB3Policy`` (a trained SB3 model) and the bundle runtime.

Importing this package loads neither SB3 nor torch.
"""

from intraday_rl.training.policies.sb3_policy import SB3Policy, TorchScriptPolicy

__all__ = ["SB3Policy", "TorchScriptPolicy"]
