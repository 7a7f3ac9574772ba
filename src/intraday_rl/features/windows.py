"""Rolling mean and population std over the last ``min(window, t + 1)`` values, batch and O(1).

Float running sums drift: once a large value leaves the window, the sums keep a rounding residue
of its size, so a flat window after a spike reports a std of ~1e-9 instead of 0 (1e-6 after
scaling by 1000). :class:`ExactRollingMoments` therefore keeps its running sums as Python
integers on a fixed 2**-96 grid: adding and removing values is exact, and mean and variance are
rounded only once, at the end. :func:`rolling_deviation_and_std` is the batch counterpart: a
two-pass computation per window, centred on the newest value so near-constant windows lose
nothing to cancellation. The two agree to about 1e-14 relative.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from intraday_rl.shared.arrays import FloatArray

_GRID_BITS: Final = 96
_GRID: Final = 2.0**_GRID_BITS  # values are exact on this grid down to |x| ~ 2**-43
_MAX_CHUNK_ELEMENTS: Final = 1 << 20  # bounds the (rows, window) matrices of the batch path


class ExactRollingMoments:
    """Mean and population std of the last ``min(window, n)`` pushed values, O(1) per push."""

    __slots__ = ("_count", "_last", "_position", "_squares", "_sum", "_sum_squares", "_values")

    def __init__(self, window: int) -> None:
        self._values = [0] * window
        self._squares = [0] * window
        self.reset()

    def reset(self) -> None:
        """Forget every value (start of a session)."""
        window = len(self._values)
        self._values = [0] * window
        self._squares = [0] * window
        self._count = 0
        self._position = 0
        self._sum = 0
        self._sum_squares = 0
        self._last = 0

    def push(self, value: float) -> None:
        """Add a finite ``value``, dropping the oldest one once the window is full."""
        quantized = int(value * _GRID)
        square = quantized * quantized
        position = self._position
        values = self._values
        if self._count == len(values):
            self._sum -= values[position]
            self._sum_squares -= self._squares[position]
        else:
            self._count += 1
        values[position] = quantized
        self._squares[position] = square
        self._sum += quantized
        self._sum_squares += square
        self._last = quantized
        position += 1
        self._position = 0 if position == len(values) else position

    def std(self) -> float:
        """Return the population std of the window (0.0 before the first push)."""
        count = self._count
        if count == 0:
            return 0.0
        # count² · grid² · variance, exactly
        spread = count * self._sum_squares - self._sum * self._sum
        return math.sqrt(spread) / (count * _GRID)

    def zscore_of_last(self, min_std: float) -> float:
        """Return ``(last - mean) / std`` of the window, or 0.0 when ``std < min_std``."""
        count = self._count
        if count == 0:
            return 0.0
        spread = count * self._sum_squares - self._sum * self._sum
        root = math.sqrt(spread)
        if root / (count * _GRID) < min_std:
            return 0.0
        return (count * self._last - self._sum) / root


def rolling_deviation_and_std(values: FloatArray, window: int) -> tuple[FloatArray, FloatArray]:
    """Return ``(x_t - mean_t, std_t)`` over the last ``min(window, t + 1)`` values of ``x``.

    Works on windows centred on ``x_t`` (differences of nearby values are exact), processed in
    row blocks so memory stays bounded for long sessions and windows.
    """
    n_values = values.shape[0]
    deviation = np.empty(n_values)
    std = np.empty(n_values)
    if n_values == 0:
        return deviation, std
    width = min(window, n_values)
    padded = np.concatenate((np.zeros(width - 1), values))
    windows = sliding_window_view(padded, width)  # row t: x[t-width+1 .. t]
    counts = np.minimum(np.arange(1, n_values + 1), width)
    rows = max(1, _MAX_CHUNK_ELEMENTS // width)
    for start in range(0, n_values, rows):
        block = slice(start, min(start + rows, n_values))
        valid = np.arange(width)[None, :] >= (width - counts[block])[:, None]
        diffs = np.where(valid, windows[block] - values[block, None], 0.0)
        mean_diff = diffs.sum(axis=1) / counts[block]
        centred = np.where(valid, diffs - mean_diff[:, None], 0.0)
        deviation[block] = -mean_diff
        std[block] = np.sqrt((centred * centred).sum(axis=1) / counts[block])
    return deviation, std
