"""Tests for gridpart.outputs.scoring: figures on a hand-built plan, and invariance to relabelling."""

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
from gridpart.datasets.synthetic import synthetic_city
from gridpart.outputs.scoring import compare, score
from gridpart.plan import GridPlan

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0


@pytest.fixture
def hand_plan() -> GridPlan:
    """Six 100 m squares in a row, four grids (band 240-360, target 300).

    ========  =====  ==========  =============================================
    grid      atoms  households
    ========  =====  ==========  =============================================
    1         0, 1   300         in band; an arterial (edge 0-1) inside
    2         2      200         below the band
    3         3, 5   270         in band, -10 %; two pieces (not contiguous)
    4         4      500         forced out: one building above the band
    ========  =====  ==========  =============================================

    Edges: 0-1 road, 1-2 street, 2-3 lane, 3-4 non_road, 4-5 street, 100 m each.
    One household of 7 is unplaced.
    """
    squares = [shapely.box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100) for i in range(6)]
    grid_of = np.array([1, 1, 2, 3, 4, 3])
    hh_atoms = np.array([150, 150, 200, 100, 500, 170], float)
    atoms = gpd.GeoDataFrame({
        "atom_id": np.arange(6), "block_id": [0, 0, 1, 2, 2, 3], "community_id": "1",
        "is_cell": [False, False, False, True, True, False], "households": hh_atoms,
        "persons": hh_atoms * 2.5, "area_m2": 10_000.0, "grid_id": grid_of,
    }, geometry=squares, crs=CRS)
    grids = atoms.dissolve(by="grid_id", aggfunc={"households": "sum", "persons": "sum"}).reset_index()
    grids["community_id"] = "1"
    grids["forced"] = grids["grid_id"] == 4
    grids["forced_reason"] = np.where(grids["forced"], "holds one indivisible place above the band", "")
    pts = shapely.points(np.column_stack([X0 + 100 * np.arange(6) + 50, np.full(6, Y0 + 50)]))
    households = gpd.GeoDataFrame({"households": hh_atoms, "persons": hh_atoms * 2.5, "atom_id": np.arange(6),
                                   "grid_id": pd.array(grid_of, dtype="Int64")}, geometry=pts, crs=CRS)
    unplaced = gpd.GeoDataFrame({"households": [7.0], "persons": [17.5], "reason": ["outside the study area"]},
                                geometry=[shapely.Point(X0 + 5_000, Y0)], crs=CRS, index=[99])
    kinds = ["road", "street", "lane", "non_road", "street"]
    edges = pd.DataFrame({"a": [0, 1, 2, 3, 4], "b": [1, 2, 3, 4, 5], "length_m": 100.0})
    for kind in ("road", "street", "lane", "barrier", "non_road", "other"):
        edges[f"{kind}_m"] = [100.0 if k == kind else 0.0 for k in kinds]
    edges["kind"] = kinds
    edges["name"] = None
    return GridPlan(grids=grids, blocks=atoms, households=households, unplaced=unplaced,
                    status=pd.DataFrame({"status": ["FEASIBLE"]}), edges=edges,
                    roads=gpd.GeoDataFrame({"kind": []}, geometry=[], crs=CRS),
                    params={"band": [240.0, 360.0], "work_crs": CRS})


def test_summary_figures_on_a_hand_built_plan(hand_plan):
    s = score(hand_plan).summary
    expected = {
        "grids": 4, "forced_out": 1,
        "share_in_band": 2 / 3, "share_in_band_raw": 2 / 4,
        "share_within_10pct": 2 / 3, "share_within_20pct": 2 / 3,
        "share_within_10pct_raw": 2 / 4, "share_within_20pct_raw": 2 / 4,
        "mean_abs_dev": (0 + 1 / 3 + 0.1 + 2 / 3) / 4, "max_abs_dev": 2 / 3,
        "contiguous_share": 3 / 4,
        "road_share": 300 / 400, "non_road_cut_m": 100,
        "grids_crossing_arterials": 1, "arterial_inside_m": 100,
        "unplaced_households": 7,
    }
    for key, value in expected.items():
        assert s[key] == pytest.approx(value), key
    sizes = np.array([300, 200, 270, 500])
    assert s["cv"] == pytest.approx(sizes.std() / sizes.mean())
    assert s["persons_cv"] == pytest.approx(s["cv"])
    pp = [4 * math.pi * 20_000 / 600**2, math.pi / 4, 4 * math.pi * 20_000 / 800**2, math.pi / 4]
    assert s["polsby_popper_mean"] == pytest.approx(np.mean(pp))


