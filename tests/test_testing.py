"""Tests for gridpart.testing: the public plan checker and the lattice helper."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gridpart as gp
from gridpart.datasets.synthetic import synthetic_city
from gridpart.testing import assert_valid_plan, grid_subproblem, labels_contiguous


@pytest.fixture(scope="module")
def made():
    roads, hh, comm = synthetic_city(3_000, seed=5, communities=2)
    plan = gp.partition(roads, hh, communities=comm, strategy="seed")
    assert len(plan.grids) >= 4
    return plan, hh


def _copy(plan):
    out = copy.copy(plan)
    for name in ("grids", "blocks", "households", "unplaced"):
        setattr(out, name, getattr(plan, name).copy())
    return out


def test_a_valid_plan_passes(made):
    plan, hh = made
    assert_valid_plan(plan, hh)
    assert_valid_plan(plan)  # without the input households


def _non_adjacent_grids(plan):
    atoms = plan.blocks
    g = dict(zip(atoms["atom_id"], atoms["grid_id"]))
    touching = {(g[a], g[b]) for a, b in zip(plan.edges["a"], plan.edges["b"])}
    touching |= {(b, a) for a, b in touching}
    comm = dict(zip(plan.grids["grid_id"], plan.grids["community_id"]))
    ids = plan.grids["grid_id"].tolist()
    return next((a, b) for a in ids for b in ids if a != b and (a, b) not in touching and comm[a] == comm[b])


def _break_contiguity(plan):
    a, b = _non_adjacent_grids(plan)
    atom = plan.blocks.index[plan.blocks["grid_id"] == a][0]
    plan.blocks.loc[atom, "grid_id"] = b


def _span_communities(plan):
    first = plan.blocks.index[plan.blocks["grid_id"] == plan.grids["grid_id"].iloc[0]][0]
    other = sorted(set(plan.blocks["community_id"]) - {plan.blocks.loc[first, "community_id"]})[0]
    plan.blocks.loc[first, "community_id"] = other


def _overlap(plan):
    geoms = plan.grids.geometry.values.copy()
    geoms[0] = shapely.union(geoms[0], geoms[1])
    plan.grids = plan.grids.set_geometry(geoms)


def _lose_a_household(plan):
    label = plan.households.index[plan.households["grid_id"].notna()][0]
    plan.households.loc[label, "grid_id"] = pd.NA


def _miscount(plan):
    plan.grids.loc[plan.grids.index[0], "households"] += 1


def _no_reason(plan):
    label = plan.households.index[0]
    plan.households.loc[label, "grid_id"] = pd.NA
    row = plan.households.loc[[label]].assign(reason="")
    plan.unplaced = pd.concat([plan.unplaced, row])
    gid = plan.households["grid_id"]
    # keep the grid counts consistent so only the missing reason is wrong
    sums = plan.households.loc[gid.notna()].groupby("grid_id")["households"].sum()
    plan.grids["households"] = plan.grids["grid_id"].map(sums).fillna(0).to_numpy()


def _atom_without_grid(plan):
    plan.blocks["grid_id"] = plan.blocks["grid_id"].astype(float)
    plan.blocks.loc[plan.blocks.index[0], "grid_id"] = np.nan


def _other_crs(plan):
    plan.grids = plan.grids.to_crs("EPSG:4326")


def _reorder(plan):
    plan.households = plan.households.iloc[::-1]


def _lose_persons(plan):
    plan.grids.loc[plan.grids.index[0], "persons"] -= 5


def _change_counts(plan):
    # every sum still adds up, but the counts are no longer the input's
    label = plan.households.index[plan.households["grid_id"].notna()][0]
    gid = plan.households.loc[label, "grid_id"]
    plan.households.loc[label, "households"] += 7
    plan.grids.loc[plan.grids["grid_id"] == gid, "households"] += 7


CORRUPTIONS = {
    "persons lost": (_lose_persons, "persons were lost"),
    "counts changed": (_change_counts, "differs from the input"),
    "not contiguous": (_break_contiguity, "not contiguous"),
    "several communities": (_span_communities, "several communities"),
    "overlap": (_overlap, "overlap"),
    "grid_id NA without a reason row": (_lose_a_household, "disagree"),
    "grid counts": (_miscount, "do not add up"),
    "unplaced without a reason": (_no_reason, "no reason"),
    "atom without a grid": (_atom_without_grid, "has no grid"),
    "grids in another CRS": (_other_crs, "CRS"),
    "households reordered": (_reorder, "index"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_each_broken_invariant_is_named(made, case):
    plan, hh = made
    broken = _copy(plan)
    corrupt, message = CORRUPTIONS[case]
    corrupt(broken)
    with pytest.raises(AssertionError, match=message):
        assert_valid_plan(broken, hh)


@pytest.mark.parametrize("crs", ["EPSG:32650", "EPSG:4326"])
def test_a_one_hectare_overlap_is_caught(crs):
    roads, hh, comm = synthetic_city(2_000, seed=3, communities=2, crs=crs)
    plan = gp.partition(roads, hh, communities=comm, strategy="seed")
    broken = _copy(plan)
    metric = plan.grids.to_crs("EPSG:32650")
    big = int(np.argmax(metric.area.to_numpy()))
    other = (big + 1) % len(metric)
    # a 100 m x 100 m square of the largest grid also drawn into another grid
    centre = shapely.point_on_surface(metric.geometry.values[big])
    piece = shapely.intersection(shapely.buffer(centre, 50, cap_style="square"), metric.geometry.values[big])
    assert 5_000 < piece.area <= 10_000
    piece = gpd.GeoSeries([piece], crs="EPSG:32650").to_crs(plan.crs).iloc[0]
    geoms = broken.grids.geometry.values.copy()
    geoms[other] = shapely.union(geoms[other], piece)
    broken.grids = broken.grids.set_geometry(geoms)
    with pytest.raises(AssertionError, match="overlap"):
        assert_valid_plan(broken, hh)


def test_grid_subproblem_builds_a_lattice():
    sub = grid_subproblem(3, 4, k=2)
    assert sub.n == 12 and sub.k == 2
    assert len(sub.edges) == 3 * 3 + 2 * 4
    assert (sub.edges[:, 0] < sub.edges[:, 1]).all()
    assert sub.total == 1_200
    assert (sub.band.lo, sub.band.hi, sub.band.centre) == pytest.approx((480, 720, 600))
    assert np.allclose(np.diff(np.unique(sub.xy[:, 0])), 100.0)
    assert len(sub.forced) == 0 and len(sub.cut_cost) == len(sub.edges)
    heavy = grid_subproblem(2, 2, k=2, households=np.array([10, 10, 10, 500]), target=100)
    assert heavy.forced.tolist() == [3]


def test_labels_contiguous():
    path = np.array([[0, 1], [1, 2], [2, 3]])
    assert labels_contiguous(4, path, np.array([0, 0, 1, 1])).tolist() == [True, True]
    assert labels_contiguous(4, path, np.array([0, 1, 0, 1])).tolist() == [False, False]
    assert labels_contiguous(4, path, np.array([0, 1, 1, 0])).tolist() == [False, True]
    assert labels_contiguous(1, np.zeros((0, 2), int), np.array([0])).tolist() == [True]
