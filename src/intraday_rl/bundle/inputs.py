"""Checking observations before a runtime sees them: shape, dtype, finiteness.

Rules (the same for every runtime):

- shape ``(obs_dim,)`` for one observation or ``(n, obs_dim)``, ``n >= 1``, for a batch;
- dtype: float32 as is; float16 and float64 cast to float32 (values beyond float32's range are
  refused); integers only when every value is exactly representable in float32
  (``|value| <= 2**24``); bool, complex, object, string and time dtypes are refused;
- every value finite: NaN and ±inf are refused, naming the element (``rsi_14[t]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from intraday_rl.shared.arrays import Float32Array
from intraday_rl.shared.errors import PredictionInputError

FLOAT32: Final = np.dtype(np.float32)
_FLOAT32_MAX: Final = float(np.finfo(np.float32).max)
_EXACT_INT_LIMIT: Final = 2**24


class ObservationChecker:
    """Validates and converts observations for one observation layout."""

    __slots__ = ("field_names", "obs_dim", "shape")

    def __init__(self, field_names: Sequence[str]) -> None:
        self.field_names = tuple(field_names)
        self.obs_dim = len(self.field_names)
        self.shape = (self.obs_dim,)

    def convert(self, observation: Any) -> Float32Array:
        """Return ``observation`` as a float32 array of shape (obs_dim,) or (n, obs_dim).

        Raises:
            PredictionInputError: Wrong shape, a dtype that cannot be cast safely, or NaN / inf.
        """
        array = self._as_array(observation)
        if array.ndim not in (1, 2) or array.shape[-1] != self.obs_dim or array.size == 0:
            raise PredictionInputError(
                f"observation: expected shape ({self.obs_dim},) or (n, {self.obs_dim}) with "
                f"n >= 1, was {array.shape}"
            )
        converted = self._as_float32(array)
        self.check_finite(converted)
        return converted

    def check_finite(self, observation: Float32Array) -> None:
        """Raise :class:`PredictionInputError` naming the first NaN or inf element, if any."""
        finite = np.isfinite(observation)
        if finite.all():
            return
        flat = int(np.flatnonzero(~finite.reshape(-1))[0])
        row, column = divmod(flat, self.obs_dim)
        value = observation.reshape(-1)[flat]
        where = f"row {row}, " if observation.ndim == 2 else ""
        raise PredictionInputError(
            f"observation: {where}element {column} ({self.field_names[column]}) is {value}; "
            "the policy needs finite values (check the feature pipeline and the portfolio state)"
        )

    def _as_array(self, observation: Any) -> npt.NDArray[Any]:
        if isinstance(observation, np.ndarray):
            return observation
        if isinstance(observation, (str, bytes, dict)):
            raise PredictionInputError(
                f"observation: expected a numeric array, was {type(observation).__name__}"
            )
        try:
            return np.asarray(observation)
        except (TypeError, ValueError) as error:
            raise PredictionInputError(
                f"observation: cannot be read as an array ({error}); expected a sequence of "
                f"{self.obs_dim} numbers"
            ) from None

    def _as_float32(self, array: npt.NDArray[Any]) -> Float32Array:
        kind = array.dtype.kind
        if kind == "f":
            if array.dtype == FLOAT32:
                return np.ascontiguousarray(array)
            too_big = np.abs(array) > _FLOAT32_MAX
            if np.any(too_big & np.isfinite(array)):
                raise PredictionInputError(
                    f"observation: dtype {array.dtype} has values beyond float32's range "
                    f"(±{_FLOAT32_MAX:.3g}), largest |value| {np.nanmax(np.abs(array)):.6g}"
                )
            return np.ascontiguousarray(array, dtype=np.float32)
        if kind in "iu":
            largest = int(np.max(np.abs(array.astype(np.float64)))) if array.size else 0
            if largest > _EXACT_INT_LIMIT:
                raise PredictionInputError(
                    f"observation: dtype {array.dtype} has |value| {largest} > 2**24, which "
                    "float32 cannot represent exactly; pass float32 observations"
                )
            return np.ascontiguousarray(array, dtype=np.float32)
        raise PredictionInputError(
            f"observation: dtype {array.dtype} cannot be cast safely to float32; expected float32 "
            "(or float16 / float64 / small integers)"
        )