def test_per_grid_figures_on_a_hand_built_plan(hand_plan):
    per = score(hand_plan).per_grid
    assert per.index.tolist() == [1, 2, 3, 4]
    assert per["households"].tolist() == [300, 200, 270, 500]
    assert per["deviation"].to_numpy() == pytest.approx([0, -1 / 3, -0.1, 2 / 3])
    assert per["in_band"].tolist() == [True, False, True, False]
    assert per["forced"].tolist() == [False, False, False, True]
    assert per["contiguous"].tolist() == [True, True, False, True]
    assert per["boundary_m"].tolist() == [100, 200, 300, 200]
    assert per["road_boundary_m"].tolist() == [100, 200, 200, 100]
    assert per["non_road_boundary_m"].tolist() == [0, 0, 100, 100]
    assert per["arterial_inside_m"].tolist() == [100, 0, 0, 0]


def test_a_target_argument_moves_the_percent_shares(hand_plan):
    s = score(hand_plan, target=270).summary
    # grids 1 (300, +11 %), 2 (200, -26 %), 3 (270, 0 %) are not forced
    assert s["share_within_10pct"] == pytest.approx(1 / 3)
    assert s["share_within_20pct"] == pytest.approx(2 / 3)
    assert s["share_in_band"] == pytest.approx(2 / 3)  # the band itself does not move


def _relabelled(plan: GridPlan, seed: int) -> GridPlan:
    ids = plan.grids["grid_id"].to_numpy()
    new = dict(zip(ids, np.random.default_rng(seed).permutation(ids) + 1000))
    grids = plan.grids.assign(grid_id=plan.grids["grid_id"].map(new)).sample(frac=1.0, random_state=seed)
    blocks = plan.blocks.assign(grid_id=plan.blocks["grid_id"].map(new))
    hh = plan.households.assign(grid_id=plan.households["grid_id"].map(new).astype("Int64"))
    return GridPlan(grids=grids, blocks=blocks, households=hh, unplaced=plan.unplaced, status=plan.status,
                    edges=plan.edges, roads=plan.roads, params=plan.params)


def test_relabelling_grids_does_not_change_the_summary(hand_plan):
    before = score(hand_plan)
    after = score(_relabelled(hand_plan, 1))
    pd.testing.assert_series_equal(before.summary, after.summary, rtol=1e-12)


def test_relabelling_a_partition_does_not_change_its_scores():
    roads, hh, comm = synthetic_city(3_000, seed=4, communities=2)
    plan = gp.partition(roads, hh, communities=comm, strategy="seed")
    before = score(plan)
    for seed in (1, 2):
        other = _relabelled(plan, seed)
        after = score(other)
        pd.testing.assert_series_equal(before.summary, after.summary, rtol=1e-9)
        back = {new: old for old, new in zip(plan.households["grid_id"], other.households["grid_id"])}
        per = after.per_grid.rename(index=back).sort_index()
        pd.testing.assert_frame_equal(before.per_grid.sort_index(), per, check_names=False, rtol=1e-9)


def test_compare_puts_plans_side_by_side(hand_plan):
    table = compare({"hand": hand_plan, "relabelled": _relabelled(hand_plan, 3)})
    assert list(table.columns) == ["hand", "relabelled"]
    assert table.loc["grids", "hand"] == 4
    pd.testing.assert_series_equal(table["hand"], table["relabelled"], check_names=False)


def test_plan_summary_text_and_score_method(hand_plan):
    assert score(hand_plan).summary.equals(hand_plan.score().summary)
    text = hand_plan.summary()
    assert "4 grids" in text and "1 forced out" in text and "unplaced households: 7" in text
    assert "<table>" in hand_plan._repr_html_()


def test_cut_length_by_road_class(hand_plan):
    # cut edges: 1-2 street, 2-3 lane, 3-4 non_road, 4-5 street; the road edge 0-1 is inside grid 1
    s = score(hand_plan).summary
    assert (s["cut_road_m"], s["cut_street_m"], s["cut_lane_m"], s["cut_barrier_m"]) == (0.0, 200.0, 100.0, 0.0)
    assert s["non_road_cut_m"] == 100.0


