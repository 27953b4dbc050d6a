"""Public reference data sets for the survival tests, as shipped inside Python packages.

- `lung`: NCCTG advanced lung cancer (Loprinzi et al., JCO 1994), R `survival::lung`, shipped by
  lifelines (`load_lung`). status: 1 dead, 0 censored (lifelines recodes R's 2/1).
- `gehan`: remission times of 42 leukaemia patients, 6-MP vs placebo (Freireich et al., Blood 1963;
  Gehan, Biometrika 1965), R `MASS::gehan`, shipped by lifelines as `datasets/gehan.dat`
  (columns: group 1 control / 2 6-MP, weeks, relapse).
- `bmt`: 35 patients with acute leukaemia after stem-cell transplant (Scrucca L, Santucci A,
  Aversa F. Bone Marrow Transplant 2007;40:381-387), shipped by scikit-survival as
  `datasets/data/bmt.arff`; copied here because scikit-survival (GPL) is not a dependency.
  Columns: dis, ftime (months), status (0 censored, 1 and 2 the competing causes).
"""

from __future__ import annotations

from pathlib import Path

import lifelines.datasets
import numpy as np
import numpy.typing as npt
import pandas as pd

IntArray = npt.NDArray[np.int64]


def lung() -> pd.DataFrame:
    return lifelines.datasets.load_lung()


def gehan() -> pd.DataFrame:
    path = Path(lifelines.datasets.__file__).parent / "gehan.dat"
    return pd.read_csv(path, sep=" ", header=None, names=["group", "weeks", "relapse"])


_BMT = (
    "0,13,2 0,1,1 0,72,0 0,7,2 0,8,2 1,67,0 0,9,2 0,5,2 1,70,0 1,4,0 1,7,0 1,68,0 0,1,2 1,10,2 "
    "1,7,2 1,3,1 1,4,1 1,4,1 1,3,1 1,3,1 0,22,2 1,8,1 1,2,2 0,0,2 0,0,1 0,35,0 1,35,0 0,4,2 "
    "0,14,2 0,26,2 0,3,2 1,2,0 1,8,0 1,32,0 0,12,1"
)


def bmt() -> tuple[IntArray, IntArray, IntArray]:
    """(dis, ftime, status) of Scrucca et al. 2007."""
    rows = np.array([[int(v) for v in row.split(",")] for row in _BMT.split()], dtype=np.int64)
    return rows[:, 0], rows[:, 1], rows[:, 2]
