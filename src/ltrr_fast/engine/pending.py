"""What the engine keeps of a served request until its feedback arrives."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Pending:
    """What feedback on a request needs: the context and who retrieved what."""

    query: str
    user: str | None
    x: np.ndarray
    kind_of_query: str
    chosen: tuple[str, ...]
    quotas: tuple[int, ...]
    candidates: dict[str, np.ndarray]  # every strategy that ran on the response path
    served: np.ndarray  # doc ids in display order
    served_rows: np.ndarray  # feature rows of the served items
    shadow: dict[str, np.ndarray] = field(default_factory=dict)
    shadow_done: threading.Event = field(default_factory=threading.Event)
    shadow_deadline: float = 0.0
    shadow_job: Callable[[], None] | None = None  # deferred shadow run (no thread pool)
    answered: bool = False