def test_walking_extent_is_at_least_the_straight_line():
    from gridpart.outputs.scoring import walking_extent

    roads, hh, _ = synthetic_city(1500, seed=2)
    plan = gp.partition(roads, hh, strategy="seed", time_limit=5)
    walk = walking_extent(plan)
    assert list(walk.index) == plan.grids["grid_id"].tolist()
    assert walk.notna().all()
    g = plan.grids.set_index("grid_id")
    centre = g.geometry.representative_point()
    h = plan.households.dropna(subset=["grid_id"])
    for gid, w in walk.items():
        pts = h[h["grid_id"] == gid].geometry
        assert w + 1e-6 >= pts.distance(centre.loc[gid]).max()


def _small_plan(lines, grids, households, *, crs: str = CRS) -> GridPlan:
    """A plan of roads, grids (one atom each) and household points, drawn in offsets from (X0, Y0).

    ``grids`` maps grid id to a shapely geometry; ``households`` is a list of
    ``(x, y, grid_id or None, households)``.
    """
    shift = lambda g: shapely.transform(g, lambda xy: xy + [X0, Y0])  # noqa: E731
    roads = gpd.GeoDataFrame({"kind": ["street"] * len(lines)},
                             geometry=[shift(shapely.LineString(c)) for c in lines], crs=CRS)
    x, y, gid, n = (list(v) for v in zip(*households))
    hh = gpd.GeoDataFrame({"households": np.asarray(n, float), "persons": np.nan,
                           "grid_id": pd.array(gid, dtype="Int64")},
                          geometry=shapely.points(np.c_[x, y] + [X0, Y0]), crs=CRS)
    ids = list(grids)
    g = gpd.GeoDataFrame({"grid_id": ids, "community_id": ["1"] * len(ids),
                          "households": (hh.groupby("grid_id")["households"].sum()
                                         .reindex(ids, fill_value=0.0).to_numpy()),
                          "persons": np.nan, "forced": False},
                         geometry=[shift(geom) for geom in grids.values()], crs=CRS)
    atoms = g.assign(atom_id=np.arange(len(g)))
    edges = pd.DataFrame({"a": pd.Series(dtype=np.int64), "b": pd.Series(dtype=np.int64), "length_m": 0.0})
    unplaced = gpd.GeoDataFrame({"households": []}, geometry=[], crs=CRS)
    return GridPlan(grids=g.to_crs(crs), blocks=atoms.to_crs(crs), households=hh.to_crs(crs),
                    unplaced=unplaced.to_crs(crs), status=pd.DataFrame({"status": []}), edges=edges,
                    roads=roads.to_crs(crs), params={"work_crs": CRS})


def test_walking_extent_takes_the_shorter_of_two_parallel_roads():
    from gridpart.outputs.scoring import walking_extent

    # a straight road and an arc both join (0, 0) and (100, 0); the grid's centre is (100, 0)
    arc = [(0, 0), (50, 100), (100, 0)]
    plan = _small_plan([[(0, 0), (100, 0)], arc, [(100, 0), (200, 0)]],
                       {1: shapely.box(0, -5, 200, 5)}, [(0, 0, 1, 10)])
    assert walking_extent(plan).loc[1] == pytest.approx(100.0)


def test_walking_extent_walks_from_mid_segment_and_past_a_stray_lane():
    from gridpart.outputs.scoring import walking_extent

    # one road along y=0; a lane beside it that connects to nothing; the centre is (100, 0)
    plan = _small_plan([[(0, 0), (200, 0)], [(40, 20), (60, 20)]], {1: shapely.box(0, -10, 200, 10)},
                       [(50, 21, 1, 10), (150, 0, 1, 5)])
    # the household by the lane walks in along the road: 50 m, then 21 m off it
    assert walking_extent(plan).loc[1] == pytest.approx(71.0)


# --------------------------------------------------------------------------- households changed against a reference


def test_an_unchanged_plan_changes_no_household_whatever_its_labels(hand_plan):
    for reference in (hand_plan, _relabelled(hand_plan, 5), _relabelled(hand_plan, 5).households):
        card = score(hand_plan, reference=reference)
        assert card.summary["households_changed"] == 0 and card.summary["share_changed"] == 0
        assert card.per_grid["households_changed"].tolist() == [0, 0, 0, 0]


