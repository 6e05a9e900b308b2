"""Properties of ``gp.partition`` on random road networks (hypothesis).

``tests/test_solve.py`` already checks, on random cities, that plans are valid
(``assert_valid_plan``: conservation, contiguity, nesting, no overlap, CRS and
index), that the same seed gives the same plan and that the row order of
roads and households does not matter.  This module adds what that leaves out:

* every household lies in (or within the snap distance of) its own grid;
* the grids of each community cover it (within the study area) with no gap;
* households *and* persons totals are conserved;
* CRS in = CRS out for projected, geographic, CGCS2000 and Web Mercator input,
  with the households' geometry handed back as given;
* the order of the communities' rows does not matter;
* messy inputs (random mixes of repairable and fatal corruptions) end in a
  ``GridpartError`` naming the corrupted argument, or in a plan that loses
  nothing and records every repair.

Profiles ``ci`` (default, derandomized) and ``dev`` come from ``conftest.py``.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from strategies import cities, study_box

import gridpart as gp
from gridpart.errors import GridpartError, RepairWarning
from gridpart.geometry.blocks import SNAP_DISTANCE_M
from gridpart.testing import assert_valid_plan

CRS = "EPSG:32650"
TIME_LIMIT = 2.0


def run(city, *, roads=None, households=None, communities=None, strategy="seed", **kwargs):
    if city.communities is None and "study_area" not in kwargs:
        kwargs["study_area"] = gpd.GeoSeries([study_box(city.roads.to_crs(CRS))], crs=CRS)
    return gp.partition(
        city.roads if roads is None else roads,
        city.households if households is None else households,
        communities=city.communities if communities is None else communities,
        target=city.target, strategy=strategy, time_limit=TIME_LIMIT, **kwargs,
    )


def _limit(city) -> shapely.Geometry:
    if city.communities is not None:
        return shapely.union_all(city.communities.to_crs(CRS).geometry.values)
    return study_box(city.roads.to_crs(CRS))


# --------------------------------------------------------------------------- placement and cover


@given(city=cities(), strategy=st.sampled_from(["seed", "lns"]))
def test_every_household_lies_in_its_own_grid(city, strategy):
    plan = run(city, strategy=strategy)
    assert_valid_plan(plan, city.households)
    grids = plan.grids.to_crs(CRS).set_index("grid_id").geometry
    hh = plan.households.to_crs(CRS)
    placed = hh[hh["grid_id"].notna()]
    own = grids.reindex(placed["grid_id"].astype(int)).values
    dist = shapely.distance(placed.geometry.values, own)
    assert (dist <= SNAP_DISTANCE_M + 1e-6).all(), f"households {list(placed.index[dist > SNAP_DISTANCE_M])} " \
                                                   "are far from their grid"
    # a household strictly inside some grid is in that grid
    inside = gpd.sjoin(placed[["geometry"]], grids.reset_index()[["grid_id", "geometry"]], predicate="within")
    assert (inside["grid_id"].to_numpy() == placed.loc[inside.index, "grid_id"].to_numpy()).all()


@given(city=cities(communities=st.integers(1, 3)))
def test_grids_cover_each_community_without_gap_or_overlap(city):
    plan = run(city)
    grids = plan.grids.to_crs(CRS)
    comm = city.communities.to_crs(CRS)
    for cid, geom in zip(comm["community_id"], comm.geometry.values):
        mine = grids[grids["community_id"].astype(str) == str(cid)].geometry.values
        union = shapely.union_all(mine)
        # blocks grown over street space are snapped to a 1 cm grid: half of it along each boundary
        slack = 0.005 * shapely.length(mine).sum()
        assert union.symmetric_difference(geom).area <= 1e-6 * geom.area + slack, f"community {cid} is not covered"
        assert shapely.area(mine).sum() == pytest.approx(union.area, rel=1e-6, abs=slack), f"grids of {cid} overlap"


@given(city=cities(), persons_per_household=st.integers(1, 4))
def test_households_and_persons_totals_are_conserved(city, persons_per_household):
    hh = city.households.assign(persons=city.households["households"] * persons_per_household + 1)
    plan = run(city, households=hh)
    assert_valid_plan(plan, hh)
    for column in ("households", "persons"):
        placed = plan.grids[column].sum()
        lost = plan.unplaced[column].sum() if len(plan.unplaced) else 0.0
        assert placed + lost == pytest.approx(hh[column].sum())
        assert plan.households[column].tolist() == hh[column].astype(float).tolist()


# --------------------------------------------------------------------------- CRS and order


@given(city=cities(max_cells=3), crs=st.sampled_from(["EPSG:4326", "EPSG:4490", "EPSG:3857", "EPSG:4547"]))
def test_crs_in_is_crs_out(city, crs):
    hh = city.households.to_crs(crs)
    plan = run(city, households=hh)
    assert_valid_plan(plan, hh)
    for frame in (plan.grids, plan.blocks, plan.households, plan.unplaced, plan.roads):
        assert frame.crs == hh.crs
    assert plan.households.index.equals(hh.index)
    assert shapely.equals_exact(plan.households.geometry.values, hh.geometry.values, tolerance=0).all()
    assert plan.params["work_crs"] != "EPSG:3857"


@given(city=cities(max_cells=3, communities=st.integers(2, 3)), order=st.randoms(use_true_random=False))
def test_community_row_order_does_not_matter(city, order):
    a = run(city)
    comm = city.communities.iloc[order.sample(range(len(city.communities)), len(city.communities))]
    b = run(city, communities=comm)
    assert_valid_plan(b, city.households)
    pairs = pd.DataFrame({"a": a.households["grid_id"], "b": b.households["grid_id"]}).dropna().drop_duplicates()
    assert pairs["a"].is_unique and pairs["b"].is_unique
    assert sorted(a.grids["households"]) == sorted(b.grids["households"])


# --------------------------------------------------------------------------- messy input


def _none_road(city):
    extra = gpd.GeoDataFrame({"kind": ["street"], "name": [None]}, geometry=[None], crs=city.roads.crs, index=[-1])
    return {"roads": pd.concat([city.roads, extra])}, "roads.geometry"


def _zero_length_road(city):
    p = city.households.to_crs(city.roads.crs).geometry.iloc[0]
    extra = gpd.GeoDataFrame({"kind": ["lane"], "name": [None]}, geometry=[shapely.LineString([p, p])],
                             crs=city.roads.crs, index=[-2])
    return {"roads": pd.concat([city.roads, extra])}, "roads.geometry"


def _text_counts(city):
    hh = city.households.copy()
    hh["households"] = hh["households"].astype(str)
    return {"households": hh}, "households['households']"


REPAIRS = {"none road": _none_road, "zero-length road": _zero_length_road, "counts as text": _text_counts}

HARMLESS = {
    "duplicated roads": lambda c: {"roads": pd.concat([c.roads, c.roads])},
    "3D roads": lambda c: {"roads": c.roads.set_geometry(shapely.force_3d(c.roads.geometry.values, 7.0),
                                                         crs=c.roads.crs)},
    "roads in lon/lat": lambda c: {"roads": c.roads.to_crs("EPSG:4326")},
    "households in Web Mercator": lambda c: {"households": c.households.to_crs("EPSG:3857")},
    "a far household": lambda c: {"households": pd.concat([c.households, gpd.GeoDataFrame(
        {"households": [3]}, geometry=[shapely.Point(441_000 + 9_000, 4_427_000)], crs=CRS,
        index=pd.Index([-5], name="hh")).to_crs(c.households.crs)])},
    "a zero household": lambda c: {"households": pd.concat([c.households, c.households.iloc[[0]].assign(
        households=0).set_axis(pd.Index([-6], name="hh"))])},
}

FATAL = {
    "NaN count": lambda h: (h.assign(households=h["households"].where(np.arange(len(h)) != 0, np.nan)),
                            "households['households']"),
    "negative count": lambda h: (h.assign(households=h["households"].where(np.arange(len(h)) != 0, -4)),
                                 "households['households']"),
    "no geometry": lambda h: (h.set_geometry(gpd.GeoSeries([None] + list(h.geometry.values[1:]), index=h.index,
                                                           crs=h.crs)), "households.geometry"),
    "duplicated index": lambda h: (pd.concat([h, h.iloc[[0]]]), "households.index"),
    "no CRS": lambda h: (gpd.GeoDataFrame(h.drop(columns="geometry"), geometry=list(h.geometry.values)),
                         "households.crs"),
}


@given(city=cities(max_cells=3, max_points=12), repairs=st.sets(st.sampled_from(sorted(REPAIRS))),
       harmless=st.sets(st.sampled_from(sorted(HARMLESS)), max_size=2),
       fatal=st.one_of(st.none(), st.sampled_from(sorted(FATAL))))
def test_messy_input_ends_in_a_gridpart_error_or_a_lossless_plan(city, repairs, harmless, fatal):
    layers = {"roads": city.roads, "households": city.households}
    expected_repairs = set()
    for name in sorted(harmless):
        layers.update(HARMLESS[name](_with_layers(city, layers)))
    for name in sorted(repairs):
        change, argument = REPAIRS[name](_with_layers(city, layers))
        layers.update(change)
        expected_repairs.add(argument)
    if fatal is not None:
        layers["households"], fatal_argument = FATAL[fatal](layers["households"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            plan = run(city, roads=layers["roads"], households=layers["households"])
        except GridpartError as exc:
            assert fatal is not None, f"clean or repairable input was refused: {exc}"
            assert any(p.argument == fatal_argument for p in exc.problems), str(exc)
            assert "Fix:" in str(exc)
            return
    assert fatal is None, f"{fatal} was not refused"
    hh = layers["households"]
    assert_valid_plan(plan, hh)
    total = pd.to_numeric(hh["households"]).sum()
    assert plan.grids["households"].sum() + plan.unplaced["households"].sum() == pytest.approx(total)
    recorded = {r["argument"] for r in plan.params["repairs"]}
    assert expected_repairs <= recorded
    if "a far household" in harmless:
        assert -5 in plan.unplaced.index


def _with_layers(city, layers):
    from dataclasses import replace

    return replace(city, roads=layers["roads"], households=layers["households"])


def test_repairs_warn_with_repair_warning():
    from edge_cases import base  # the catalogue's scene

    kw = base()
    roads = kw["roads"]
    kw["roads"] = pd.concat([roads, roads.iloc[[0]].set_geometry([None], crs=roads.crs).set_axis([99])])
    with pytest.warns(RepairWarning, match="without geometry"):
        plan = gp.partition(**kw)
    assert plan.params["repairs"][0]["rows"] == [99]
