"""Tests for gridpart.rules.kinds: atom parcels, keeping units and compounds apart, grid kinds."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import gridpart as gp
from gridpart.errors import InputError
from gridpart.model.parcels import (
    COMPOUND_REASON,
    DEDICATED_REASON,
    atom_parcels,
    fold_empty_units,
    labels_in_band,
    separation_groups,
    solver_edges,
    unmix_compounds,
)
from gridpart.model.problem import Band
from gridpart.rules.kinds import GRID_KINDS, grid_kinds, grid_places
from gridpart.testing import assert_valid_plan, grid_subproblem, labels_contiguous

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0
BAND = Band(240, 360, 300)


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def cells(n=4, size=100.0) -> gpd.GeoDataFrame:
    geoms = [box(i * size, j * size, (i + 1) * size, (j + 1) * size) for j in range(n) for i in range(n)]
    return gpd.GeoDataFrame({"atom_id": range(n * n)}, geometry=geoms, crs=CRS)


# ------------------------------------------------------------------------------ atom parcels


def test_atoms_take_the_parcel_covering_half_of_them():
    atoms = cells(2)
    parcels = gpd.GeoDataFrame({"kind": ["compound"], "name": ["静淑苑"]},
                               geometry=[box(0, 0, 160, 100)], crs=CRS)  # all of cell 0, 60 % of cell 1
    out = atom_parcels(atoms, parcels)
    assert out["parcel_kind"].tolist() == ["compound", "compound", None, None]
    assert out["parcel_name"].tolist()[:2] == ["静淑苑", "静淑苑"]
    assert atom_parcels(atoms, parcels, min_share=0.7)["parcel_kind"].tolist() == ["compound", None, None, None]
    assert (atom_parcels(atoms, None)["parcel_id"] == -1).all()


def test_nested_parcels_smallest_wins():
    atoms = cells(2)  # cells 0, 1 (south row), 2, 3 (north row)
    parcels = gpd.GeoDataFrame(
        {"kind": ["compound", "unit", "unit", "compound"],
         "name": ["家属区", "中国农业大学东校区", "附属小学", "静淑苑"]},
        geometry=[box(0, 0, 100, 100), box(-10, -10, 210, 210),
                  box(100, 0, 200, 100), box(0, 100, 200, 210)],
        crs=CRS)
    out = atom_parcels(atoms, parcels)
    # the staff compound and the school inside the campus are themselves; the north row is
    # the compound drawn over the campus's north half
    assert out["parcel_name"].tolist() == ["家属区", "附属小学", "静淑苑", "静淑苑"]
    assert out["parcel_kind"].tolist() == ["compound", "unit", "compound", "compound"]
    # the same polygon drawn as both: the unit wins
    twin = gpd.GeoDataFrame({"kind": ["compound", "unit"], "name": ["a", "b"]},
                            geometry=[box(0, 0, 100, 100)] * 2, crs=CRS)
    assert atom_parcels(atoms, twin)["parcel_kind"].tolist() == ["unit", None, None, None]


@given(st.randoms(use_true_random=False))
@settings(max_examples=10)
def test_atom_parcels_do_not_depend_on_parcel_order(rnd):
    atoms = cells(3)
    geoms = [box(0, 0, 150, 150), box(100, 100, 300, 300), box(0, 200, 100, 300), box(200, 0, 300, 100)]
    parcels = gpd.GeoDataFrame({"kind": ["compound", "unit", "unit", "compound"], "name": list("abcd")},
                               geometry=geoms, crs=CRS)
    perm = list(range(4))
    rnd.shuffle(perm)
    a = atom_parcels(atoms, parcels)
    b = atom_parcels(atoms, parcels.iloc[perm])
    assert a.equals(b)


def test_bad_parcels_are_named():
    atoms = cells(2)
    bad = gpd.GeoDataFrame({"kind": ["house"]}, geometry=[box(0, 0, 10, 10)], crs=CRS)
    with pytest.raises(InputError, match=r"parcels\['kind'\]"):
        atom_parcels(atoms, bad)
    with pytest.raises(InputError, match="parcels.crs"):
        atom_parcels(atoms, bad.assign(kind="unit").to_crs(4326))
    with pytest.raises(InputError, match="min_share"):
        atom_parcels(atoms, None, min_share=0)


# ------------------------------------------------------------------------------ separation


@pytest.mark.parametrize("households, apart", [
    ([100, 100, 100], True),    # 300: one grid in the band
    ([100, 100], False),        # 200: below the band, must share
    ([200, 200, 0], False),     # 400: neither one grid (> 360) nor two (2 × 240 > 400)
    ([300, 300, 100], True),    # 700: two grids of 350
    ([180, 180, 0], True),      # 360: the upper limit itself
])
def test_compounds_kept_apart_only_when_the_band_allows(households, apart):
    n = len(households)
    atoms = pd.DataFrame({"community_id": "1", "households": households + [50],
                          "parcel_id": [3] * n + [-1], "parcel_kind": ["compound"] * n + [None]})
    group = separation_groups(atoms, BAND)
    assert (group[:n] == 3).all() == apart and (group[:n] == -1).all() == (not apart)
    assert group[n] == -1


def test_units_kept_apart_with_own_only():
    atoms = pd.DataFrame({"community_id": "1", "households": [0, 10, 50],
                          "parcel_id": [1, 1, -1], "parcel_kind": ["unit", "unit", None]})
    assert separation_groups(atoms, BAND, units="own").tolist() == [1, 1, -1]
    assert separation_groups(atoms, BAND, units="own-all").tolist() == [1, 1, -1]
    assert separation_groups(atoms, BAND, units="merge").tolist() == [-1, -1, -1]
    with pytest.raises(InputError, match="units"):
        separation_groups(atoms, BAND, units="mine")


def test_solver_edges_cut_groups_apart():
    e = pd.DataFrame({"a": [0, 0, 1, 2], "b": [1, 2, 3, 3]})
    kept = solver_edges(e, np.array([5, 5, -1, -1]), np.arange(4))
    assert kept[["a", "b"]].values.tolist() == [[0, 1], [2, 3]]


def test_labels_in_band_counts_forced_grids_as_fine():
    sub = grid_subproblem(1, 3, k=2, households=np.array([500, 150, 150]), target=300)
    assert labels_in_band(sub, np.array([0, 1, 1]))
    assert not labels_in_band(sub, np.array([0, 0, 1]))


# ------------------------------------------------------------------------------ grid kinds


def test_grid_kind_by_households_then_area():
    atoms = pd.DataFrame({
        "grid_id": [1, 1, 2, 2, 3, 3, 4],
        "households": [200, 100, 0, 0, 150, 150, 0],
        "area_m2": [1, 1, 10, 30, 1, 1, 5],
        "parcel_kind": ["compound", "unit", "unit", None, "unit", "compound", None],
    })
    kinds = grid_kinds(atoms)
    assert kinds.to_dict() == {1: "compound", 2: "street", 3: "unit", 4: "street"}


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 400), st.floats(1, 1e4),
                          st.sampled_from(["unit", "compound", None])), min_size=1, max_size=30))
def test_every_grid_has_exactly_one_kind(rows):
    atoms = pd.DataFrame(rows, columns=["grid_id", "households", "area_m2", "parcel_kind"])
    kinds = grid_kinds(atoms)
    assert sorted(kinds.index) == sorted(atoms["grid_id"].unique())
    assert kinds.isin(GRID_KINDS).all()
    for gid, kind in kinds.items():  # the kind holds the most households (or area when there are none)
        d = atoms[atoms["grid_id"] == gid].assign(k=lambda x: x["parcel_kind"].fillna("street"))
        col = "households" if d["households"].sum() > 0 else "area_m2"
        by = d.groupby("k")[col].sum()
        assert by.get(kind, 0) == by.max()


def test_grid_places_lists_named_parcels_by_overlap():
    g = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS)
    p = gpd.GeoDataFrame({"kind": ["compound", "unit", "compound", "compound"],
                          "name": ["静淑苑", "附属小学", None, "学士居"]},
                         geometry=[box(0, 0, 180, 100), box(10, 10, 30, 30), box(0, 0, 200, 100),
                                   box(190, 0, 230, 100)], crs=CRS)
    out = grid_places(g, p)
    # 学士居 lies a quarter inside the plan, all of that in grid 2: listed by its part inside
    assert out.tolist() == ["静淑苑、附属小学", "静淑苑、学士居"]  # largest overlap first
    assert grid_places(g, None).tolist() == ["", ""]


# ------------------------------------------------------------------------------ end to end


def lattice_city(n=6, size=100.0, households=None):
    lines = [shapely.LineString([(X0 + i * size, Y0 - 50), (X0 + i * size, Y0 + n * size + 50)]) for i in range(n + 1)]
    lines += [shapely.LineString([(X0 - 50, Y0 + j * size), (X0 + n * size + 50, Y0 + j * size)]) for j in range(n + 1)]
    names = [f"经{i}路" for i in range(n + 1)] + [f"纬{j}街" for j in range(n + 1)]
    roads = gpd.GeoDataFrame({"kind": "street", "name": names}, geometry=lines, crs=CRS)
    pts = [shapely.Point(X0 + (i + 0.5) * size, Y0 + (j + 0.5) * size) for j in range(n) for i in range(n)]
    hh = np.full(n * n, 100) if households is None else np.asarray(households)
    households = gpd.GeoDataFrame({"households": hh}, geometry=pts, crs=CRS)
    return roads, households, box(0, 0, n * size, n * size)


def test_partition_keeps_units_and_fitting_compounds_apart():
    roads, hh, area = lattice_city()
    parcels = gpd.GeoDataFrame(
        {"kind": ["unit", "compound", "unit"], "name": ["中国农业大学", "静淑苑", "派出所"]},
        geometry=[box(0, 0, 200, 200), box(400, 400, 600, 500), box(500, 0, 600, 100)], crs=CRS)
    plan = gp.partition(roads, hh, parcels=parcels, study_area=area, target=300, time_limit=2, strategy="lns")
    assert_valid_plan(plan, hh)
    atoms = plan.blocks
    g = plan.grids.set_index("grid_id")
    assert g["kind"].isin(GRID_KINDS).all()
    for name in ("中国农业大学", "派出所"):  # dedicated grids: only the unit's atoms, kind unit
        grids = set(atoms.loc[atoms["parcel_name"] == name, "grid_id"])
        members = atoms[atoms["grid_id"].isin(grids)]
        assert (members["parcel_name"] == name).all()
        assert (g.loc[sorted(grids), "kind"] == "unit").all()
    # the campus (400 households) cannot fill grids in the band: one dedicated grid, forced out
    campus = atoms.loc[atoms["parcel_name"] == "中国农业大学", "grid_id"].unique()
    assert len(campus) == 1 and g.loc[campus[0], "forced_reason"] == DEDICATED_REASON
    # the compound (2 cells, 200 households) is below the band: it shares a grid
    jsy = atoms.loc[atoms["parcel_name"] == "静淑苑", "grid_id"].unique()
    assert len(jsy) == 1
    assert "静淑苑" in g.loc[jsy[0], "places"]
    assert (g.loc[atoms["grid_id"].unique(), "code"].str.len() == 14).all()


def test_compound_that_fits_the_band_is_one_grid_of_its_own():
    hh = np.full(36, 100)
    hh[[26, 27, 28]] = [100, 120, 80]  # cells (2..4, 4): 300 households
    roads, households, area = lattice_city(households=hh)
    parcels = gpd.GeoDataFrame({"kind": ["compound"], "name": ["学士居"]},
                               geometry=[box(200, 400, 500, 500)], crs=CRS)
    plan = gp.partition(roads, households, parcels=parcels, study_area=area, target=300, time_limit=2,
                        strategy="lns")
    atoms = plan.blocks
    grid = atoms.loc[atoms["parcel_name"] == "学士居", "grid_id"].unique()
    assert len(grid) == 1
    assert set(atoms.loc[atoms["grid_id"] == grid[0], "parcel_name"]) == {"学士居"}
    row = plan.grids.set_index("grid_id").loc[grid[0]]
    assert row["kind"] == "compound" and row["households"] == 300


def test_units_merge_lets_units_share_grids():
    roads, hh, area = lattice_city()
    parcels = gpd.GeoDataFrame({"kind": ["unit"], "name": ["派出所"]}, geometry=[box(500, 0, 600, 100)], crs=CRS)
    own = gp.partition(roads, hh, parcels=parcels, study_area=area, target=300, time_limit=2, strategy="lns")
    merged = gp.partition(roads, hh, parcels=parcels, study_area=area, target=300, time_limit=2,
                          strategy="lns", units="merge")
    for plan, alone in ((own, True), (merged, False)):
        atoms = plan.blocks
        gid = atoms.loc[atoms["parcel_name"] == "派出所", "grid_id"].iloc[0]
        assert ((atoms["grid_id"] == gid).sum() == 1) == alone
    assert own.grids["forced"].sum() == 1 and merged.grids["forced"].sum() == 0


def test_unit_that_holds_nobody_folds_into_a_neighbour_grid():
    # issue 18 item 7: an empty unit parcel (a kiosk-sized amenity) got a dedicated grid of 0 households
    hh = np.full(36, 100)
    hh[5] = 0  # cell (5, 0): the 派出所 parcel, nobody lives there
    roads, households, area = lattice_city(households=hh)
    parcels = gpd.GeoDataFrame({"kind": ["unit"], "name": ["派出所"]}, geometry=[box(500, 0, 600, 100)], crs=CRS)
    run = {"parcels": parcels, "study_area": area, "target": 300, "time_limit": 2, "strategy": "lns"}
    plan = gp.partition(roads, households, **run)
    assert_valid_plan(plan, households)
    assert (plan.grids["households"] > 0).all()
    atoms = plan.blocks
    gid = atoms.loc[atoms["parcel_name"] == "派出所", "grid_id"].iloc[0]
    assert (atoms["grid_id"] == gid).sum() > 1  # shares a grid with its neighbours
    # the 专属网格 rule without exception: units="own-all" keeps today's dedicated grid
    everyone = gp.partition(roads, households, units="own-all", **run)
    g = everyone.grids.set_index("grid_id")
    gid = everyone.blocks.loc[everyone.blocks["parcel_name"] == "派出所", "grid_id"].iloc[0]
    assert g.loc[gid, "households"] == 0 and g.loc[gid, "forced_reason"] == DEDICATED_REASON
    assert (everyone.blocks["grid_id"] == gid).sum() == 1


def test_empty_unit_inside_a_campus_joins_the_campus():
    hh = np.full(36, 100)
    hh[7] = 0  # cell (1, 1), a kiosk inside the campus (cells 0..2 × 0..2)
    roads, households, area = lattice_city(households=hh)
    parcels = gpd.GeoDataFrame({"kind": ["unit", "unit"], "name": ["中国农业大学", "小卖部"]},
                               geometry=[box(0, 0, 300, 300), box(100, 100, 200, 200)], crs=CRS)
    plan = gp.partition(roads, households, parcels=parcels, study_area=area, target=300, time_limit=2,
                        strategy="lns")
    assert_valid_plan(plan, households)
    assert (plan.grids["households"] > 0).all()
    atoms = plan.blocks
    kiosk = atoms.loc[atoms["parcel_name"] == "小卖部", "grid_id"].iloc[0]
    assert set(atoms.loc[atoms["grid_id"] == kiosk, "parcel_name"]) == {"小卖部", "中国农业大学"}


def test_fold_empty_units_keeps_a_piece_with_nowhere_to_go():
    # unit 7 is empty and enclosed by a kept-apart compound: no unit to join, no open land, it keeps its
    # grid; unit 8 is empty next to an open block: it opens; unit 9 houses 120: it keeps its grid
    atoms = pd.DataFrame({"community_id": "1", "households": [300, 0, 0, 120, 50],
                          "parcel_kind": ["compound", "unit", "unit", "unit", None]})
    e = pd.DataFrame({"a": [0, 2, 3], "b": [1, 4, 4], "length_m": [40.0, 10.0, 10.0]})
    groups = np.array([4, 7, 8, 9, -1])
    assert fold_empty_units(atoms, groups, e).tolist() == [4, 7, -1, 9, -1]
    # without edges: per unit and community, every empty one opens
    assert fold_empty_units(atoms, groups).tolist() == [4, -1, -1, 9, -1]
    # persons count as someone living there
    people = atoms.assign(persons=[900.0, np.nan, 3.0, 300.0, 100.0])
    assert fold_empty_units(people, groups, e).tolist() == [4, 7, 8, 9, -1]


def test_big_compound_without_lanes_is_split_between_buildings_and_kept_apart():
    # one 200 × 200 m block (no internal lanes) holding a compound of six buildings, 600 households
    roads, hh, area = lattice_city()
    roads = roads[~roads["name"].isin(["经3路", "纬3街"])]  # cells (2..3, 2..3) become one block
    pts = [shapely.Point(X0 + x, Y0 + y) for x in (230, 300, 370) for y in (240, 360)]
    inner = gpd.GeoDataFrame({"households": [100] * 6}, geometry=pts, crs=CRS)
    outer = hh[~hh.geometry.within(box(200, 200, 400, 400))]
    households = pd.concat([outer, inner], ignore_index=True)
    parcels = gpd.GeoDataFrame({"kind": ["compound"], "name": ["富润家园"]}, geometry=[box(200, 200, 400, 400)],
                               crs=CRS)
    plan = gp.partition(roads, households, parcels=parcels, study_area=area, target=300, time_limit=2,
                        strategy="lns")
    atoms = plan.blocks
    mine = atoms[atoms["parcel_name"] == "富润家园"]
    assert mine["is_cell"].all() and mine["households"].sum() == 600
    grids = mine["grid_id"].unique()
    assert len(grids) == 2
    assert set(atoms.loc[atoms["grid_id"].isin(grids), "parcel_name"]) == {"富润家园"}  # never mixed
    assert plan.grids.set_index("grid_id").loc[grids, "households"].tolist() == [300, 300]
    assert plan.score().summary["non_road_cut_m"] > 0  # cut between its buildings


def test_compounds_own_keeps_an_awkward_compound_apart_and_says_why():
    # a compound of four cells, 400 households: neither one grid (> 360) nor two (< 2 × 240)
    roads, hh, area = lattice_city()
    parcels = gpd.GeoDataFrame({"kind": ["compound"], "name": ["学院派"]}, geometry=[box(200, 200, 400, 400)],
                               crs=CRS)
    kw = dict(parcels=parcels, study_area=area, target=300, time_limit=2, strategy="lns")
    own = gp.partition(roads, hh, compounds="own", **kw)
    assert_valid_plan(own, hh)
    atoms, g = own.blocks, own.grids.set_index("grid_id")
    grids = atoms.loc[atoms["parcel_name"] == "学院派", "grid_id"].unique()
    assert set(atoms.loc[atoms["grid_id"].isin(grids), "parcel_name"]) == {"学院派"}  # never mixed
    assert (g.loc[grids, "kind"] == "compound").all()
    assert (g.loc[grids, "forced_reason"] == COMPOUND_REASON).all()
    assert own.params["compounds"] == "own"
    # by default the band decides: the compound shares grids with its neighbours
    share = gp.partition(roads, hh, **kw)
    atoms = share.blocks
    grids = atoms.loc[atoms["parcel_name"] == "学院派", "grid_id"].unique()
    assert atoms.loc[atoms["grid_id"].isin(grids), "parcel_name"].isna().any()
    assert not share.grids["forced"].any()


def test_compounds_must_be_share_or_own():
    roads, hh, area = lattice_city()
    with pytest.raises(InputError, match="compounds"):
        gp.partition(roads, hh, study_area=area, compounds="keep")


@st.composite
def mixed_lattices(draw):
    rows, cols = draw(st.integers(2, 6)), draw(st.integers(2, 6))
    n = rows * cols
    hh = np.array(draw(st.lists(st.integers(0, 160), min_size=n, max_size=n)))
    kind = np.array(draw(st.lists(st.sampled_from(["compound", "street", "unit"]), min_size=n, max_size=n)))
    parcel = np.where(kind == "street", -1, np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))))
    # a contiguous plan near the band: a snake through the lattice cut every ~300 households
    snake = np.concatenate([np.arange(r * cols, (r + 1) * cols)[:: 1 if r % 2 == 0 else -1] for r in range(rows)])
    cut = draw(st.integers(250, 350))
    labels = np.empty(n, dtype=np.int64)
    labels[snake] = np.cumsum(hh[snake]) // cut
    labels = np.unique(labels, return_inverse=True)[1]
    sub = grid_subproblem(rows, cols, k=int(labels.max()) + 1, households=hh, target=300)
    if draw(st.booleans()):  # a hard persons band as well
        persons = np.array(draw(st.lists(st.integers(0, 500), min_size=n, max_size=n)), dtype=float)
        band = dataclasses.replace(sub.band, persons_lo=800.0, persons_hi=1200.0, persons_centre=1000.0,
                                   persons_hard=True)
        sub = dataclasses.replace(sub, persons=persons, band=band)
    return sub, labels, kind, parcel


def _dominant_is_compound(sub, labels, kind):
    code = np.select([kind == "unit", kind == "compound"], [0, 1], 2)
    by = np.zeros((labels.max() + 1, 3))
    np.add.at(by, (labels, code), sub.weight)
    return np.argmax(by, axis=1) == 1


@given(mixed_lattices())
@settings(max_examples=150, deadline=None)
def test_unmixing_keeps_grids_contiguous_and_never_leaves_the_band(case):
    sub, labels, kind, parcel = case
    out = unmix_compounds(sub, labels, kind, parcel)
    lo, hi = np.ceil(sub.band.lo - 1e-9), np.floor(sub.band.hi + 1e-9)

    def excess(lab):
        size = np.bincount(lab, weights=sub.weight, minlength=labels.max() + 1)
        out = np.maximum(0, np.maximum(lo - size, size - hi))
        if sub.band.persons_hard:
            p = np.bincount(lab, weights=sub.persons, minlength=labels.max() + 1)
            out = out + np.maximum(0, np.maximum(sub.band.persons_lo - p, p - sub.band.persons_hi))
        return out

    assert len(out) == sub.n and set(out.tolist()) == set(labels.tolist())  # no grid emptied or made
    assert (excess(out) <= excess(labels)).all()
    assert labels_contiguous(sub.n, sub.edges, out).all()
    # compound households outside compound grids never grow
    before = sub.weight[(kind == "compound") & ~_dominant_is_compound(sub, labels, kind)[labels]].sum()
    after = sub.weight[(kind == "compound") & ~_dominant_is_compound(sub, out, kind)[out]].sum()
    assert after <= before
    assert np.array_equal(unmix_compounds(sub, labels, kind, parcel), out)  # deterministic