def test_without_a_reference_the_change_figures_are_nan(hand_plan):
    card = score(hand_plan)
    assert np.isnan(card.summary["households_changed"]) and np.isnan(card.summary["share_changed"])
    assert card.per_grid["households_changed"].isna().all()


def test_a_grid_carved_out_of_an_old_one_changes_its_households(hand_plan):
    # before: grid 2's 200 households were in grid 1 (then 500); grids 3 and 4 as now
    old = hand_plan.households.assign(grid_id=pd.array([11, 11, 11, 13, 14, 13], dtype="Int64"))
    card = score(hand_plan, reference=old)
    assert card.summary["households_changed"] == 200
    assert card.summary["share_changed"] == pytest.approx(200 / 1270)
    assert card.per_grid["households_changed"].tolist() == [0, 200, 0, 0]


def test_households_are_paired_by_a_maximum_weight_matching_not_by_largest_overlaps():
    # old o: 10 households to new n, 9 to new m; old p: 9 to n.  Mutual largest overlap pairs
    # o-n (10 kept, 18 changed); the best one-to-one pairing is o-m and p-n (18 kept, 10 changed).
    from gridpart.outputs.scoring import changed_households
    from gridpart.pipeline.repartition import grid_mates_kept

    w = [10, 4, 5, 9]
    old = pd.DataFrame({"grid_id": ["o", "o", "o", "p"], "households": w}, index=[5, 6, 7, 8])
    new = old.assign(grid_id=["n", "m", "m", "n"])
    changed = changed_households(new, old)
    assert changed.tolist() == [True, False, False, False]
    assert list(changed.index) == [5, 6, 7, 8] and changed.name == "changed"
    assert (~grid_mates_kept([0, 0, 0, 1], [0, 1, 1, 0], w)).tolist() == [False, True, True, True]


def test_households_placed_in_one_plan_only_changed_and_unplaced_in_both_do_not_count():
    from gridpart.outputs.scoring import changed_households

    old = pd.DataFrame({"grid_id": pd.array([1, 1, None, None, 2], dtype="Int64"), "households": [5, 5, 7, 3, 4]})
    new = old.assign(grid_id=pd.array([1, None, 1, None, 2], dtype="Int64"))
    assert changed_households(new, old).tolist() == [False, True, True, pd.NA, False]


def test_households_that_do_not_line_up_are_one_input_error_naming_every_problem(hand_plan):
    ref = hand_plan.households.rename(index={0: 100, 1: 101})
    with pytest.raises(gp.InputError) as err:
        score(hand_plan, reference=ref)
    text = str(err.value)
    assert [p.argument for p in err.value.problems] == ["reference", "reference"]
    assert "2 of the plan's 6 household rows are not in the reference" in text and "[rows 0, 1]" in text
    assert "2 of the reference's 6 household rows are not in the plan" in text and "[rows 100, 101]" in text
    with pytest.raises(gp.InputError, match=r"reference\['households'\]: 1 rows hold other household counts"):
        score(hand_plan, reference=hand_plan.households.assign(households=[150, 150, 200, 100, 500, 1]))
    with pytest.raises(gp.InputError, match=r"reference.index: 1 index labels occur more than once"):
        score(hand_plan, reference=hand_plan.households.rename(index={1: 0}))
    with pytest.raises(gp.InputError, match="reference: has no 'grid_id' column"):
        score(hand_plan, reference=hand_plan.households.drop(columns="grid_id"))
    with pytest.raises(gp.InputError, match="must be a GridPlan or its households table, got str"):
        score(hand_plan, reference="old.gpkg")


def _brute_force_changed(old, new, w) -> float:
    """Households changed under the best one-to-one pairing, by trying every pairing."""
    import itertools

    olds, news = sorted(set(old)), sorted(set(new))
    best = 0.0
    for image in itertools.permutations(news + [None] * len(olds), len(olds)):
        to = dict(zip(olds, image))
        best = max(best, sum(wi for o, n, wi in zip(old, new, w) if to[o] == n))
    return float(sum(w)) - best


labels = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 20)), min_size=1, max_size=9)


