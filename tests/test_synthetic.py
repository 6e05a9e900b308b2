"""Tests for gridpart.datasets.synthetic: the seeded synthetic city."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given
from hypothesis import strategies as st
from strategies import atoms_and_edges

from gridpart.datasets.synthetic import synthetic_city
from gridpart.inputs.schema import validate_communities, validate_households, validate_roads


def test_same_seed_same_city():
    a = synthetic_city(3_000, seed=7, communities=2)
    b = synthetic_city(3_000, seed=7, communities=2)
    for x, y in zip(a, b):
        assert_geodataframe_equal(x, y)


def test_other_seed_other_city():
    a_roads, a_hh, _ = synthetic_city(3_000, seed=1)
    b_roads, b_hh, _ = synthetic_city(3_000, seed=2)
    assert not a_hh.geometry.geom_equals(b_hh.geometry.reindex(a_hh.index)).all()
    assert not np.allclose(a_roads.total_bounds, b_roads.total_bounds)


@given(st.integers(1, 20_000), st.integers(0, 2**32 - 1), st.integers(0, 3))
def test_totals_are_exact_and_layers_valid(n, seed, communities):
    roads, hh, comm = synthetic_city(n, seed=seed, communities=communities)
    assert int(hh["households"].sum()) == n
    assert (hh["households"] >= 1).all() and hh["households"].dtype.kind == "i"
    assert (hh["persons"] >= 2 * hh["households"]).all()
    assert set(roads["kind"]) <= {"road", "street", "lane"}
    assert set(roads.geom_type) == {"LineString"} and set(hh.geom_type) == {"Point"}
    assert roads.crs.to_epsg() == 32650 and hh.crs.to_epsg() == 32650
    # the layers pass gridpart's own validators without a problem
    assert validate_roads(roads)[0] is not None
    assert validate_households(hh) is not None
    if communities:
        assert validate_communities(comm) is not None
        assert len(comm) == communities
    else:
        assert comm is None


def test_classes_names_and_irregular_blocks():
    roads, hh, _ = synthetic_city(20_000, seed=3)
    kinds = roads["kind"].value_counts()
    assert {"road", "street", "lane"} <= set(kinds.index)
    assert kinds["road"] < kinds["street"]  # arterials are the minority
    names = roads["name"]
    assert names.map(lambda v: v is None or isinstance(v, str)).all()
    assert names.isna().any() and names.notna().mean() > 0.5
    assert names[roads["kind"] == "road"].str.endswith("路").all()
    named_en = roads.loc[roads["name_en"].notna(), "name_en"]
    assert named_en.str.contains("Road|Street").all()
    # crossings are jittered: many links are not axis-parallel
    xy = shapely.get_coordinates(roads.geometry.values).reshape(-1, 2, 2)
    d = np.abs(xy[:, 1] - xy[:, 0])
    assert ((d.min(axis=1) > 0.5)).mean() > 0.3


def test_dead_ends_missing_links_and_duplicate_points():
    roads, hh, _ = synthetic_city(20_000, seed=5)
    # dangling ends: nodes of degree 1 in the noded network (lanes ending inside blocks)
    noded = shapely.get_parts(shapely.union_all(roads.geometry.values))
    ends = shapely.get_coordinates(shapely.boundary(noded))
    _, counts = np.unique(np.round(ends, 6), axis=0, return_counts=True)
    assert (counts == 1).sum() > 10
    # missing links: some crossings of the street grid have fewer than 4 arms
    assert (counts == 3).sum() > 10
    # some buildings are recorded twice at one point
    dup = hh.duplicated(subset=["building_id"], keep=False)
    assert dup.any()
    same = hh[dup].groupby("building_id").apply(lambda d: d.geometry.x.nunique() == 1, include_groups=False)
    assert same.all()


def test_heavy_buildings_and_blocks_above_the_band():
    roads, hh, _ = synthetic_city(20_000, seed=11)
    assert (hh["households"] > 360).any()
    assert (hh["households"] > 360).mean() < 0.05
    blocks, *_ = atoms_and_edges(roads, hh, limit=shapely.box(*roads.total_bounds))
    assert (blocks["households"] > 360).sum() >= 5  # big blocks are the normal case
    assert (blocks["households"] == 0).sum() >= 5  # parks, plazas
    assert int(blocks["households"].sum()) == 20_000  # every household inside the network


def test_communities_tile_the_network_along_streets():
    roads, hh, comm = synthetic_city(30_000, seed=2, communities=3)
    assert list(comm["community_id"]) == ["C1", "C2", "C3"]
    assert comm["code"].str.fullmatch(r"\d{12}").all()
    assert set(comm.geom_type) == {"Polygon"}  # each one piece
    box = shapely.box(*roads.total_bounds)
    assert comm.area.sum() == pytest.approx(box.area, rel=1e-9)
    assert comm.union_all().area == pytest.approx(box.area, rel=1e-9)
    # every household lies inside exactly one community
    inside = gpd.sjoin(hh, comm, predicate="within")
    assert inside.index.is_unique and len(inside) == len(hh)
    # internal community boundaries run along street links
    inner = shapely.intersection(shapely.boundary(comm.geometry.values[0]), shapely.boundary(comm.geometry.values[1]))
    parts = shapely.get_parts(shapely.line_merge(inner))
    assert shapely.length(parts).sum() > 500
    probes = shapely.line_interpolate_point(np.repeat(parts, 5), np.tile(np.linspace(0, 1, 5), len(parts)),
                                            normalized=True)
    near, _ = shapely.STRtree(roads.geometry.values).query(probes, predicate="dwithin", distance=1e-6)
    assert set(near) == set(range(len(probes))), "a community boundary runs where there is no street"


def test_geographic_variant_near_beijing():
    roads, hh, comm = synthetic_city(2_000, seed=4, communities=2, crs="EPSG:4326")
    assert roads.crs.to_epsg() == 4326 and hh.crs.to_epsg() == 4326 and comm.crs.to_epsg() == 4326
    west, south, east, north = hh.total_bounds
    assert 116.0 < west < east < 117.0 and 39.5 < south < north < 40.5
    m_roads, m_hh, _ = synthetic_city(2_000, seed=4, communities=2)
    back = hh.to_crs(32650)
    assert np.allclose(shapely.get_coordinates(back.geometry.values),
                       shapely.get_coordinates(m_hh.geometry.values), atol=1e-3)


def test_a_million_households_is_fast():
    t0 = time.perf_counter()
    roads, hh, comm = synthetic_city(1_000_000, seed=0, communities=3)
    elapsed = time.perf_counter() - t0
    assert int(hh["households"].sum()) == 1_000_000
    assert 15_000 < len(roads) and 10_000 < len(hh)
    assert elapsed < 5.0, f"synthetic_city(1e6) took {elapsed:.1f} s"


@pytest.mark.parametrize("kwargs, word", [({"n_households": 0}, "n_households"),
                                          ({"n_households": 10, "communities": -1}, "communities")])
def test_bad_arguments_name_themselves(kwargs, word):
    with pytest.raises(ValueError, match=word):
        synthetic_city(**kwargs)
