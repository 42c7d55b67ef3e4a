"""Turn reader metadata (numpy scalars, arrays, bytes, nested dicts) into JSON.

Vendor metadata can hold megabyte-sized arrays and odd byte strings; records
must stay small and serialisable, so arrays are truncated and bytes decoded.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

MAX_ARRAY_ITEMS = 64
MAX_STRING = 10_000
MAX_DEPTH = 32


def _decode(value: bytes) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = value.decode("latin-1")
    return text.rstrip("\x00")


def _float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-serialisable copy of ``value``: arrays truncated, bytes decoded."""
    if depth > MAX_DEPTH:
        return "<too deep>"
    if value is None or isinstance(value, (bool, str)):
        return value[:MAX_STRING] if isinstance(value, str) else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _decode(bytes(value))[:MAX_STRING]
    if isinstance(value, dict) or hasattr(value, "as_dictionary"):
        items = value.as_dictionary() if hasattr(value, "as_dictionary") else value
        return {str(k): jsonable(v, depth + 1) for k, v in items.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        out = [jsonable(v, depth + 1) for v in items[:MAX_ARRAY_ITEMS]]
        if len(items) > MAX_ARRAY_ITEMS:
            out.append(f"<truncated: {len(items)} items>")
        return out
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return _numpy_jsonable(value, depth)


def _numpy_jsonable(value: Any, depth: int) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        if isinstance(value, np.void) and value.dtype.names:
            return {n: jsonable(value[n], depth + 1) for n in value.dtype.names}
        if isinstance(value, np.bytes_):
            return _decode(bytes(value))
        item = value.item()
        if isinstance(item, complex):
            return [_float(item.real), _float(item.imag)]
        return jsonable(item, depth + 1)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            value = np.stack([value.real, value.imag], axis=-1)
        flat = value.ravel()
        if flat.size > MAX_ARRAY_ITEMS:
            return {"truncated": True, "shape": list(value.shape), "dtype": str(value.dtype),
                    "head": [jsonable(v, depth + 1) for v in flat[:MAX_ARRAY_ITEMS]]}
        return jsonable(value.tolist(), depth + 1)
    if hasattr(value, "compute") and hasattr(value, "shape"):  # a stray dask array
        return {"lazy_array": True, "shape": list(value.shape), "dtype": str(value.dtype)}
    return str(value)[:MAX_STRING]


# In 15 significant digits: a run of 0s or 9s that starts among the first 8 digits and is
# followed by digits up to the last: the tail is the noise of a float32 value widened to
# float64 (0.20000000298023224) or of arithmetic on one (-0.5000000074505806).
_FLOAT32_NOISE = re.compile(r"^(\d{1,8}?)(?:0{5,}|9{5,})\d*[1-9]$")


def tidy_float(value: float) -> float:
    """``value`` at the precision the file carries, without binary noise.

    Unit arithmetic leaves noise in the 16th digit (320.00000000000006 -> 320.0, at 15
    significant digits); a float32 field read as float64 leaves it from the 8th
    (0.004999999888241291 -> 0.005), recognised by its run of 0s or 9s and removed when
    that changes the value by less than a millionth.
    """
    if value == 0 or not math.isfinite(value):
        return value
    value = float(f"{value:.15g}")
    digits = f"{abs(value):.14e}".split("e")[0].replace(".", "")
    match = _FLOAT32_NOISE.match(digits)
    if match:
        short = float(f"{value:.{len(match.group(1))}g}")
        if abs(short - value) <= 1e-6 * abs(value):
            return short
    return value


def tidy_floats(value: Any) -> Any:
    """Every float in a JSON-like structure through :func:`tidy_float` (normalised metadata only; raw stays raw)."""
    if isinstance(value, float):
        return tidy_float(value)
    if isinstance(value, dict):
        return {k: tidy_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tidy_floats(v) for v in value]
    return value