@given(rows=labels, seed=st.integers(0, 1000))
def test_households_changed_is_the_fewest_under_any_pairing_symmetric_and_label_free(rows, seed):
    from gridpart.outputs.scoring import changed_households
    from gridpart.pipeline.repartition import grid_mates_kept

    old, new, w = (list(v) for v in zip(*rows))
    a = pd.DataFrame({"grid_id": old, "households": w})
    b = pd.DataFrame({"grid_id": new, "households": w})
    moved = lambda x, y: float((x["households"] * changed_households(x, y).astype(float)).sum())  # noqa: E731
    n = moved(b, a)
    assert n == pytest.approx(_brute_force_changed(old, new, w))
    assert moved(a, b) == pytest.approx(n)
    perm = np.random.default_rng(seed).permutation(10)
    assert moved(b.assign(grid_id=perm[new]), a.assign(grid_id=perm[::-1][old])) == pytest.approx(n)
    assert n <= float(np.dot(w, ~grid_mates_kept(old, new, w))) + 1e-9


def test_a_plan_read_back_from_its_geopackage_is_its_own_reference(tmp_path):
    roads, hh, _ = synthetic_city(1500, seed=2)
    plan = gp.partition(roads, hh.set_axis(hh.index * 3 + 7), strategy="seed", time_limit=5)
    plan.to_file(tmp_path / "plan.gpkg")
    back = gp.read_plan(tmp_path / "plan.gpkg")
    assert score(plan, reference=back).summary["households_changed"] == 0
    shuffled = back.households.sample(frac=1.0, random_state=0)
    shuffled["grid_id"] = shuffled["grid_id"].where(shuffled.index != shuffled.index[0], pd.NA)
    first = back.households.loc[shuffled.index[0], "households"]
    s = score(plan, reference=shuffled).summary
    assert s["households_changed"] == first
    assert s["share_changed"] == pytest.approx(first / plan.households["households"].sum())


# --------------------------------------------------------------------------- service stations within a walk


def _stations(*xy, grid_id=None, crs: str = CRS) -> gpd.GeoDataFrame:
    data = {} if grid_id is None else {"grid_id": grid_id}
    return gpd.GeoDataFrame(data, geometry=shapely.points(np.asarray(xy, float) + [X0, Y0]), crs=CRS).to_crs(crs)


@pytest.fixture
def straight_road() -> GridPlan:
    """One 3 km road, one grid; households along it (and 10 m / 30 m off it), weights 1..5."""
    return _small_plan([[(0, 0), (3000, 0)]], {1: shapely.box(-10, -50, 3010, 50)},
                       [(100, 0, 1, 1), (1000, 10, 1, 2), (2250, 0, 1, 3), (2251, 0, 1, 4), (2000, -30, 1, 5)])


def test_walks_along_a_straight_road_by_hand(straight_road):
    from gridpart.outputs.scoring import station_walk

    walk = station_walk(straight_road, _stations((0, 0)))
    assert walk.name == "station_walk_m" and list(walk.index) == list(straight_road.households.index)
    assert walk.to_numpy() == pytest.approx([100, 1010, 2250, 2251, 2030])
    # a station in the middle of the segment, 5 m off the road: households walk to it along the road
    assert station_walk(straight_road, _stations((1500, 5))).to_numpy() == pytest.approx([1405, 515, 755, 756, 535])


def test_share_within_thirty_minutes_at_four_and_a_half_km_an_hour(straight_road):
    from gridpart.outputs.scoring import WALK_SPEED_KMH

    assert WALK_SPEED_KMH * 1000 / 60 * 30 == 2250  # the household at 2,250 m is within, 2,251 m beyond
    card = score(straight_road, stations=_stations((0, 0)))
    assert card.summary["share_within_walk"] == pytest.approx((1 + 2 + 3 + 5) / 15)
    assert card.per_grid["share_within_walk"].tolist() == pytest.approx([11 / 15])
    assert score(straight_road, stations=_stations((0, 0)), minutes=20).summary["share_within_walk"] == \
        pytest.approx(3 / 15)  # 1,500 m: the first two
    assert score(straight_road, stations=_stations((0, 0)), walk_speed_kmh=5).summary["share_within_walk"] == 1.0
    assert np.isnan(score(straight_road).summary["share_within_walk"])


