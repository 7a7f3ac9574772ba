"""``log1p`` computed by the same IEEE operations for a numpy array and for one Python float.

``numpy.log1p`` (SIMD) and ``math.log1p`` (libm) disagree in the last bit for a few percent of
inputs. That is harmless for most features, but ``volume_zscore`` divides by the spread of
``log1p(volume)`` over a window, which can be many orders of magnitude smaller than the values
themselves; a one-ulp disagreement there would break batch/streaming parity. Both paths therefore
use this function: fdlibm's ``log1p`` algorithm (error below one ulp) written once with scalar
arithmetic and once with numpy element-wise arithmetic, in the same operation order, so the two
results are bit-identical (only +, -, *, / and frexp, all exact or correctly rounded).

Defined for finite ``x >= 0`` (volumes); other inputs are the caller's to reject.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_LN2_HI: Final = 6.93147180369123816490e-01
_LN2_LO: Final = 1.90821492927058770002e-10
_LP1: Final = 6.666666666666735130e-01
_LP2: Final = 3.999999999940941908e-01
_LP3: Final = 2.857142874366239149e-01
_LP4: Final = 2.222219843214978396e-01
_LP5: Final = 1.818357216161805012e-01
_LP6: Final = 1.531383769920937332e-01
_LP7: Final = 1.479819860511658591e-01
_SQRT_HALF: Final = math.sqrt(0.5)
_SMALL: Final = math.sqrt(2.0) - 1.0  # below this, f = x directly (k = 0)
_EXACT: Final = 2.0**53  # from here on 1 + x rounds to x


def log1p_scalar(x: float) -> float:
    """Return ``log(1 + x)`` for a finite ``x >= 0``, bit-identical to :func:`log1p_array`.

    >>> log1p_scalar(0.0), abs(log1p_scalar(1.0) - math.log(2.0)) < 1e-16
    (0.0, True)
    """
    if x < _SMALL:
        k = 0.0
        f = x
        c = 0.0
    else:
        if x < _EXACT:
            u = 1.0 + x
            # c: the rounding error of 1 + x, relative to u (exact by Sterbenz's lemma)
            c = (1.0 - (u - x)) / u if u >= 2.0 else (x - (u - 1.0)) / u
        else:
            u = x
            c = 0.0
        m, e = math.frexp(u)
        if m < _SQRT_HALF:
            m = m * 2.0
            e = e - 1
        k = float(e)
        f = m - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    r = z * (_LP1 + z * (_LP2 + z * (_LP3 + z * (_LP4 + z * (_LP5 + z * (_LP6 + z * _LP7))))))
    return k * _LN2_HI - ((hfsq - (s * (hfsq + r) + (k * _LN2_LO + c))) - f)


def log1p_array(x: FloatArray) -> FloatArray:
    """Return ``log(1 + x)`` element-wise for finite ``x >= 0``, bit-identical to the scalar."""
    x = np.asarray(x, dtype=np.float64)
    small = x < _SMALL
    u = 1.0 + x
    c = np.where(u >= 2.0, 1.0 - (u - x), x - (u - 1.0)) / u
    exact = x >= _EXACT
    u = np.where(exact, x, u)
    c = np.where(exact, 0.0, c)
    m, e = np.frexp(u)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e)
    k = np.where(small, 0.0, e.astype(np.float64))
    f = np.where(small, x, m - 1.0)
    c = np.where(small, 0.0, c)
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    r = z * (_LP1 + z * (_LP2 + z * (_LP3 + z * (_LP4 + z * (_LP5 + z * (_LP6 + z * _LP7))))))
    result: FloatArray = k * _LN2_HI - ((hfsq - (s * (hfsq + r) + (k * _LN2_LO + c))) - f)
    return result
