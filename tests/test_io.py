"""Tests for gridpart.outputs.io: GeoPackage round trip and atomic writes."""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import gridpart as gp
import gridpart.outputs.io as gio
from gridpart.datasets.synthetic import synthetic_city
from gridpart.errors import InputError
from gridpart.testing import assert_valid_plan


@pytest.fixture(scope="module")
def plan_and_households():
    roads, hh, comm = synthetic_city(2_000, seed=3, communities=2)
    hh.index = pd.Index(hh.index * 10 + 7, name="address")
    # one household far outside, so the unplaced layer is not empty
    far = gpd.GeoDataFrame({"households": [4], "persons": [9], "building_id": [-1]},
                           geometry=[shapely.Point(hh.geometry.x.max() + 5_000, hh.geometry.y.max())],
                           crs=hh.crs, index=pd.Index([1], name="address"))
    hh = pd.concat([hh, far])
    plan = gp.partition(roads, hh, communities=comm, strategy="seed", seed=11)
    assert len(plan.unplaced) == 1
    return plan, hh


def _same_geometries(a: gpd.GeoSeries, b: gpd.GeoSeries) -> bool:
    return bool(shapely.equals_exact(shapely.normalize(a.values), shapely.normalize(b.values), tolerance=1e-9).all())


def test_round_trip_keeps_grids_status_and_params(plan_and_households, tmp_path):
    plan, hh = plan_and_households
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    back = gp.read_plan(path)
    # grids: same ids, counts, flags, geometry and CRS
    assert back.grids.crs == plan.grids.crs
    cols = ["grid_id", "community_id", "households", "n_atoms", "forced", "forced_reason"]
    pd.testing.assert_frame_equal(back.grids[cols].reset_index(drop=True), plan.grids[cols].reset_index(drop=True),
                                  check_dtype=False)
    assert back.grids["forced"].dtype == bool
    assert _same_geometries(back.grids.geometry, plan.grids.geometry)
    # status table
    pd.testing.assert_frame_equal(back.status.reset_index(drop=True), plan.status.reset_index(drop=True),
                                  check_dtype=False)
    # parameters, seed, version, working CRS
    assert back.params == plan.params
    assert back.params["seed"] == 11 and back.params["version"] == gp.__version__
    assert back.params["strategy"] == "seed" and back.params["work_crs"] == "EPSG:32650"


def test_round_trip_keeps_households_atoms_and_edges(plan_and_households, tmp_path):
    plan, hh = plan_and_households
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    back = gp.read_plan(path)
    assert back.households.index.tolist() == plan.households.index.tolist()
    assert back.households["grid_id"].dtype == "Int64"
    assert back.households["grid_id"].equals(plan.households["grid_id"])
    assert back.unplaced.index.tolist() == plan.unplaced.index.tolist()
    assert back.unplaced["reason"].tolist() == plan.unplaced["reason"].tolist()
    assert back.blocks["atom_id"].tolist() == plan.blocks["atom_id"].tolist()
    assert back.blocks["grid_id"].tolist() == plan.blocks["grid_id"].tolist()
    assert back.blocks["is_cell"].dtype == bool
    assert len(back.edges) == len(plan.edges)
    assert np.allclose(back.edges["length_m"], plan.edges["length_m"])
    # the plan read back is still a valid plan for the same households, with the same score
    back.households.index.name = hh.index.name
    assert_valid_plan(back, hh)
    pd.testing.assert_series_equal(back.score().summary, plan.score().summary, rtol=1e-9)


def test_a_geographic_plan_stays_geographic(tmp_path):
    roads, hh, comm = synthetic_city(1_500, seed=2, communities=2, crs="EPSG:4326")
    plan = gp.partition(roads, hh, communities=comm, strategy="seed")
    plan.to_file(tmp_path / "plan.gpkg")
    back = gp.read_plan(tmp_path / "plan.gpkg")
    assert back.grids.crs.to_epsg() == 4326 and back.households.crs.to_epsg() == 4326
    assert _same_geometries(back.grids.geometry, plan.grids.geometry)


def _failing_writer(monkeypatch, fail_at: int):
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def write(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(gio.pyogrio, "write_dataframe", write)
    return calls


@pytest.mark.parametrize("fail_at", [1, 3, 8])
def test_a_failed_write_leaves_no_file(plan_and_households, tmp_path, monkeypatch, fail_at):
    plan, _ = plan_and_households
    path = tmp_path / "out" / "plan.gpkg"
    calls = _failing_writer(monkeypatch, fail_at)
    with pytest.raises(OSError, match="simulated"):
        plan.to_file(path)
    assert calls["n"] == fail_at
    assert not path.exists()
    assert list(path.parent.iterdir()) == []  # no temporary file left behind


def test_a_failed_write_keeps_the_old_file(plan_and_households, tmp_path, monkeypatch):
    plan, _ = plan_and_households
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    before = path.read_bytes()
    _failing_writer(monkeypatch, 4)
    with pytest.raises(OSError):
        plan.to_file(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["plan.gpkg"]
    assert len(gp.read_plan(path).grids) == len(plan.grids)


def test_read_plan_names_a_missing_or_foreign_file(tmp_path):
    with pytest.raises(InputError, match="path"):
        gp.read_plan(tmp_path / "nothing.gpkg")
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.Point(0, 0)], crs="EPSG:4326").to_file(other, layer="points")
    with pytest.raises(InputError, match="not a gridpart plan"):
        gp.read_plan(other)


@pytest.mark.parametrize("name", ["households with a MultiIndex", "households with a missing index label",
                                  "roads with a zero-length line", "households in EPSG:3857",
                                  "a household outside the study area"])
def test_awkward_catalogue_plans_survive_the_file(name, tmp_path):
    from edge_cases import CASES

    case = next(c for c in CASES if c.name == name)
    with pytest.warns() if case.expect == "repair" else _no_warning_check():
        plan = gp.partition(**case.make())
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    back = gp.read_plan(path)
    assert back.households.index.tolist() == plan.households.index.tolist()
    assert back.households["grid_id"].tolist() == plan.households["grid_id"].tolist()
    assert back.unplaced.index.tolist() == plan.unplaced.index.tolist()
    assert back.params == plan.params


def _no_warning_check():
    import contextlib

    return contextlib.nullcontext()


def test_the_households_own_columns_come_back_and_survive_the_file(tmp_path):
    from edge_cases import base, base_households

    hh = base_households()
    hh["address"] = [f"学院路{i}号" for i in range(len(hh))]
    hh["kind"] = pd.Categorical(["楼", "院"] * (len(hh) // 2))
    hh["month"] = pd.period_range("2020-01", periods=len(hh), freq="M")
    hh["centroid"] = hh.geometry
    hh["grid_id"] = 99  # a stale result column is replaced, not kept
    plan = gp.partition(**base(households=hh))
    assert_valid_plan(plan, hh)
    assert plan.households["address"].tolist() == hh["address"].tolist()
    assert plan.households["grid_id"].ne(99).all()
    plan.to_file(tmp_path / "plan.gpkg")
    back = gp.read_plan(tmp_path / "plan.gpkg")
    assert back.households["address"].tolist() == hh["address"].tolist()
    assert back.households["month"].tolist() == [str(p) for p in hh["month"]]
    assert back.households["centroid"].str.startswith("POINT").all()