def test_the_walk_follows_the_roads_not_the_straight_line():
    from gridpart.outputs.scoring import station_walk

    # two parallel roads 60 m apart, joined only at x = 1000; a parallel arc beside the first 100 m
    lines = [[(0, 0), (100, 0)], [(0, 0), (50, 100), (100, 0)], [(100, 0), (1000, 0)], [(1000, 0), (1000, 60)],
             [(0, 60), (1000, 60)], [(5000, 0), (6000, 0)]]
    plan = _small_plan(lines, {1: shapely.box(-10, -10, 1010, 70), 2: shapely.box(4990, -10, 6010, 70)},
                       [(0, 0, 1, 1), (200, 0, 1, 1), (5500, 0, 2, 1), (500, 30, None, 1)])
    walk = station_walk(plan, _stations((0, 60), grid_id=[1]))
    assert walk.iloc[0] == pytest.approx(2060) and walk.iloc[1] == pytest.approx(1860)
    assert walk.iloc[2:].isna().all()  # grid 2 has no station; the last household is unplaced
    # grid 2's road is a piece of its own: to a station on it, along it; to one on the main
    # network, straight from the household to the nearest main road (1000, 0), then along
    assert station_walk(plan, _stations((0, 60), (5100, 0), grid_id=[1, 2])).iloc[2] == pytest.approx(400)
    assert station_walk(plan, _stations((0, 60), (0, 0), grid_id=[1, 2])).iloc[2] == pytest.approx(4500 + 1000)
    assert station_walk(plan, _stations((0, 60), (300, 0), grid_id=[1, 1])).iloc[:2].tolist() == \
        pytest.approx([300, 100])  # the nearer of the grid's two stations on foot
    card = score(plan, stations=_stations((0, 60), grid_id=[1]), minutes=27)  # 2,025 m
    assert card.summary["share_within_walk"] == pytest.approx(1 / 3)  # grid 2's household has no station
    assert card.per_grid["share_within_walk"].tolist() == pytest.approx([0.5, 0.0])


def test_a_stray_lane_strands_no_one():
    from gridpart.outputs.scoring import station_walk

    # a lane 20 m off the road that connects to nothing; a household and a station beside it
    plan = _small_plan([[(0, 0), (1000, 0)], [(500, 20), (500, 60)]], {1: shapely.box(0, -50, 1000, 70)},
                       [(505, 40, 1, 1), (900, 0, 1, 1)])
    assert station_walk(plan, _stations((0, 0))).tolist() == pytest.approx([40 + 505, 900])
    # side by side: both step 5 m onto the lane and off it again
    assert station_walk(plan, _stations((505, 40))).tolist() == pytest.approx([5 + 5, 40 + 395])


def test_which_station_serves_a_grid():
    from gridpart.outputs.scoring import station_walk

    plan = _small_plan([[(0, 0), (1000, 0)], [(1000, 0), (3000, 0)]],
                       {1: shapely.box(0, -50, 1000, 50), 2: shapely.box(1000, -50, 2000, 50)},
                       [(900, 0, 1, 1), (1100, 0, 2, 1)])
    # by place: grid 1 holds the station at 100; grid 2 holds none, and 2500 is nearer to it than 100
    assert station_walk(plan, _stations((100, 0), (2500, 0))).tolist() == pytest.approx([800, 1400])
    # named: each station serves the grid its grid_id says, wherever it is
    assert station_walk(plan, _stations((100, 0), (2500, 0), grid_id=[2, 1])).tolist() == pytest.approx([1600, 1000])
    # on the shared boundary: it serves both
    assert station_walk(plan, _stations((1000, 0), (2500, 0))).tolist() == pytest.approx([100, 100])
    # two in grid 1: its household walks to the nearer; grid 2 takes the one nearest to it
    assert station_walk(plan, _stations((100, 0), (800, 0), (2500, 0))).tolist() == pytest.approx([100, 300])


def test_station_walks_are_measured_in_metres_whatever_the_crs():
    from gridpart.outputs.scoring import station_walk

    lines = [[(0, 0), (800, 0)], [(800, 0), (800, 900)]]
    hh = [(700, 20, 1, 1), (790, 600, 1, 1)]
    metric = station_walk(_small_plan(lines, {1: shapely.box(0, -50, 850, 950)}, hh), _stations((0, 0)))
    assert metric.tolist() == pytest.approx([720, 1410])
    lonlat = _small_plan(lines, {1: shapely.box(0, -50, 850, 950)}, hh, crs="EPSG:4326")
    assert station_walk(lonlat, _stations((0, 0))).tolist() == pytest.approx([720, 1410], abs=1e-3)
    assert station_walk(lonlat, _stations((0, 0), crs="EPSG:3857")).tolist() == pytest.approx([720, 1410], abs=1e-3)


