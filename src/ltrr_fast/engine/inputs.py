"""Checks of what callers pass to a search: the context, k, the latency budget."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

CONTEXT_KEYS = ("user", "time", "features")


def parse_context(context: Mapping[str, Any] | None) -> tuple[str | None, float]:
    if context is None:
        return None, time.time()
    if not isinstance(context, Mapping):
        raise TypeError(f"context must be a mapping or None, got {type(context).__name__}")
    unknown = sorted(set(context) - set(CONTEXT_KEYS))
    if unknown:
        raise ValueError(f"unknown context keys {unknown}; known: {list(CONTEXT_KEYS)}")
    user = context.get("user")
    if user is not None and (not isinstance(user, str) or not user):
        raise ValueError(f"context['user'] must be a non-empty str, got {user!r}")
    now = context.get("time", time.time())
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ValueError(f"context['time'] must be finite epoch seconds, got {now!r}")
    extra = context.get("features")
    if extra:
        values = [v for v in dict(extra).values()]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise ValueError("context['features'] holds NaN, infinite or non-numeric values")
        raise ValueError("context['features'] needs an engine configured with those feature names")
    return user, float(now)


def check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def check_budget(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"budget_ms must be finite and > 0, got {value!r}")
    return float(value)
