"""Tests for gridpart.outputs.review: each measure on a hand-built plan whose answer is known, and properties."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

import gridpart as gp
from gridpart.outputs.review import flag_column, is_fallback, parse_limits, review
from gridpart.plan import GridPlan

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0
PLAIN = "东至无名巷，南至无名巷，西至无名巷，北至无名巷"


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def line(*xy):
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in xy])


def make_plan(grids: list, households: list | None = None, roads: list | None = None) -> GridPlan:
    """A plan from ``(geometry, kind, households, limits)`` rows, household points
    ``(x, y, grid_id)`` and road rows ``(geometry, kind, name)``; grid ids 1, 2, ..."""
    g = gpd.GeoDataFrame({
        "grid_id": np.arange(1, len(grids) + 1),
        "kind": [r[1] for r in grids],
        "households": [float(r[2]) for r in grids],
        "limits": [r[3] for r in grids],
    }, geometry=[r[0] for r in grids], crs=CRS)
    households = households or []
    hh = gpd.GeoDataFrame({
        "households": np.ones(len(households)),
        "grid_id": pd.array([h[2] for h in households], dtype="Int64"),
    }, geometry=[shapely.Point(X0 + h[0], Y0 + h[1]) for h in households], crs=CRS)
    roads = roads or []
    r = gpd.GeoDataFrame({"kind": [x[1] for x in roads], "name": [x[2] for x in roads]},
                         geometry=[x[0] for x in roads], crs=CRS)
    empty = gpd.GeoDataFrame(geometry=[], crs=CRS)
    return GridPlan(grids=g, blocks=empty, households=hh, unplaced=empty.assign(households=[]),
                    status=pd.DataFrame(), edges=pd.DataFrame(), roads=r, params={"work_crs": CRS})


def test_square_shape_figures():
    plan = make_plan([(box(0, 0, 100, 100), "street", 300, PLAIN)], [(50, 50, 1)])
    row = review(plan).per_grid.loc[1]
    assert row["polsby_popper"] == pytest.approx(math.pi / 4)
    assert row["hull_ratio"] == pytest.approx(1.0)
    assert row["aspect"] == pytest.approx(1.0)
    assert row["mean_width_m"] == pytest.approx(50.0)  # 2A/P
    assert row["strip_share"] < 4 * (4 - math.pi) * 7.5 ** 2 / 10_000 + 1e-6  # round corners only
    assert row["household_parts"] == 1
    assert not row["flag_compactness"] and not row["flag_long_thin"] and not row["flag_empty"]


def test_long_thin_by_aspect_and_by_width():
    plan = make_plan([
        (box(0, 0, 400, 50), "street", 300, PLAIN),      # aspect 8
        (box(0, 100, 300, 118), "street", 300, PLAIN),   # 2A/P = 2*5400/636 = 17 m
        (box(0, 200, 200, 260), "street", 300, PLAIN),   # aspect 3.33, width 46 m
    ], [(10, 10, 1), (10, 110, 2), (10, 210, 3)])
    per = review(plan).per_grid
    assert per.loc[1, "aspect"] == pytest.approx(8.0)
    assert per.loc[2, "mean_width_m"] == pytest.approx(2 * 300 * 18 / 636)
    assert per["flag_long_thin"].tolist() == [True, True, False]
    assert "long thin: aspect 8.0" in per.loc[1, "flags"]


def test_snake_below_the_compactness_floor():
    # an L of two 20 m wide arms, 600 m each: PP = 4π·23600/2400² ≈ 0.05
    snake = shapely.union(box(0, 0, 600, 20), box(0, 0, 20, 600))
    plan = make_plan([(snake, "street", 300, PLAIN)], [(10, 10, 1)])
    row = review(plan).per_grid.loc[1]
    assert row["polsby_popper"] < 0.15
    assert row["flag_compactness"]
    assert row["flags"].startswith("compactness: Polsby–Popper 0.05 < 0.15")


def test_strips_and_household_parts_joined_through_a_strip():
    # two 100 m squares joined by a 10 m wide, 50 m long corridor; households in both squares
    dumbbell = shapely.union_all([box(0, 0, 100, 100), box(100, 45, 150, 55), box(150, 0, 250, 100)])
    # a square with a 10 m wide, 300 m long tail holding no household: tail = 3000 / 13000 = 23 %
    tail = shapely.union(box(0, 200, 100, 300), box(100, 245, 400, 255))
    # the same tail with a household in it: not household-free
    held = shapely.union(box(0, 400, 100, 500), box(100, 445, 400, 455))
    plan = make_plan([(dumbbell, "street", 300, PLAIN), (tail, "street", 300, PLAIN),
                      (held, "street", 300, PLAIN)],
                     [(50, 50, 1), (200, 50, 1), (50, 250, 2), (50, 450, 3), (300, 450, 3)])
    per = review(plan).per_grid
    assert per.loc[1, "household_parts"] == 2 and per.loc[1, "flag_strip_joined"]
    assert per.loc[1, "strip_share"] < 0.05 and not per.loc[1, "flag_strips"]
    assert per.loc[2, "household_parts"] == 1 and not per.loc[2, "flag_strip_joined"]
    assert per.loc[2, "strip_share"] == pytest.approx(3000 / 13000, abs=0.01)
    assert per.loc[2, "flag_strips"]
    assert per.loc[3, "strip_share"] < 0.02  # the household makes the tail no strip


def test_ring_wraps_three_grids():
    # a C open to the east around three 100 x 100 grids
    c = shapely.difference(box(0, 0, 350, 200), box(50, 50, 400, 150))
    inner = [box(50, 50, 150, 150), box(150, 50, 250, 150), box(250, 50, 350, 150)]
    plan = make_plan([(c, "street", 300, PLAIN)] + [(b, "street", 300, PLAIN) for b in inner],
                     [(10, 10, 1), (100, 100, 2), (200, 100, 3), (300, 100, 4)])
    rv = review(plan)
    per = rv.per_grid
    assert per.loc[1, "wraps"] == 3 and sorted(per.loc[1, "wrapped"]) == [2, 3, 4]
    assert per.loc[1, "flag_wraps"]
    assert per.loc[2:4, "wraps"].tolist() == [0, 0, 0]
    assert per["enclave_of"].isna().all()  # the C is open: no enclave
    assert rv.summary["wraps"] == 1 and rv.summary["wraps_max"] == 3


@pytest.mark.parametrize("kind, allowed", [("street", False), ("unit", True), ("compound", True)])
def test_enclave_in_a_hole(kind, allowed):
    outer = shapely.difference(box(0, 0, 300, 300), box(100, 100, 200, 200))
    plan = make_plan([(outer, "street", 300, PLAIN), (box(100, 100, 200, 200), kind, 300, PLAIN)],
                     [(50, 50, 1), (150, 150, 2)])
    rv = review(plan)
    per = rv.per_grid
    assert pd.isna(per.loc[1, "enclave_of"]) and per.loc[2, "enclave_of"] == 1
    assert per.loc[2, "enclave_allowed"] == allowed
    assert per.loc[2, "flag_enclave"] == (not allowed)
    assert rv.summary["enclaves"] == 1 and rv.summary["enclaves_not_dedicated"] == (0 if allowed else 1)


def test_enclave_surrounded_without_a_hole():
    # a U closed by a second grid is no enclave; the grid inside a closed pocket of one grid is
    pocket = shapely.difference(box(0, 0, 300, 300), box(100, 100, 200, 200))
    plan = make_plan([(pocket, "street", 300, PLAIN), (box(100, 100, 200, 200), "street", 300, PLAIN),
                      (box(300, 0, 400, 300), "street", 300, PLAIN)], [(50, 50, 1), (150, 150, 2), (350, 50, 3)])
    per = review(plan).per_grid
    assert per.loc[2, "enclave_of"] == 1
    assert pd.isna(per.loc[3, "enclave_of"])  # shares one side only


def test_zero_households():
    plan = make_plan([(box(0, 0, 100, 100), "unit", 0, PLAIN), (box(100, 0, 200, 100), "street", 300, PLAIN)],
                     [(150, 50, 2)])
    rv = review(plan)
    assert rv.per_grid["flag_empty"].tolist() == [True, False]
    assert rv.summary["empty"] == 1
    assert "empty: 0 households" in rv.per_grid.loc[1, "flags"]


def test_arterial_inside_counts_only_beyond_15_m_of_the_boundary():
    plan = make_plan([(box(0, 0, 200, 200), "street", 300, PLAIN), (box(200, 0, 400, 200), "street", 300, PLAIN)],
                     [(50, 50, 1), (250, 50, 2)],
                     roads=[(line((100, -50), (100, 250)), "road", "学院路"),      # through grid 1
                            (line((200, -50), (200, 250)), "road", "清华东路"),    # on the boundary
                            (line((300, -50), (300, 250)), "street", "石板房南路")])  # a street through grid 2
    per = review(plan).per_grid
    assert per.loc[1, "arterial_inside_m"] == pytest.approx(170.0)
    assert per.loc[1, "arterial_name"] == "学院路" and per.loc[1, "flag_arterial_inside"]
    assert per.loc[2, "arterial_inside_m"] == pytest.approx(0.0) and not per.loc[2, "flag_arterial_inside"]
    assert "arterial inside: 学院路 170 m" in per.loc[1, "flags"]


def test_carriageways_bounding_the_grid_are_not_inside_but_a_road_it_spans_is():
    # the grid's edge runs along the middle of a dual road (street space shared): its
    # carriageways, 5 m either side, bound it
    bounded = make_plan([(box(0, 0, 200, 200), "street", 300, PLAIN)], [(50, 50, 1)],
                        roads=[(line((-10, -5), (210, -5)), "road", "学院路"),
                               (line((-10, 5), (210, 5)), "road", "学院路")])
    row = review(bounded).per_grid.loc[1]
    assert row["arterial_inside_m"] == 0 and not row["flag_arterial_inside"]
    # the grid spans both carriageways: 2 x 170 m inside the grid shrunk by 15 m
    spans = make_plan([(box(0, 0, 200, 200), "street", 300, PLAIN)], [(50, 50, 1)],
                      roads=[(line((-10, 95), (210, 95)), "road", "学院路"),
                             (line((-10, 105), (210, 105)), "road", "学院路")])
    row = review(spans).per_grid.loc[1]
    assert row["arterial_inside_m"] == pytest.approx(340.0) and row["flag_arterial_inside"]


def test_roads_argument_overrides_the_plan_roads():
    plan = make_plan([(box(0, 0, 200, 200), "street", 300, PLAIN)], [(50, 50, 1)])
    roads = gpd.GeoDataFrame({"kind": ["road"], "name": ["学院路"]},
                             geometry=[line((100, -50), (100, 250))], crs=CRS).to_crs(4326)
    assert review(plan).per_grid.loc[1, "arterial_inside_m"] == 0
    assert review(plan, roads=roads).per_grid.loc[1, "arterial_inside_m"] == pytest.approx(170.0, abs=0.5)
    with pytest.raises(gp.InputError, match="kind"):
        review(plan, roads=roads.drop(columns="kind"))


def test_limits_text_fallbacks_and_named_share():
    plan = make_plan([
        (box(0, 0, 100, 100), "street", 300, "东至学院路，南至楼栋间，西至社区边界，北至无名街"),
        (box(100, 0, 200, 100), "street", 300, "东至无名巷，南至与学院路社区交界，西至辖区边界，北至楼栋间"),
    ], [(50, 50, 1), (150, 50, 2)])
    rv = review(plan)
    assert rv.per_grid["named_sides"].tolist() == [1, 0]
    assert rv.per_grid["fallback_sides"].tolist() == [3, 4]
    assert rv.summary["named_side_share"] == pytest.approx(1 / 8)
    assert rv.summary["fallback_side_share"] == pytest.approx(7 / 8)
    assert rv.summary["limits_no_named_side"] == 1
    assert rv.per_grid["flag_limits_unnamed"].tolist() == [False, True]


def test_limits_geometry_missed_passes_and_crossing():
    # grid 1: 学院路 runs 5 m east of its east side (near all of it), but the text says 无名巷: missed.
    # grid 2: same road, text names it: passes.
    # grid 3: 清华东路 runs through the middle; the text names it for the north side: fails.
    # grid 4: 志新路 (80 m, +15 m reach) near 47.5 % of its east side and named there: fails (not along).
    rows = [
        (box(0, 0, 200, 200), "street", 300, "东至无名巷，南至无名巷，西至无名巷，北至无名巷"),
        (box(0, 300, 200, 500), "street", 300, "东至学院路，南至无名巷，西至无名巷，北至无名巷"),
        (box(0, 600, 200, 800), "street", 300, "东至无名巷，南至无名巷，西至无名巷，北至清华东路"),
        (box(0, 900, 200, 1100), "street", 300, "东至志新路，南至无名巷，西至无名巷，北至无名巷"),
    ]
    roads = [(line((205, -10), (205, 510)), "road", "学院路"),
             (line((-10, 700), (210, 700)), "street", "清华东路"),
             (line((205, 900), (205, 980)), "street", "志新路")]
    plan = make_plan(rows, [(50, 50, 1), (50, 350, 2), (50, 650, 3), (50, 950, 4)], roads)
    rv = review(plan)
    s = rv.sides.set_index(["grid_id", "side"])
    assert s.loc[(1, "east"), "missed"] and s.loc[(1, "east"), "best_road"] == "学院路"
    assert s.loc[(1, "east"), "best_along"] == pytest.approx(1.0)
    assert not s.loc[(2, "east"), "missed"] and bool(s.loc[(2, "east"), "passes"])
    assert s.loc[(3, "north"), "label_inside_m"] == pytest.approx(170.0)
    assert not bool(s.loc[(3, "north"), "passes"])
    assert s.loc[(4, "east"), "label_along"] == pytest.approx(0.475, abs=0.03)
    assert not bool(s.loc[(4, "east"), "passes"]) and not s.loc[(4, "east"), "missed"]
    assert pd.isna(s.loc[(1, "south"), "passes"])  # fallback sides are not checked
    assert rv.summary["pass_share"] == pytest.approx(1 / 3)
    assert rv.summary["missed_sides"] == 1
    per = rv.per_grid
    assert per["flag_limits_missed"].tolist() == [True, False, False, False]
    assert per["flag_limits_fail"].tolist() == [False, False, True, True]
    assert "east misses 学院路" in per.loc[1, "flags"]


def test_parse_and_fallback_helpers():
    assert parse_limits("东至学院路，南至清华东路，西至无名巷，北至社区边界") == {
        "east": "学院路", "south": "清华东路", "west": "无名巷", "north": "社区边界"}
    assert parse_limits(None) == dict.fromkeys(("east", "south", "west", "north"))
    assert [is_fallback(x) for x in ("学院路", "无名路", "楼栋间", "与某社区交界", None, "")] == [
        False, True, True, True, True, True]


def test_flags_go_on_the_grids_and_forced_is_untouched():
    plan = make_plan([(box(0, 0, 100, 100), "unit", 0, PLAIN)], [])
    plan.grids["forced"] = True
    rv = gp.review(plan)
    grids = plan.grids.assign(flags=plan.grids["grid_id"].map(rv.flags))
    assert grids.loc[0, "flags"].startswith("empty")
    assert flag_column(plan).tolist() == flag_column(plan, rv).tolist() == grids["flags"].tolist()
    assert plan.grids["forced"].tolist() == [True] and "flags" not in plan.grids


@given(w=st.floats(3, 400), h=st.floats(3, 400), dx=st.floats(-1e4, 1e4))
def test_rectangle_figures(w, h, dx):
    """On any rectangle: aspect, mean width and PP are exact, and it is all strip iff narrower than 15 m."""
    plan = make_plan([(shapely.affinity.translate(box(0, 0, w, h), dx, 0), "street", 10, PLAIN)], [])
    row = review(plan).per_grid.iloc[0]
    assert row["aspect"] == pytest.approx(max(w, h) / min(w, h), rel=1e-6)
    assert row["mean_width_m"] == pytest.approx(w * h / (w + h), rel=1e-6)
    assert row["polsby_popper"] == pytest.approx(math.pi * w * h / (w + h) ** 2, rel=1e-6)
    assert 0 <= row["hull_ratio"] <= 1 + 1e-9
    if min(w, h) < 14.99:
        assert row["strip_share"] == pytest.approx(1.0)
    elif min(w, h) > 15.01:
        assert row["strip_share"] <= 4 * (4 - math.pi) * 7.5 ** 2 / (w * h) + 1e-6


@given(perm=st.permutations(list(range(6))))
def test_summary_unchanged_by_relabelling(perm):
    """Grid ids are labels: renumbering the grids changes no summary figure."""
    c = shapely.difference(box(0, 0, 350, 200), box(50, 50, 400, 150))
    geoms = [c, box(50, 50, 150, 150), box(150, 50, 250, 150), box(250, 50, 350, 150),
             box(0, 200, 350, 215), box(0, 215, 350, 400)]
    rows = [(gm, "street", 300 * (i > 0), PLAIN) for i, gm in enumerate(geoms)]
    roads = [(line((-10, 300), (360, 300)), "road", "学院路")]
    base = review(make_plan(rows, [(100, 100, 2), (10, 300, 6)], roads)).summary
    ids = [p + 1 for p in perm]
    rows2 = [rows[i] for i in perm]
    new_id = {old + 1: k + 1 for k, old in enumerate(perm)}
    hh = [(100, 100, new_id[2]), (10, 300, new_id[6])]
    again = review(make_plan(rows2, hh, roads)).summary
    assert ids  # the permutation is used through rows2 and new_id
    pd.testing.assert_series_equal(base, again)


def test_a_road_meeting_a_short_side_is_not_along_it():
    # a 30 m wide grid whose east side is met end-on by 学院路 (perpendicular): not along, not missed
    plan = make_plan([(box(0, 0, 100, 30), "street", 300, PLAIN)], [(50, 15, 1)],
                     roads=[(line((100, 15), (300, 15)), "street", "学院路")])
    s = review(plan).sides.set_index("side")
    assert s.loc["east", "best_along"] == 0 and not s.loc["east", "missed"]


def test_strips_of_atoms_see_a_median_glued_along_a_block():
    # a 100 m block with a 10 m median strip glued along its south side: the grid is 110 m deep,
    # so its own opening keeps the strip; the atoms' openings do not
    block, median = box(0, 10, 100, 110), box(0, 0, 100, 10)
    plan = make_plan([(shapely.union(block, median), "street", 300, PLAIN)], [(50, 50, 1)])
    plan.blocks = gpd.GeoDataFrame({"atom_id": [1, 2], "grid_id": [1, 1]}, geometry=[block, median], crs=CRS)
    row = review(plan).per_grid.loc[1]
    assert row["strip_share"] == pytest.approx(0.0, abs=1e-6)
    assert row["strip_share_atoms"] == pytest.approx(1000 / 11000)


def _random_lines(rng, n):
    """Straight two-vertex lines, zero-length ones, bent lines and a multipart one."""
    p0 = rng.uniform(0, 200, (n, 2))
    p1 = p0 + rng.normal(0, 30, (n, 2))
    p1[:5] = p0[:5]  # zero length
    lines = list(shapely.linestrings(np.stack([p0, p1], 1)))
    lines += [shapely.LineString(rng.uniform(0, 200, (k, 2))) for k in (3, 5, 8)]
    lines.append(shapely.MultiLineString([[(0, 0), (50, 50)], [(60, 0), (60, 90)]]))
    return np.array(lines, dtype=object)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_near_roads_finds_what_the_tree_finds(seed):
    from importlib import import_module
    rv = import_module("gridpart.outputs.review")
    rng = np.random.default_rng(seed)
    lines = _random_lines(rng, 300)
    # points along rings, some exactly NEAR_M from the axis-parallel line y = 100
    xy = rng.uniform(-20, 220, (2_000, 2))
    xy[:50] = np.c_[np.linspace(0, 200, 50), np.full(50, 100.0 + rv.NEAR_M)]
    tree = shapely.STRtree(np.r_[lines, [shapely.LineString([(0, 100), (200, 100)])]].astype(object))
    ring = np.repeat(np.arange(100), 20)
    pi, si = rv._near_roads(tree, xy, ring, rv.NEAR_M)
    qi, qs = tree.query(shapely.points(xy), predicate="dwithin", distance=rv.NEAR_M)
    assert np.all(np.diff(pi) >= 0)
    assert sorted(zip(pi.tolist(), si.tolist())) == sorted(zip(qi.tolist(), qs.tolist()))
    assert (pi < 50).sum() >= 50  # the points exactly NEAR_M away are near


@pytest.mark.parametrize("seed", [0, 1])
def test_parallel_shortcut_agrees_with_the_chord_along_the_line(seed):
    from importlib import import_module
    rv = import_module("gridpart.outputs.review")
    rng = np.random.default_rng(seed)
    lines = _random_lines(rng, 2_000)
    xy = rng.uniform(0, 200, (len(lines), 2))
    ang = rng.uniform(0, 2 * np.pi, len(lines))
    direction = np.c_[np.cos(ang), np.sin(ang)]
    # directions exactly PARALLEL_DEG off some straight lines
    some = lines[5:500]
    d = shapely.get_coordinates(shapely.get_point(some, 1)) - shapely.get_coordinates(shapely.get_point(some, 0))
    t = np.arctan2(d[:, 1], d[:, 0]) + np.radians(rv.PARALLEL_DEG)
    direction[5:500] = np.c_[np.cos(t), np.sin(t)]
    expect = rv._parallel_along(lines, shapely.points(xy), direction)
    assert np.array_equal(rv._parallel(lines, xy, direction), expect)
