"""Small helpers around HiGHS shared by the LP bound (bounds.py) and the MILP (milp.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import highspy


def quiet_highs() -> highspy.Highs:
    # HiGHS prints its banner on stdout (C level) when the first instance is built, before any
    # option can be set; the CLI's stdout carries the results, so silence that one write.
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with Path(os.devnull).open("w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


class ColumnBuilder:
    """Columns of a sparse LP built one at a time (CSC), rows created on first use by key."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.starts: list[int] = [0]
        self.index: list[int] = []
        self.value: list[float] = []
        self.row_ids: dict[tuple[object, ...], int] = {}
        self.row_lo: list[float] = []
        self.row_hi: list[float] = []

    def row(self, key: tuple[object, ...], lo: float, hi: float) -> int:
        r = self.row_ids.get(key)
        if r is None:
            r = self.row_ids[key] = len(self.row_lo)
            self.row_lo.append(lo)
            self.row_hi.append(hi)
        return r

    def col(self, cost: float, entries: list[tuple[int, float]], *, integer: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(1.0)
        self.integer.append(integer)
        for r, v in entries:
            self.index.append(r)
            self.value.append(v)
        self.starts.append(len(self.index))
        return len(self.cost) - 1