def test_bad_stations_and_paces_are_input_errors(straight_road, hand_plan):
    bad = pd.concat([_stations((0, 0), (10, 0), grid_id=[1, 9]),
                     gpd.GeoDataFrame({"grid_id": [None]}, geometry=[shapely.box(X0, Y0, X0 + 1, Y0 + 1)], crs=CRS)],
                    ignore_index=True)
    with pytest.raises(gp.InputError) as err:
        score(straight_road, stations=bad)
    assert [(p.argument, p.rows) for p in err.value.problems] == [
        ("stations.geometry", (2,)), ("stations['grid_id']", (2,)), ("stations['grid_id']", (1,))]
    text = str(err.value)
    assert "must be Points" in text and "is missing on some rows" in text
    assert "names grids the plan does not have ([9])" in text
    with pytest.raises(gp.CRSError, match="stations: has no CRS"):
        score(straight_road, stations=_stations((0, 0)).set_crs(None, allow_override=True))
    with pytest.raises(gp.InputError, match="stations: has no rows"):
        score(straight_road, stations=_stations((0, 0)).iloc[:0])
    with pytest.raises(gp.InputError) as err:
        score(straight_road, stations=_stations((0, 0)), walk_speed_kmh=0, minutes=float("nan"))
    assert [p.argument for p in err.value.problems] == ["walk_speed_kmh", "minutes"]
    with pytest.raises(gp.InputError, match="plan.roads: holds no road lines"):
        score(hand_plan, stations=_stations((0, 0)))


def test_hand_plan_share_within_walk_by_grid(hand_plan):
    import dataclasses

    road = gpd.GeoDataFrame({"kind": ["street"]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 600, Y0)])], crs=CRS)
    plan = dataclasses.replace(hand_plan, roads=road)
    # one station at the west end (in grid 1, nearest to every other grid); walks 100, 200, ... 600 m
    card = score(plan, stations=_stations((0, 0)), walk_speed_kmh=6, minutes=3.5)  # 350 m
    assert card.summary["share_within_walk"] == pytest.approx(500 / 1270)
    assert card.per_grid["share_within_walk"].tolist() == pytest.approx([1, 1, 0, 0])
    card = score(plan, stations=_stations((0, 0)), walk_speed_kmh=6, minutes=4)  # 400 m: the 4th household too
    assert card.per_grid["share_within_walk"].tolist() == pytest.approx([1, 1, 100 / 270, 0])


@pytest.fixture(scope="module")
def city_plan() -> GridPlan:
    roads, hh, _ = synthetic_city(1500, seed=2)
    return gp.partition(roads, hh, strategy="seed", time_limit=5)


points = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=5)


@given(where=points, a=st.floats(1, 40), b=st.floats(1, 40), named=st.booleans())
def test_share_within_walk_is_a_share_monotone_in_minutes(city_plan, where, a, b, named):
    from gridpart.outputs.scoring import station_walk

    x0, y0, x1, y1 = city_plan.grids.to_crs(CRS).total_bounds
    xy = np.array(where) * [x1 - x0, y1 - y0] + [x0, y0]
    stations = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=CRS)
    if named:
        stations["grid_id"] = city_plan.grids["grid_id"].to_numpy()[np.arange(len(xy)) % len(city_plan.grids)]
    lo, hi = sorted((a, b))
    s_lo = score(city_plan, stations=stations, minutes=lo).summary["share_within_walk"]
    s_hi = score(city_plan, stations=stations, minutes=hi).summary["share_within_walk"]
    assert 0 <= s_lo <= s_hi <= 1
    walk = station_walk(city_plan, stations)
    pruned = station_walk(city_plan, stations, max_m=75 * lo)
    pd.testing.assert_series_equal(pruned, walk.where(walk.isna() | (walk <= 75 * lo + 1e-6), np.inf))
    # no walk is shorter than the straight line to the nearest station
    hh = city_plan.households.to_crs(CRS)
    direct = np.min([hh.distance(p).to_numpy() for p in stations.geometry], axis=0)
    ok = walk.notna().to_numpy()
    assert (walk.to_numpy()[ok] + 1e-6 >= direct[ok]).all()
