"""``OnnxRuntimePolicy``: runs ``policy.onnx`` with ONNX Runtime alone (no torch, no SB3).

The session runs one intra-op thread, one inter-op thread, sequential execution and every graph
optimization. ``predict`` copies the observation into an input buffer bound once (IOBinding) and
reads the action from an output buffer bound once, so a call allocates nothing. The bound run
goes straight to the session's C++ ``run_with_iobinding`` when the installed onnxruntime exposes
it (its Python wrapper adds ~25 µs of WebGPU capture bookkeeping per call), else through the
public API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from intraday_rl.bundle.runtime import Action, BundlePolicy
from intraday_rl.bundle.schema import ONNX_FILE, ONNX_INPUT, ONNX_OUTPUTS
from intraday_rl.bundle.storage import LoadedBundle
from intraday_rl.features.layout import ObservationLayout
from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import BundleRuntimeUnavailableError, BundleSchemaError


def import_onnxruntime() -> Any:
    """Import onnxruntime or raise :class:`BundleRuntimeUnavailableError` with the fix."""
    try:
        import onnxruntime  # type: ignore[import-untyped]
    except ImportError as error:
        raise BundleRuntimeUnavailableError(
            "the onnxruntime runtime needs onnxruntime: pip install onnxruntime (or use "
            "load_policy, which picks an installed runtime)"
        ) from error
    return onnxruntime


def session_options(ort: Any, n_threads: int | None) -> Any:
    """Return ``SessionOptions`` for low-latency single-observation inference."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1 if n_threads is None else n_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxRuntimePolicy(BundlePolicy):
    """A bundle policy run by ONNX Runtime (``policy.onnx``); needs onnxruntime only."""

    runtime = "onnxruntime"

    def __init__(self, bundle: LoadedBundle, layout: ObservationLayout, session: Any) -> None:
        super().__init__(bundle, layout)
        ort = import_onnxruntime()
        self._session = session
        action = bundle.metadata.action
        self._input = np.zeros((1, layout.obs_dim), dtype=np.float32)
        self._input_row = self._input[0]
        if self._discrete:
            self._action = np.zeros((1,), dtype=np.int64)
        else:
            self._action = np.zeros((1, *(action.shape or ())), dtype=np.float32)
        self._scores = np.zeros((1, action.n_scores), dtype=np.float32)
        # Keep the OrtValues alive: they wrap the numpy buffers above.
        self._values = [
            ort.OrtValue.ortvalue_from_numpy(array)
            for array in (self._input, self._action, self._scores)
        ]
        binding = session.io_binding()
        binding.bind_ortvalue_input(ONNX_INPUT, self._values[0])
        for name, value in zip(ONNX_OUTPUTS, self._values[1:], strict=True):
            binding.bind_ortvalue_output(name, value)
        self._binding = binding
        self._run_options = ort.RunOptions()
        self._run_bound: Callable[[], object]
        native_session = getattr(session, "_sess", None)
        native_binding = getattr(binding, "_iobinding", None)
        if native_session is not None and native_binding is not None:
            run = native_session.run_with_iobinding
            self._run_bound = lambda: run(native_binding, self._run_options)
        else:  # pragma: no cover - other onnxruntime versions
            self._run_bound = lambda: session.run_with_iobinding(binding, self._run_options)

    @classmethod
    def _open(cls, bundle: LoadedBundle, layout: ObservationLayout, n_threads: int | None) -> Self:
        ort = import_onnxruntime()
        path = bundle.path / ONNX_FILE
        try:
            session = ort.InferenceSession(
                str(path), session_options(ort, n_threads), providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own non-exported exception types
            raise BundleSchemaError(f"{path}: ONNX Runtime cannot load it ({error})") from None
        inputs = [(item.name, item.shape[-1]) for item in session.get_inputs()]
        outputs = tuple(item.name for item in session.get_outputs())
        if inputs != [(ONNX_INPUT, layout.obs_dim)] or outputs != ONNX_OUTPUTS:
            raise BundleSchemaError(
                f"{path}: expected input {ONNX_INPUT!r} of width {layout.obs_dim} and outputs "
                f"{ONNX_OUTPUTS}, was inputs {inputs} and outputs {outputs}"
            )
        return cls(bundle, layout, session)

    def _act(self, observation: Float32Array) -> Action:
        np.copyto(self._input_row, observation)
        self._run_bound()
        if self._discrete:
            return int(self._action[0])
        result: Float32Array = self._action[0].copy()
        return result

    def _evaluate(self, observations: Float32Array) -> tuple[npt.NDArray[Any], Float32Array]:
        feed = {ONNX_INPUT: np.ascontiguousarray(observations, dtype=np.float32)}
        actions, scores = self._session.run(list(ONNX_OUTPUTS), feed)
        return np.asarray(actions), np.asarray(scores, dtype=np.float32)
