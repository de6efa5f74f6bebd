"""Loader for the Open Bandit Dataset sample in the shared data directory."""

from __future__ import annotations

import csv
import pathlib
from dataclasses import dataclass

import numpy as np

from ltrr_fast.datasets.ir import data_root

POLICIES = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")


@dataclass(frozen=True)
class BanditLog:
    """One logged campaign: a row per impression, in time order.

    ``items`` are item ids, ``positions`` are 0-based slot indexes, ``propensities`` are the
    logging policy's probability of the item at that position.
    """

    policy: str
    campaign: str
    items: np.ndarray  # int64
    positions: np.ndarray  # int64, 0-based
    clicks: np.ndarray  # float64, 0 or 1
    propensities: np.ndarray  # float64
    n_items: int
    n_positions: int

    def __len__(self) -> int:
        return int(self.items.shape[0])


def load_obd(policy: str, campaign: str = "all", root: pathlib.Path | None = None) -> BanditLog:
    """Read ``{policy}/{campaign}/{campaign}.csv`` of the Open Bandit Dataset sample."""
    if policy not in POLICIES:
        raise ValueError(f"unknown logging policy {policy!r}; expected one of {POLICIES}")
    if campaign not in CAMPAIGNS:
        raise ValueError(f"unknown campaign {campaign!r}; expected one of {CAMPAIGNS}")
    base = (root or data_root()) / "bandit_open_bandit_dataset_sample" / policy / campaign
    with open(base / f"{campaign}.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with open(base / "item_context.csv", newline="", encoding="utf-8") as handle:
        n_items = sum(1 for _ in csv.DictReader(handle))
    positions = np.array([int(r["position"]) - 1 for r in rows], dtype=np.int64)
    return BanditLog(
        policy=policy,
        campaign=campaign,
        items=np.array([int(r["item_id"]) for r in rows], dtype=np.int64),
        positions=positions,
        clicks=np.array([float(r["click"]) for r in rows]),
        propensities=np.array([float(r["propensity_score"]) for r in rows]),
        n_items=n_items,
        n_positions=int(positions.max()) + 1,
    )
