"""``TorchScriptPolicy``: runs ``policy.pt`` with torch alone (no SB3).

``policy.pt`` is frozen at export; loading applies ``torch.jit.optimize_for_inference`` for the
running machine. ``predict`` copies the observation into a preallocated tensor that shares
memory with a numpy row (``torch.from_numpy``) and runs the module with no autograd context: the
frozen module holds no parameter that requires grad and the input is the runtime's own tensor,
so nothing is recorded (``inference_mode`` would cost ~1.4 µs, 10 %, a call). Batches
(verification) run under ``torch.inference_mode``. torch 2.13 deprecates ``torch.jit``; the
runtime silences those warnings only around its own calls.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.runtime import Action, BundlePolicy
from intraday_rl.bundle.schema import TORCHSCRIPT_FILE
from intraday_rl.bundle.storage import LoadedBundle
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleRuntimeUnavailableError, BundleSchemaError

if TYPE_CHECKING:
    import torch


@contextlib.contextmanager
def quiet_torchscript() -> Iterator[None]:
    """Silence torch's deprecation warnings for ``torch.jit`` (and the legacy ONNX exporter)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", category=DeprecationWarning, module=r"torch\.(jit|onnx)(\.|$)"
        )
        warnings.filterwarnings(
            "ignore", message="You are using the legacy TorchScript-based ONNX export"
        )
        yield


def import_torch() -> Any:
    """Import torch or raise :class:`BundleRuntimeUnavailableError` with the fix."""
    try:
        import torch
    except ImportError as error:
        raise BundleRuntimeUnavailableError(
            "the torchscript runtime needs torch: pip install torch (or use load_policy, which "
            "picks an installed runtime)"
        ) from error
    return torch


class TorchScriptPolicy(BundlePolicy):
    """A bundle policy run by TorchScript (``policy.pt``); needs torch, never SB3."""

    runtime = "torchscript"

    def __init__(
        self, bundle: LoadedBundle, layout: ObservationLayout, module: torch.jit.ScriptModule
    ) -> None:
        super().__init__(bundle, layout)
        torch = import_torch()
        self._torch = torch
        self._module = module
        self._input_array = np.zeros((1, layout.obs_dim), dtype=np.float32)
        self._input_row = self._input_array[0]
        self._input = torch.from_numpy(self._input_array)

    @classmethod
    def _open(cls, bundle: LoadedBundle, layout: ObservationLayout, n_threads: int | None) -> Self:
        torch = import_torch()
        if n_threads is not None and torch.get_num_threads() != n_threads:
            torch.set_num_threads(n_threads)  # process-wide: torch has no per-module setting
        path = bundle.path / TORCHSCRIPT_FILE
        with quiet_torchscript():
            try:
                module = torch.jit.load(str(path), map_location="cpu")
            except RuntimeError as error:
                raise BundleSchemaError(f"{path}: not a TorchScript module ({error})") from None
            if not hasattr(module, "scores"):
                raise BundleSchemaError(f"{path}: the module has no 'scores' method")
            module = torch.jit.optimize_for_inference(module, other_methods=["scores"])
        return cls(bundle, layout, module)

    def _act(self, observation: Float32Array) -> Action:
        np.copyto(self._input_row, observation)
        output = self._module(self._input)
        if self._discrete:
            return int(output.item())
        result: Float32Array = output[0].numpy().copy()
        return result

    def _evaluate(self, observations: Float32Array) -> tuple[npt.NDArray[Any], Float32Array]:
        torch = self._torch
        batch = torch.from_numpy(np.ascontiguousarray(observations, dtype=np.float32))
        with torch.inference_mode():
            actions = self._module(batch).numpy().copy()
            scores = self._module.scores(batch).numpy().astype(np.float32, copy=True)
        return actions, scores
