"""Tests for gridpart.rules.naming: kinds, codes and limits on partitioned plans, recoding, and the
acceptance case of issue 4 on the Beijing sample."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

import gridpart as gp
from gridpart.errors import InputError
from gridpart.rules.codes import reading_order
from gridpart.rules.four_limits import SIDES, check_limits, is_fallback
from gridpart.rules.kinds import GRID_KINDS
from gridpart.rules.naming import NAMING_COLUMNS, recode

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0
ZH = re.compile(r"^东至[^，]+，南至[^，]+，西至[^，]+，北至[^，]+$")
DIRECTION = {"east": (1, 0), "south": (0, -1), "west": (-1, 0), "north": (0, 1)}


def city(n=5, size=100.0, seed=0):
    rng = np.random.default_rng(seed)
    lines = [shapely.LineString([(X0 + i * size, Y0 - 50), (X0 + i * size, Y0 + n * size + 50)]) for i in range(n + 1)]
    lines += [shapely.LineString([(X0 - 50, Y0 + j * size), (X0 + n * size + 50, Y0 + j * size)]) for j in range(n + 1)]
    names = [f"经{i}路" for i in range(n + 1)] + [f"纬{j}街" for j in range(n + 1)]
    roads = gpd.GeoDataFrame({"kind": "street", "name": names}, geometry=lines, crs=CRS)
    pts = [shapely.Point(X0 + (i + 0.5) * size, Y0 + (j + 0.5) * size) for j in range(n) for i in range(n)]
    hh = gpd.GeoDataFrame({"households": rng.integers(60, 140, n * n)}, geometry=pts, crs=CRS)
    return roads, hh, shapely.box(X0, Y0, X0 + n * size, Y0 + n * size)


def named_side_ok(geom, side, label, roads, tol_m=15.0, min_len_m=10.0) -> bool:
    """A named side is right when that road runs along the grid boundary (within 15 m: carriageways
    and sidewalks lie beside it), on that side of its centroid."""
    road = shapely.union_all(roads.loc[roads["name"] == label].geometry.values)
    near = shapely.get_parts(shapely.intersection(road, geom.boundary.buffer(tol_m)))
    length = shapely.length(near)
    if length.sum() < min_len_m:
        return False
    mid = shapely.line_interpolate_point(near, 0.5, normalized=True)
    c = geom.centroid
    dx, dy = DIRECTION[side]
    return float((length * ((shapely.get_x(mid) - c.x) * dx + (shapely.get_y(mid) - c.y) * dy)).sum()) > 0


def check_codes(grids: gpd.GeoDataFrame) -> None:
    """Codes unique, fixed width, and numbered in reading order within each community."""
    assert grids["code"].is_unique
    assert grids["code"].str.fullmatch(r"\d+").all() and grids["code"].str.len().nunique() == 1
    metric = grids.to_crs(grids.estimate_utm_crs())
    for _, g in metric.groupby("community_id"):
        seq = g["code"].str[12:].astype(int).to_numpy()
        assert sorted(seq) == list(range(1, len(g) + 1))
        # northernmost grid first; the first row runs west to east
        y = g.geometry.centroid.y.to_numpy()
        assert seq[np.argmax(y)] <= 1 + (np.abs(y - y.max()) < np.sqrt(np.median(g.area))).sum()


def test_partition_names_every_grid():
    roads, hh, area = city()
    plan = gp.partition(roads, hh, study_area=area, target=300, time_limit=2, strategy="lns")
    g = plan.grids
    for col in NAMING_COLUMNS:
        assert col in g.columns
    assert g["kind"].isin(GRID_KINDS).all() and (g["kind"] == "street").all()  # no parcels: open blocks
    assert g["limits"].str.match(ZH).all()
    check_codes(g)
    assert plan.params["community_codes"]["1"]["code_source"] == "generated"
    gm = g.to_crs(CRS)
    for _, row in gm.iterrows():
        for side in SIDES:
            label = row[f"limit_{side}"]
            assert is_fallback(label) or named_side_ok(row.geometry, side, label, roads)


def test_codes_do_not_depend_on_seed_or_row_order():
    roads, hh, area = city(seed=3)
    a = gp.partition(roads, hh, study_area=area, target=300, time_limit=2, strategy="lns", seed=0)
    b = gp.partition(roads.iloc[::-1], hh.iloc[::-1], study_area=area, target=300, time_limit=2,
                     strategy="lns", seed=0)
    # the same geometry gets the same code and limits, whatever the input order
    key = lambda p: dict(zip(p.grids.geometry.normalize().to_wkb(), zip(p.grids["code"], p.grids["limits"])))  # noqa: E731
    assert key(a) == key(b)
    # and the numbering is the reading order of the geometry, whatever grids a seed draws
    c = gp.partition(roads, hh, study_area=area, target=300, time_limit=2, strategy="lns", seed=7)
    order = reading_order(c.grids.to_crs(CRS).geometry.values)
    assert c.grids["code"].iloc[order].tolist() == sorted(c.grids["code"])


def test_recode_with_codes_width_and_prefix():
    roads, hh, area = city()
    plan = gp.partition(roads, hh, study_area=area, target=300, time_limit=2, strategy="seed")
    r = recode(plan, codes={"1": "110108015001"}, width=3)
    assert r.grids["code"].str.startswith("110108015001").all() and r.grids["code"].str.len().eq(15).all()
    assert r.params["community_codes"]["1"]["code_source"] == "given"
    assert plan.grids["code"].str.len().eq(14).all()  # the original plan is untouched
    p = gp.recode(plan, prefix="110108015")
    assert p.grids["code"].str.startswith("110108015001").all()
    assert p.params["community_codes"]["1"]["code_source"] == "generated"
    with pytest.raises(InputError, match="width"):
        recode(plan, width=5)
    with pytest.raises(InputError, match="communities"):
        recode(plan, codes={"1": "12345"})


def test_community_codes_come_from_the_communities_layer():
    roads, hh, area = city()
    west = shapely.box(X0, Y0, X0 + 300, Y0 + 500)
    east = shapely.box(X0 + 300, Y0, X0 + 500, Y0 + 500)
    comm = gpd.GeoDataFrame({"community_id": ["w", "e"], "code": ["110108015001", None], "name": ["西社区", "东社区"]},
                            geometry=[west, east], crs=CRS)
    plan = gp.partition(roads, hh, communities=comm, target=300, time_limit=2, strategy="lns")
    g = plan.grids
    assert g.loc[g["community_id"] == "w", "code"].str.startswith("110108015001").all()
    assert g.loc[g["community_id"] == "e", "code"].str.startswith("000000000001").all()
    check_codes(g)
    cc = plan.params["community_codes"]
    assert cc["e"]["code_source"] == "generated" and cc["w"]["name"] == "西社区"
    # the community edge between them is a named street here (经3路), never 社区边界 on that side
    west_grids = g[g["community_id"] == "w"].to_crs(CRS)
    touching = west_grids[west_grids.geometry.bounds["maxx"] > X0 + 299]
    assert (touching["limit_east"] == "经3路").all()


def test_a_community_edge_off_the_streets_names_the_neighbour():
    # the two communities meet at x = 250, in the middle of a column of blocks: the grids along
    # it say 与东社区交界 / 与西社区交界 (not 社区边界); the outer edge of the area is 辖区边界
    roads, hh, _ = city()
    west = shapely.box(X0, Y0, X0 + 250, Y0 + 500)
    east = shapely.box(X0 + 250, Y0, X0 + 500, Y0 + 500)
    comm = gpd.GeoDataFrame({"community_id": ["w", "e"], "name": ["西社区", "东"]}, geometry=[west, east], crs=CRS)
    plan = gp.partition(roads, hh, communities=comm, target=300, time_limit=2, strategy="lns")
    g = plan.grids.to_crs(CRS)
    west_edge = g[(g["community_id"] == "w") & (g.geometry.bounds["maxx"] > X0 + 249)]
    east_edge = g[(g["community_id"] == "e") & (g.geometry.bounds["minx"] < X0 + 251)]
    assert len(west_edge) and (west_edge["limit_east"] == "与东社区交界").all()
    assert len(east_edge) and (east_edge["limit_west"] == "与西社区交界").all()
    assert (east_edge["limits_en"].str.contains("West: border with Xi Community")).all()
    outer = g[g.geometry.bounds["minx"] < X0 + 1]
    assert outer["limit_west"].isin(["经0路", "辖区边界"]).all()


# ------------------------------------------------------------------------------ Beijing sample


@pytest.fixture(scope="module")
def beijing(shared_data):
    osm = shared_data / "beijing-xueyuanlu.osm"
    return gp.partition(osm, osm, time_limit=10, n_jobs=1)


@pytest.mark.slow
def test_beijing_kinds(beijing):
    atoms = beijing.blocks
    g = beijing.grids.set_index("grid_id")
    assert g["kind"].isin(GRID_KINDS).all()
    # the campus lies in unit grids, which hold nothing else
    campus = atoms.loc[atoms["parcel_name"] == "中国农业大学东校区", "grid_id"].unique()
    assert len(campus) >= 2
    assert (g.loc[campus, "kind"] == "unit").all()
    assert (atoms.loc[atoms["grid_id"].isin(campus), "parcel_kind"] == "unit").all()
    # grids of open blocks only are street grids
    only_open = atoms.groupby("grid_id")["parcel_kind"].apply(lambda s: s.isna().all())
    assert (g.loc[only_open[only_open].index, "kind"] == "street").all()
    # named compounds lie in compound grids, except where the band demands a mix: every grid of
    # another kind holding a compound's households would fall outside the band without them
    lo, hi = beijing.params["band"]
    comp = atoms[(atoms["parcel_kind"] == "compound") & atoms["parcel_name"].notna()]
    in_compound = g.loc[comp["grid_id"], "kind"].to_numpy() == "compound"
    share = float((comp["households"].to_numpy() * in_compound).sum() / comp["households"].sum())
    # (0.87 since street space joined the blocks: five small compounds share a grid the band demands)
    assert share >= 0.85, share
    for gid in comp.loc[~in_compound, "grid_id"].unique():
        rest = atoms.loc[(atoms["grid_id"] == gid) & (atoms["parcel_kind"] != "compound"), "households"].sum()
        assert not lo <= rest <= hi, (gid, rest)


@pytest.mark.slow
def test_beijing_compounds_own_keeps_every_named_compound_in_compound_grids(shared_data):
    osm = shared_data / "beijing-xueyuanlu.osm"
    plan = gp.partition(osm, osm, time_limit=10, n_jobs=1, compounds="own")
    atoms, g = plan.blocks, plan.grids.set_index("grid_id")
    comp = atoms[(atoms["parcel_kind"] == "compound") & atoms["parcel_name"].notna()]
    lo, hi = plan.params["band"]
    # a named compound lies in a compound grid, unless the band demands it join others:
    # it holds fewer households than the band's lower limit (DESIGN §4, kinds)
    outside = comp[(g.loc[comp["grid_id"], "kind"] != "compound").to_numpy()]
    total = atoms[atoms["parcel_kind"] == "compound"].groupby("parcel_name")["households"].sum()
    assert len(comp) and (total.reindex(outside["parcel_name"].unique()) < lo).all()
    assert len(outside) <= len(comp) // 10
    # out-of-band grids of owned compounds say why
    owned = g.loc[comp["grid_id"].unique()]
    out = owned[(owned["households"] < lo) | (owned["households"] > hi)]
    assert out["forced"].all()


@pytest.mark.slow
def test_beijing_limits_and_codes(beijing):
    g = beijing.grids
    assert g["limits"].str.match(ZH).all()
    assert g["limits_en"].str.match(r"^East: [^;]+; South: [^;]+; West: [^;]+; North: [^;]+$").all()
    check_codes(g)
    gm = g.to_crs(beijing.params["work_crs"])
    roads = beijing.roads.to_crs(beijing.params["work_crs"])
    results = [named_side_ok(row.geometry, side, row[f"limit_{side}"], roads)
               for _, row in gm.iterrows() for side in SIDES
               if not is_fallback(row[f"limit_{side}"])]
    # enough named sides to measure: a side names a road only where the road runs along half of
    # the whole side (issue 18's check); most Beijing sides have no named line within 15 m at all
    assert len(results) >= len(g) // 3
    assert np.mean(results) >= 0.9, np.mean(results)
    # issue 18: named sides have their road within 15 m along half the side, not crossing.
    # Measured against the lines that bound blocks: the carriageways and side roads inside the
    # street space a block took in (学清路 here: four lines named alike across 48 m, the grid
    # edge along its middle) are the road the grid is bounded by, not a road through it.
    # Against every OSM line the same sides read as crossing (about 65 % pass; closing note).
    lim = g[[f"limit_{s}" for s in SIDES]].set_axis(list(SIDES), axis=1)
    roads = beijing.roads.to_crs(beijing.params["work_crs"])
    checks = check_limits(gm, roads[~roads["street_space"].astype(bool)], lim.set_index(gm.index))
    assert checks.loc[checks["named"], "passes"].mean() >= 0.95
    table = beijing.register()
    assert len(table) == len(g) and table["网格编码"].is_monotonic_increasing


# ------------------------------------------------------------------------------ random districts

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import cities, study_box  # noqa: E402


@st.composite
def city_with_parcels(draw):
    city = draw(cities(max_cells=3, max_points=16, communities=st.integers(0, 2)))
    x0, y0, x1, y1 = city.roads.to_crs(CRS).total_bounds
    boxes = []
    for _ in range(draw(st.integers(1, 3))):
        fx = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2)))
        fy = sorted(draw(st.lists(st.floats(0, 1), min_size=2, max_size=2)))
        boxes.append(shapely.box(x0 + fx[0] * (x1 - x0), y0 + fy[0] * (y1 - y0),
                                 x0 + max(fx[1], fx[0] + 0.2) * (x1 - x0), y0 + max(fy[1], fy[0] + 0.2) * (y1 - y0)))
    kinds = draw(st.lists(st.sampled_from(["unit", "compound"]), min_size=len(boxes), max_size=len(boxes)))
    parcels = gpd.GeoDataFrame({"kind": kinds, "name": [f"地块{i}" for i in range(len(boxes))]},
                               geometry=boxes, crs=CRS)
    return city, parcels, draw(st.sampled_from(["own", "own-all", "merge"]))


@given(city_with_parcels())
@settings(max_examples=8)
def test_random_districts_are_named_consistently(case):
    city, parcels, units = case
    kwargs = {} if city.communities is not None else {"study_area": study_box(city.roads, 30.0)}
    plan = gp.partition(city.roads, city.households, communities=city.communities, parcels=parcels,
                        target=city.target, units=units, strategy="lns", time_limit=1.0, **kwargs)
    g = plan.grids
    assert g["kind"].isin(GRID_KINDS).all() and len(g["kind"]) == len(g)
    assert g["limits"].str.match(ZH).all()
    check_codes(g)
    atoms = plan.blocks
    if units == "own-all":  # a unit's atoms share their grids with no other atom
        unit_atoms = atoms[atoms["parcel_kind"] == "unit"]
        for pid, grids in unit_atoms.groupby("parcel_id")["grid_id"]:
            members = atoms[atoms["grid_id"].isin(grids.unique())]
            assert (members["parcel_id"] == pid).all()
            assert (g.set_index("grid_id").loc[grids.unique(), "kind"] == "unit").all()
    if units == "own":  # a grid housing a unit's households holds that unit, and at most empty units
        housed = atoms[(atoms["parcel_kind"] == "unit") & (atoms["households"] > 0)]
        for pid, grids in housed.groupby("parcel_id")["grid_id"]:
            members = atoms[atoms["grid_id"].isin(grids.unique())]
            assert (members["parcel_kind"] == "unit").all()
            assert (members.loc[members["households"] > 0, "parcel_id"] == pid).all()
            assert (g.set_index("grid_id").loc[grids.unique(), "kind"] == "unit").all()
    # every named side names a road that runs along the grid's boundary (within 15 m: the
    # edge may follow the middle of street space beside it, issue 18)
    gm = g.to_crs(CRS)
    roads = city.roads.to_crs(CRS)
    for _, row in gm.iterrows():
        for side in SIDES:
            label = row[f"limit_{side}"]
            if is_fallback(label):
                continue
            road = shapely.union_all(roads.loc[roads["name"] == label].geometry.values)
            assert shapely.intersection(road, row.geometry.boundary.buffer(15.0)).length > 1.0, (side, label)


def test_recode_is_recorded():
    # DESIGN §4: only an explicit recode renumbers, and it records what it did
    roads, hh, area = city()
    plan = gp.partition(roads, hh, study_area=area, target=300, time_limit=2, strategy="seed")
    r = recode(plan, codes={"1": "110108015001"})
    (entry,) = r.params["recodes"]
    assert entry["communities"] == {"1": [plan.params["community_codes"]["1"]["code"], "110108015001"]}
    assert entry["grids"] == {str(g): [a, b] for g, a, b in zip(plan.grids["grid_id"], plan.grids["code"],
                                                               r.grids["code"])}
    assert set(plan.grids["code"]) <= set(r.params["retired_codes"])
    assert len(recode(r, width=3).params["recodes"]) == 2
