"""Checks of what callers pass to a search: the context, k, the latency budget."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

CONTEXT_KEYS = ("user", "time", "features")


def parse_context(
    context: Mapping[str, Any] | None, feature_names: tuple[str, ...] = ()
) -> tuple[str | None, float, np.ndarray]:
    """The user, the time and the caller's context features (in ``feature_names`` order,
    0 for a name not given) of a search's context."""
    features = np.zeros(len(feature_names))
    if context is None:
        return None, time.time(), features
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
    given = context.get("features") or {}
    if not isinstance(given, Mapping):
        raise TypeError("context['features'] must map feature names to numbers")
    strange = sorted(set(given) - set(feature_names))
    if strange:
        raise ValueError(
            f"unknown context features {strange}; the engine was configured with "
            f"{list(feature_names)} (EngineConfig.context_features)"
        )
    for i, name in enumerate(feature_names):
        value = given.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"context feature {name!r} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"context feature {name!r} must be finite, got {value}")
        features[i] = float(value)
    return user, float(now), features


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
