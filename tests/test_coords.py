"""Tests for gridpart.inputs.coords: GCJ-02 / BD-09 conversion and the coords= option."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

import gridpart as gp
from gridpart.errors import Problems
from gridpart.inputs.coords import (
    bd09_to_gcj02,
    convert_layer,
    coords_by_layer,
    from_wgs84,
    from_wgs84_lonlat,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    normalise_system,
    to_wgs84,
    to_wgs84_lonlat,
    wgs84_to_gcj02,
)
from gridpart.testing import assert_valid_plan

GEOD = pyproj.Geod(ellps="WGS84")

# mainland China and Hainan, well inside the GCJ-02 rectangle
china_lon = st.floats(73.7, 134.7, allow_nan=False)
china_lat = st.floats(18.2, 53.4, allow_nan=False)


def metres(lon0, lat0, lon1, lat1) -> np.ndarray:
    return np.asarray(GEOD.inv(lon0, lat0, lon1, lat1)[2])


# --------------------------------------------------------------------------- reference values


def test_published_reference_values():
    # independent values from the tests of the gcoord JavaScript library (hujiulong/gcoord,
    # test/unit/crs/GCJ02.spec.js), given there to 5 decimals
    lon, lat = gcj02_to_wgs84(123.0, 45.0)
    assert lon == pytest.approx(122.99395597, abs=5e-6) and lat == pytest.approx(44.99804071, abs=5e-6)
    lon, lat = gcj02_to_bd09(123.0, 45.0)
    assert lon == pytest.approx(123.00636499, abs=5e-6) and lat == pytest.approx(45.00636899, abs=5e-6)


def test_outside_china_nothing_moves():
    lon, lat = np.array([2.35, -74.0, 183.0]), np.array([48.86, 40.7, 45.0])
    assert not in_china(lon, lat).any()
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84):
        out = fn(lon, lat)
        assert np.array_equal(out[0], lon) and np.array_equal(out[1], lat)


@given(lon=china_lon, lat=china_lat)
def test_gcj_offset_is_a_few_hundred_metres(lon, lat):
    g = wgs84_to_gcj02(lon, lat)
    assert 10.0 < metres(lon, lat, *g) < 800.0
    b = gcj02_to_bd09(*g)
    assert 300.0 < metres(*g, *b) < 1_200.0


# --------------------------------------------------------------------------- round trips


@given(lon=china_lon, lat=china_lat)
def test_gcj_round_trip_within_a_centimetre(lon, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, *back) < 0.01
    # and the other way: a web-map point converted to WGS-84 maps back onto itself
    fwd = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, *fwd) < 0.01


@given(lon=china_lon, lat=china_lat, system=st.sampled_from(["gcj02", "bd09"]))
def test_web_map_round_trip_within_a_centimetre(lon, lat, system):
    there = from_wgs84_lonlat(lon, lat, system)
    back = to_wgs84_lonlat(*there, system)
    assert metres(lon, lat, *back) < 0.01
    assert metres(*there, *from_wgs84_lonlat(*back, system)) < 0.01


def test_round_trip_over_a_dense_sample_of_china():
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(73.7, 134.7, 50_000), rng.uniform(18.2, 53.4, 50_000)
    for system in ("gcj02", "bd09"):
        back = to_wgs84_lonlat(*from_wgs84_lonlat(lon, lat, system), system)
        assert metres(lon, lat, *back).max() < 0.01


def test_bd09_inverse_is_exact_not_the_one_step_approximation():
    g = np.array([116.3975, 121.4737]), np.array([39.9087, 31.2304])
    back = bd09_to_gcj02(*gcj02_to_bd09(*g))
    assert metres(*g, *back).max() < 1e-3


def test_nan_stays_nan_and_arrays_keep_their_shape():
    lon, lat = gcj02_to_wgs84(np.array([[116.4, np.nan]]), np.array([[39.9, 39.9]]))
    assert lon.shape == (1, 2) and np.isnan(lon[0, 1]) and np.isfinite(lon[0, 0])


# --------------------------------------------------------------------------- geometries and layers


def test_geometries_keep_their_type_holes_and_parts():
    ring = [(116.30, 39.90), (116.32, 39.90), (116.32, 39.92), (116.30, 39.92)]
    hole = [(116.305, 39.905), (116.31, 39.905), (116.31, 39.91)]
    geoms = [Point(116.31, 39.91), LineString(ring), Polygon(ring, [hole]),
             shapely.MultiPolygon([Polygon(ring), Polygon([(x + 0.1, y) for x, y in ring])])]
    out = to_wgs84(geoms, "gcj02")
    assert [g.geom_type for g in out] == [g.geom_type for g in geoms]
    assert len(out[2].interiors) == 1
    back = from_wgs84(out, "gcj02")
    for a, b in zip(geoms, back):
        assert shapely.equals_exact(a, b, tolerance=1e-9)


def test_system_names():
    assert normalise_system("Amap") == "gcj02" and normalise_system("BD-09") == "bd09"
    assert normalise_system(None) == "wgs84" and normalise_system(3) is None
    problems = Problems()
    assert coords_by_layer({"households": "baidu", "roads": "wgs84"}, problems) == {"households": "bd09"}
    assert coords_by_layer("wgs84", problems) == {} and not problems
    coords_by_layer({"houses": "gcj02", "roads": "utm"}, problems)
    assert [p.argument for p in problems.items] == ["coords", "coords['roads']"]


def test_convert_layer_web_mercator_and_refuses_utm():
    ll = gpd.GeoDataFrame({"v": [1]}, geometry=[Point(116.3975, 39.9087)], crs="EPSG:4326")
    merc = ll.to_crs("EPSG:3857")
    problems = Problems()
    out = convert_layer(merc, "gcj02", argument="households", problems=problems)
    assert out.crs == merc.crs and list(out["v"]) == [1]
    expected = convert_layer(ll, "gcj02", argument="households", problems=problems).to_crs("EPSG:3857")
    assert out.geometry.iloc[0].distance(expected.geometry.iloc[0]) < 1e-3
    assert merc.geometry.iloc[0].distance(out.geometry.iloc[0]) > 100  # the input is not modified
    assert convert_layer(ll.to_crs("EPSG:32650"), "gcj02", argument="roads", problems=problems) is None
    assert problems.items[-1].argument == "coords['roads']" and "Fix:" in str(problems.items[-1])


# --------------------------------------------------------------------------- partition(coords=...)


def _scene():
    from edge_cases import base, base_households, base_roads

    return base, base_roads(), base_households()


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_partition_of_web_map_layers_matches_the_wgs84_plan(system):
    base, roads, hh = _scene()
    ll_roads, ll_hh = roads.to_crs("EPSG:4326"), hh.to_crs("EPSG:4326")
    web_roads = ll_roads.set_geometry(from_wgs84(ll_roads.geometry.values, system), crs="EPSG:4326")
    web_hh = ll_hh.set_geometry(from_wgs84(ll_hh.geometry.values, system), crs="EPSG:4326")
    truth = gp.partition(**base(roads=ll_roads, households=ll_hh, study_area=None))
    plan = gp.partition(**base(roads=web_roads, households=web_hh, study_area=None, coords=system))
    assert_valid_plan(plan, web_hh)
    assert plan.params["coords"]["households"] == system
    # the same grids (up to numbering: reading order can break ties differently) ...
    pairs = pd.DataFrame({"a": truth.households["grid_id"], "b": plan.households["grid_id"]}).drop_duplicates()
    assert pairs["a"].is_unique and pairs["b"].is_unique and len(pairs) == len(truth.grids)
    # ... at true WGS-84 positions: within a millimetre of the plan made from WGS-84
    a = truth.grids.set_index("grid_id").to_crs("EPSG:32650").geometry
    b = plan.grids.set_index("grid_id").to_crs("EPSG:32650").geometry
    for ga, gb in zip(pairs["a"], pairs["b"]):
        assert shapely.hausdorff_distance(a[ga], b[gb]) < 1e-3


def test_undeclared_bd09_households_are_diagnosed():
    base, roads, hh = _scene()
    ll = hh.to_crs("EPSG:4326")
    web = ll.set_geometry(from_wgs84(ll.geometry.values, "bd09"), crs="EPSG:4326")
    with pytest.raises(gp.InputError, match="BD-09") as info:
        gp.partition(**base(households=web))
    assert "coords={'households': 'bd09'}" in str(info.value)


def test_undeclared_gcj02_roads_are_diagnosed():
    # the households are right, the roads, communities and study area came from Amap
    base, roads, hh = _scene()
    from edge_cases import base_communities

    def web(gdf):
        ll = gdf.to_crs("EPSG:4326")
        return ll.set_geometry(from_wgs84(ll.geometry.values, "gcj02"), crs="EPSG:4326")

    with pytest.raises(gp.InputError, match="GCJ-02") as info:
        gp.partition(**base(roads=web(roads), communities=web(base_communities()), study_area=None))
    assert "'communities': 'gcj02'" in str(info.value)


def test_command_line_coords_option(tmp_path, capsys):
    from edge_cases import base_communities

    from gridpart.cli import main

    base, roads, hh = _scene()
    ll = hh.to_crs("EPSG:4326")
    web = ll.set_geometry(from_wgs84(ll.geometry.values, "gcj02"), crs="EPSG:4326")
    paths = {name: str(tmp_path / f"{name}.gpkg") for name in ("roads", "hh", "comm")}
    roads.to_file(paths["roads"])
    web.to_file(paths["hh"])
    base_communities().to_file(paths["comm"])
    out = tmp_path / "grids.gpkg"
    argv = ["partition", paths["roads"], paths["hh"], "--communities", paths["comm"], "-o", str(out),
            "--strategy", "seed", "--time-limit", "2", "--target", "100"]
    assert main(argv) == 2
    assert "coords={'households': 'gcj02'}" in capsys.readouterr().err
    assert not out.exists()
    assert main(argv + ["--coords", "households=gcj02"]) == 0
    assert gp.read_plan(out).params["coords"] == {"households": "gcj02"}
