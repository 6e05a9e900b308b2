"""gp.repartition: minimal-change plans after a merger or a moved boundary, and the change table."""

from __future__ import annotations

import copy
import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import gridpart as gp
from gridpart.datasets.synthetic import synthetic_city
from gridpart.errors import InputError
from gridpart.model.problem import Band
from gridpart.pipeline.repartition import FATES, _out_of_band, _solve_window, grid_mates_kept, recode_grids
from gridpart.rules.codes import DEFAULT_PREFIX
from gridpart.testing import assert_valid_plan, grid_subproblem

TARGET = 300
NEW_CODE = "110108001099"


def _with_codes(plan, comm):
    """Old grids carrying DESIGN §4 codes (community code + 3-digit sequence, to see the width kept)."""
    g = plan.grids.copy()
    cc = comm.set_index("community_id")["code"].reindex(g["community_id"]).to_numpy()
    seq = g.groupby("community_id").cumcount().to_numpy() + 1
    g["code"] = [f"{c}{s:03d}" for c, s in zip(cc, seq)]
    return g


def _merge(comm, ids, new_id):
    merged = comm[comm["community_id"].isin(ids)].dissolve()
    merged = merged.assign(community_id=new_id, name="合并社区", code=NEW_CODE)
    return pd.concat([comm[~comm["community_id"].isin(ids)], merged], ignore_index=True)


@pytest.fixture(scope="module")
def merger():
    """Four communities; C4 (184 households, below the band) merges into C3."""
    roads, hh, comm = synthetic_city(3000, seed=4, communities=4)
    old = gp.partition(roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    old_grids = _with_codes(old, comm)
    new = _merge(comm, ["C3", "C4"], "C34")
    plan = gp.repartition(old_grids, roads, hh, communities=new, target=TARGET, time_limit=10, seed=0)
    return roads, hh, comm, new, old, old_grids, plan


@pytest.fixture(scope="module")
def moved():
    """A strip of C1's blocks along C2 changes to C2."""
    roads, hh, comm = synthetic_city(4000, seed=3, communities=4)
    old = gp.partition(roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    c2 = comm.set_index("community_id").geometry["C2"]
    b = old.blocks
    strip = b[(b["community_id"] == "C1") & b.intersects(c2.buffer(1.0))]
    su = shapely.union_all(strip.geometry.values)
    new = comm.set_index("community_id")
    new.loc["C1", "geometry"] = shapely.difference(new.geometry["C1"], su)
    new.loc["C2", "geometry"] = shapely.union(new.geometry["C2"], su)
    new = new.reset_index()
    plan = gp.repartition(old, roads, hh, communities=new, target=TARGET, time_limit=10, seed=0)
    return roads, hh, comm, new, old, strip, plan


def n_out(plan) -> int:
    """Grids out of the band that are not forced out."""
    pg = plan.score().per_grid
    return int((~pg["in_band"] & ~pg["forced"]).sum())


def _mates_share(plan, mask):
    ch = plan.changes.households
    w = ch["households"].to_numpy()
    return float(w[mask & ch["keeps_mates"].to_numpy()].sum() / w[mask].sum())


def _adds_up(changes, hh):
    s = changes.summary
    total = float(hh["households"].sum())
    assert s["households"] == total
    assert s["kept"] + s["moved"] + s["new"] + s["unplaced"] == total
    g = changes.grids
    assert np.allclose(g["households_kept"] + g["households_moved"], g["households"])
    assert g["households"].sum() == s["kept"] + s["moved"]
    assert g["households_kept"].sum() == s["kept"]
    # per household and per grid tell the same story
    assert g["households_moved"].sum() == changes.households.query("change == 'moved'")["households"].sum()
    assert set(g["fate"]) <= set(FATES)
    assert s[[f"grids_{f.replace('-', '_')}" for f in FATES]].sum() == s["grids_old"]
    assert changes.households.index.equals(hh.index)


def test_merger_keeps_untouched_and_most_of_merged(merger):
    roads, hh, comm, new, old, old_grids, plan = merger
    assert_valid_plan(plan, hh)
    card = plan.score().summary
    assert card["share_in_band"] >= 0.9
    comm_of = plan.households["grid_id"].map(plan.grids.set_index("grid_id")["community_id"])
    untouched = comm_of.isin(["C1", "C2"]).to_numpy()
    merged = (comm_of == "C34").to_numpy()
    assert _mates_share(plan, untouched) >= 0.99
    assert _mates_share(plan, merged) >= 0.80
    # the small community's grid is out of the band no more
    assert (plan.grids.loc[plan.grids["community_id"] == "C34", "households"] >= 240).all()
    _adds_up(plan.changes, hh)


def test_merger_grids_untouched_exactly_and_recoded(merger):
    roads, hh, comm, new, old, old_grids, plan = merger
    og = old_grids.set_index("grid_id")
    ng = plan.grids.set_index("grid_id")
    for gid in og.index[og["community_id"].isin(["C1", "C2"])]:
        assert ng.at[gid, "code"] == og.at[gid, "code"]
        assert ng.at[gid, "households"] == og.at[gid, "households"]
        assert shapely.equals_exact(ng.at[gid, "geometry"], og.at[gid, "geometry"], tolerance=1e-6)
    # the merged community has a new code: all its grids re-coded under it, unique
    codes = ng.loc[ng["community_id"] == "C34", "code"]
    assert codes.str.startswith(NEW_CODE).all() and codes.is_unique
    assert (codes.str.len() == len(NEW_CODE) + 3).all()  # the old codes' width is kept
    assert ng["code"].is_unique
    fates = plan.changes.grids.set_index("old_grid_id")["fate"]
    assert (fates[og.index[og["community_id"].isin(["C1", "C2"])]] == "kept").all()
    assert set(fates[og.index[og["community_id"].isin(["C3", "C4"])]]) <= {"re-coded", "resized", "merged", "split"}
    assert plan.status.set_index("community_id").loc[["C1", "C2"], "windows"].eq(0).all()


def test_moved_boundary(moved):
    roads, hh, comm, new, old, strip, plan = moved
    assert_valid_plan(plan, hh)
    ch = plan.changes
    _adds_up(ch, hh)
    # every household of the strip now sits in a grid of C2
    in_strip = hh.index[old.households["atom_id"].isin(strip["atom_id"]).to_numpy()]
    comm_of = plan.households["grid_id"].map(plan.grids.set_index("grid_id")["community_id"])
    assert (comm_of.loc[in_strip] == "C2").all()
    # C3 and C4 are not touched at all
    og = old.grids.set_index("grid_id")
    ng = plan.grids.set_index("grid_id")
    far = og.index[og["community_id"].isin(["C3", "C4"])]
    assert ng.loc[far, "households"].equals(og.loc[far, "households"])
    assert (ch.grids.set_index("old_grid_id").loc[far, "fate"] == "kept").all()
    untouched = comm_of.isin(["C3", "C4"]).to_numpy()
    assert _mates_share(plan, untouched) == 1.0
    assert ch.summary["grids_touched"] >= 2
    # no grid is out of the band that a fresh partition gets into it
    fresh = gp.partition(roads, hh, communities=new, target=TARGET, time_limit=10, seed=0)
    assert n_out(plan) <= n_out(fresh)
    assert plan.score().summary["share_in_band"] >= 0.9
    # and it keeps more households with their grid-mates than a fresh partition
    old_id = ch.households["old_grid_id"]
    fresh_kept = grid_mates_kept(old_id, fresh.households["grid_id"], hh["households"]).mean()
    assert ch.summary["share_mates_kept"] > fresh_kept


def test_no_change_keeps_everything():
    roads, hh, comm = synthetic_city(1500, seed=2, communities=2)
    old = gp.partition(roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    plan = gp.repartition(old, roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    assert plan.changes.summary["moved"] == 0
    assert set(plan.changes.grids["fate"]) == {"kept"}
    cols = ["grid_id", "community_id", "households"]
    pd.testing.assert_frame_equal(plan.grids[cols], old.grids[cols])


def test_locked_grid_never_changes(merger):
    roads, hh, comm, new, old, old_grids, plan = merger
    moved_from = plan.changes.grids.query("households_moved > 0")["old_grid_id"].tolist()
    assert moved_from, "the merger moved nobody: nothing to lock against"
    lock = moved_from[0]
    again = gp.repartition(old_grids, roads, hh, communities=new, target=TARGET, time_limit=10, seed=0,
                           locked=[lock])
    assert_valid_plan(again, hh)
    before = old_grids.set_index("grid_id").loc[lock]
    after = again.grids.set_index("grid_id").loc[lock]
    assert after["households"] == before["households"]
    assert shapely.equals_exact(after.geometry, before.geometry, tolerance=1e-6)
    assert again.changes.grids.set_index("old_grid_id").at[lock, "households_moved"] == 0


def test_locked_grid_cut_by_new_boundary_is_an_error(moved):
    roads, hh, comm, new, old, strip, plan = moved
    cut = sorted(set(strip["grid_id"]) & set(plan.changes.grids.query("fate != 'merged'")["old_grid_id"]))
    cut = [g for g in cut if (old.blocks.loc[old.blocks["grid_id"] == g, "atom_id"].isin(strip["atom_id"])).mean() < 1]
    with pytest.raises(InputError, match="locked") as err:
        gp.repartition(old, roads, hh, communities=new, target=TARGET, time_limit=10, locked=cut[:1])
    assert str(cut[0]) in str(err.value)


def test_bad_arguments_named_at_once(merger):
    roads, hh, comm, new, old, old_grids, plan = merger
    with pytest.raises(InputError) as err:
        gp.repartition(old_grids.drop(columns="grid_id"), roads, hh, communities=None, locked=["x"])
    text = str(err.value)
    assert "old_grids" in text and "communities" in text


def test_from_file_and_deterministic(merger, tmp_path):
    roads, hh, comm, new, old, old_grids, plan = merger
    path = tmp_path / "old.gpkg"
    old.to_file(path)
    again = gp.repartition(path, roads, hh, communities=new, target=TARGET, time_limit=10, seed=0)
    # the old plan's bands are read from the file: households 240-360, no persons band
    assert again.params["old_band"] == [240.0, 360.0]
    assert again.params["old_persons_band"] == [None, None, False]
    cols = ["grid_id", "community_id", "households"]
    pd.testing.assert_frame_equal(again.grids[cols], plan.grids[cols])
    pd.testing.assert_series_equal(again.households["grid_id"], plan.households["grid_id"])
    # the change table goes to the plan file and comes back
    out = tmp_path / "new.gpkg"
    again.to_file(out)
    back = gp.read_plan(out)
    pd.testing.assert_frame_equal(back.changes.households, again.changes.households, check_dtype=False)
    assert back.changes.summary["moved"] == again.changes.summary["moved"]
    assert list(back.changes.grids["fate"]) == list(again.changes.grids["fate"])


def test_rebalance_still_valid_and_locked_kept(merger):
    roads, hh, comm, new, old, old_grids, plan = merger
    lock = int(old_grids.loc[old_grids["community_id"] == "C1", "grid_id"].iloc[0])
    reb = gp.repartition(old_grids, roads, hh, communities=new, target=TARGET, time_limit=10, seed=0,
                         rebalance=True, locked=[lock], window_time=0.5)
    assert_valid_plan(reb, hh)
    assert reb.score().summary["share_in_band"] >= 0.9
    assert reb.changes.grids.set_index("old_grid_id").at[lock, "fate"] == "kept"


def test_grid_mates_kept():
    # unchanged, a split in halves, a merger of two grids
    assert grid_mates_kept([1, 1, 1], [5, 5, 5]).all()
    assert grid_mates_kept([1, 1, 1, 1], [5, 5, 6, 6]).sum() == 2
    assert grid_mates_kept([1, 1, 1, 2], [5, 5, 5, 5]).tolist() == [True, True, True, False]
    assert not grid_mates_kept(pd.array([pd.NA, 1], dtype="Int64"), [1, pd.NA]).any()
    # weights decide the majority
    assert grid_mates_kept([1, 2], [5, 5], weights=[1, 9]).tolist() == [False, True]


def test_recode_grids_rule():
    g = pd.DataFrame({"grid_id": [1, 2, 3, 7], "community_id": ["A", "A", "B", "B"],
                      "carried": [True, False, True, True]})
    old = pd.Series({1: "11000000000101", 3: "11000000000201", 7: "11000000000302"})
    assert recode_grids(g, old_codes=None, community_codes=pd.Series({"A": "1", "B": "2"})).tolist() == \
        ["101", "102", "201", "202"]  # no old codes: width 2, reading order
    cc = pd.Series({"A": "110000000001", "B": "110000000099"})
    codes = recode_grids(g, old_codes=old, community_codes=cc).tolist()
    # A unchanged: 1 keeps its code, newcomer 2 gets the next number; B (merged, new code): reading order
    assert codes == ["11000000000101", "11000000000102", "11000000009901", "11000000009902"]
    with pytest.raises(InputError, match="code_width"):
        recode_grids(pd.DataFrame({"grid_id": range(10), "community_id": ["A"] * 10, "carried": [False] * 10}),
                     old_codes=None, community_codes=cc, width=1)
    assert recode_grids(g, old_codes=None, community_codes=None) is None


def test_cli_repartition(merger, tmp_path, capsys):
    from gridpart.cli import main

    roads, hh, comm, new, old, old_grids, plan = merger
    paths = {n: tmp_path / f"{n}.gpkg" for n in ("roads", "households", "communities")}
    roads.to_file(paths["roads"])
    hh.to_file(paths["households"])
    new.to_file(paths["communities"])
    old.to_file(tmp_path / "old.gpkg")
    out, csv = tmp_path / "new.gpkg", tmp_path / "changes.csv"
    code = main(["repartition", str(tmp_path / "old.gpkg"), str(paths["roads"]), str(paths["households"]),
                 "--communities", str(paths["communities"]), "-o", str(out), "--target", str(TARGET),
                 "--time-limit", "10", "--changes-csv", str(csv)])
    assert code == 0
    text = capsys.readouterr().out
    assert "moved" in text and "old grids" in text
    back = gp.read_plan(out)
    assert back.changes.summary["moved"] == plan.changes.summary["moved"]
    assert set(pd.read_csv(csv)["fate"]) <= set(FATES)
    # an input error exits with 2 and names the argument
    code = main(["repartition", str(tmp_path / "missing.gpkg"), str(paths["roads"]), str(paths["households"]),
                 "--communities", str(paths["communities"]), "-o", str(tmp_path / "x.gpkg")])
    assert code == 2
    assert "old_grids" in capsys.readouterr().err


def test_smaller_target_splits_grids(merger):
    """The standard moves from 300 to 150 households a grid: every grid splits."""
    roads, hh, comm, new, old, old_grids, plan = merger
    half = gp.repartition(old, roads, hh, communities=comm, target=150, time_limit=10, seed=0)
    assert_valid_plan(half, hh)
    fresh = gp.partition(roads, hh, communities=comm, target=150, time_limit=10, seed=0)
    assert n_out(half) <= n_out(fresh)
    fates = half.changes.grids["fate"]
    assert (fates == "split").sum() >= len(old.grids) // 2
    assert half.changes.summary["grids_new"] > 1.5 * len(old.grids)
    # the same target on bare grids (no band known) keeps untouched communities as they are
    same = gp.repartition(old.grids, roads, hh, communities=comm, target=150, time_limit=10, seed=0)
    assert same.changes.summary["moved"] == 0
    everywhere = gp.repartition(old.grids, roads, hh, communities=comm, target=150, time_limit=10, seed=0,
                                scope="all")
    assert (everywhere.changes.grids["fate"] == "split").sum() == (fates == "split").sum()


def test_area_no_old_grid_covered_gets_new_grids(merger):
    roads, hh, comm, new, old, old_grids, plan = merger
    part = gp.partition(roads, hh, communities=comm[comm["community_id"] != "C1"], target=TARGET,
                        time_limit=10, seed=0)
    grown = gp.repartition(part, roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    assert_valid_plan(grown, hh)
    ch = grown.changes
    _adds_up(ch, hh)
    c1 = grown.grids[grown.grids["community_id"] == "C1"]
    assert len(c1) >= 2 and (c1["grid_id"] > part.grids["grid_id"].max()).all()
    in_c1 = grown.households["grid_id"].isin(c1["grid_id"])
    assert (ch.households.loc[in_c1, "change"] == "new").all()
    assert ch.summary["new"] == grown.households.loc[in_c1, "households"].sum()
    assert set(ch.grids["fate"]) == {"kept"}


@pytest.mark.parametrize("seed", [0, 1, 2, 5, 6])
def test_invariants_on_random_mergers(seed):
    """Any merger of two neighbouring communities: a valid plan, a table that adds up,
    the other community exactly as it was, no grid out of the band that a fresh partition avoids."""
    roads, hh, comm = synthetic_city(1200, seed=seed, communities=3)
    old = gp.partition(roads, hh, communities=comm, target=150, time_limit=10, seed=seed)
    pair = ["C1", "C2"] if seed % 2 else ["C2", "C3"]
    new = _merge(comm, pair, "M")
    plan = gp.repartition(old, roads, hh, communities=new, target=150, time_limit=10, seed=seed)
    assert_valid_plan(plan, hh)
    _adds_up(plan.changes, hh)
    other = old.grids[~old.grids["community_id"].isin(pair)]
    fates = plan.changes.grids.set_index("old_grid_id")["fate"]
    assert (fates[other["grid_id"]] == "kept").all()
    ng = plan.grids.set_index("grid_id")
    assert ng.loc[other["grid_id"], "households"].tolist() == other["households"].tolist()
    fresh = gp.partition(roads, hh, communities=new, target=150, time_limit=10, seed=seed)
    assert n_out(plan) <= n_out(fresh)
    assert plan.grids["grid_id"].is_unique


# --------------------------------------------------------------------------- persons

PERSONS = gp.Target(households=TARGET, persons=1000, persons_hard=True)
SOFT = gp.Target(households=TARGET, persons=1000)
P_LO, P_HI = PERSONS.persons_band
H_LO, H_HI = PERSONS.band


@pytest.fixture(scope="module")
def persons_city():
    """The merger city with persons per household that households-only grids get wrong.

    C1: 10/3 a household (300 households hold 1000 persons); C2: 3.9 in one old
    grid, 3.0 in the other; C3 and C4: 4.0 west of their middle, 2.7 east.
    C4 (below the band) merges into C3.
    """
    roads, hh, comm = synthetic_city(3000, seed=4, communities=4)
    first = gp.partition(roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    c = comm.set_index("community_id").geometry
    x = hh.geometry.x.to_numpy()
    ratio = np.full(len(hh), 10 / 3)
    c34 = shapely.union(c["C3"], c["C4"])
    mid = (c34.bounds[0] + c34.bounds[2]) / 2
    inside = hh.within(c34).to_numpy()
    ratio[inside] = np.where(x[inside] < mid, 4.0, 2.7)
    g2 = first.grids.loc[first.grids["community_id"] == "C2", "grid_id"].tolist()
    ratio[(first.households["grid_id"] == g2[0]).to_numpy()] = 3.9
    ratio[(first.households["grid_id"] == g2[1]).to_numpy()] = 3.0
    hh = hh.assign(persons=np.round(hh["households"] * ratio).astype(np.int64))
    old = gp.partition(roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    new = _merge(comm, ["C3", "C4"], "C34")
    hh_only = gp.repartition(old, roads, hh, communities=new, target=TARGET, time_limit=10, seed=0)
    hard = gp.repartition(old, roads, hh, communities=new, target=PERSONS, time_limit=10, seed=0)
    return roads, hh, comm, new, old, hh_only, hard


def _in_bands(grids):
    """(in the households band, in the persons band) per grid."""
    return grids["households"].between(H_LO, H_HI), grids["persons"].between(P_LO, P_HI)


def test_persons_hard_repairs_merger(persons_city):
    roads, hh, comm, new, old, hh_only, hard = persons_city
    # households only: every grid in the households band, several out of the persons band
    in_h, in_p = _in_bands(hh_only.grids)
    assert in_h.all() and (~in_p).sum() >= 3
    # a hard persons band: every grid in both bands
    assert_valid_plan(hard, hh)
    _adds_up(hard.changes, hh)
    in_h, in_p = _in_bands(hard.grids)
    assert in_h.all() and in_p.all()
    assert hard.params["persons_out_of_band"] == 0
    assert hard.grids["persons"].sum() == hh["persons"].sum()  # nothing lost
    # C1 was in both bands: kept exactly, not even looked at
    og = old.grids.set_index("grid_id")
    c1 = og.index[og["community_id"] == "C1"]
    assert (hard.changes.grids.set_index("old_grid_id").loc[c1, "fate"] == "kept").all()
    assert hard.grids.set_index("grid_id").loc[c1, "persons"].equals(og.loc[c1, "persons"])
    assert hard.status.set_index("community_id").at["C1", "windows"] == 0
    assert "persons band hard" in hard.status.set_index("community_id").at["C34", "method"]
    # changes stay few: more than households alone need, far fewer than a fresh plan's
    s = hard.changes.summary
    assert hh_only.changes.summary["moved"] < s["moved"] <= 0.1 * s["households"]
    fresh = gp.partition(roads, hh, communities=new, target=PERSONS, time_limit=10, seed=0)
    assert s["share_mates_kept"] > grid_mates_kept(hard.changes.households["old_grid_id"],
                                                   fresh.households["grid_id"], hh["households"]).mean()
    # deterministic
    again = gp.repartition(old, roads, hh, communities=new, target=PERSONS, time_limit=10, seed=0)
    pd.testing.assert_series_equal(again.households["grid_id"], hard.households["grid_id"])


def test_persons_scope_follows_the_old_plans_persons_band(persons_city):
    """C2 is in the households band but not in the persons band, and the merger does not reach it."""
    roads, hh, comm, new, old, hh_only, hard = persons_city
    c2 = old.grids.loc[old.grids["community_id"] == "C2", "grid_id"].tolist()
    assert not old.grids.set_index("grid_id").loc[c2, "persons"].between(P_LO, P_HI).all()

    def c2_kept(plan):
        return bool((plan.changes.grids.set_index("old_grid_id").loc[c2, "fate"] == "kept").all())

    # the old plan had no persons band: the hard one now is a new band, repaired everywhere
    assert hard.params["old_persons_band"] == [None, None, False]
    assert not c2_kept(hard)
    assert hard.grids.set_index("grid_id").loc[c2, "persons"].between(P_LO, P_HI).all()
    # bare grids (bands unknown): what the merger did not reach stays as it was
    bare = gp.repartition(old.grids, roads, hh, communities=new, target=PERSONS, time_limit=10, seed=0)
    assert bare.params["old_persons_band"] is None
    assert c2_kept(bare) and bare.params["persons_out_of_band"] == 1
    assert bare.grids.loc[bare.grids["community_id"] == "C34", "persons"].between(P_LO, P_HI).all()
    # drawn with this very hard band already: out of it there because no plan could do better, kept
    same = copy.copy(old)
    same.params = {**old.params, "target": repr(PERSONS), "persons_band": [P_LO, P_HI, True]}
    kept = gp.repartition(same, roads, hh, communities=new, target=PERSONS, time_limit=10, seed=0)
    assert kept.params["old_persons_band"] == [P_LO, P_HI, True]
    assert c2_kept(kept)
    # ... unless every grid is asked for
    everywhere = gp.repartition(old.grids, roads, hh, communities=new, target=PERSONS, time_limit=10, seed=0,
                                scope="all")
    assert not c2_kept(everywhere) and everywhere.params["persons_out_of_band"] == 0


def test_persons_soft_moves_nobody_for_persons_and_warns(persons_city, caplog):
    roads, hh, comm, new, old, hh_only, hard = persons_city
    with caplog.at_level("WARNING", logger="gridpart.pipeline.repartition"):
        soft = gp.repartition(old, roads, hh, communities=new, target=SOFT, time_limit=10, seed=0)
    assert_valid_plan(soft, hh)
    # a soft persons band never makes a grid invalid: the same households move as without it
    assert soft.changes.summary["moved"] == hh_only.changes.summary["moved"]
    assert soft.grids["households"].between(H_LO, H_HI).all()
    assert "persons deviation" in soft.status.set_index("community_id").at["C34", "method"]
    # ... and the grids it leaves outside the persons band are counted and named
    out = int((~soft.grids["persons"].between(P_LO, P_HI)).sum())
    assert out >= 1 and soft.params["persons_out_of_band"] == out
    assert "persons_hard=True" in caplog.text and f"{out} of {len(soft.grids)} grids" in caplog.text


def test_no_persons_target_ignores_persons(persons_city):
    """Without a persons target, persons change nothing: the plan is the one drawn without them."""
    roads, hh, comm, new, old, hh_only, hard = persons_city
    bare_hh = hh.drop(columns="persons")
    for target in (TARGET, gp.Target(households=TARGET)):
        plan = gp.repartition(old, roads, bare_hh, communities=new, target=target, time_limit=10, seed=0)
        pd.testing.assert_series_equal(plan.households["grid_id"], hh_only.households["grid_id"])
        cols = ["grid_id", "community_id", "households"]
        pd.testing.assert_frame_equal(plan.grids[cols], hh_only.grids[cols])
        pd.testing.assert_series_equal(plan.status["method"], hh_only.status["method"])
        assert "persons_out_of_band" not in plan.params
    assert "persons" not in hh_only.status["method"].str.cat()


def test_persons_target_needs_persons_column(persons_city):
    roads, hh, comm, new, old, hh_only, hard = persons_city
    with pytest.raises(InputError, match="persons"):
        gp.repartition(old, roads, hh.drop(columns="persons"), communities=new, target=PERSONS, time_limit=10)


def _lattice(households, persons, labels, owner, band):
    """A one-row lattice sub-problem with ``band`` and the stays of ``labels``' old grids."""
    sub = grid_subproblem(1, len(households), k=len(owner), households=np.asarray(households))
    sub = dataclasses.replace(sub, band=band, persons=np.asarray(persons, dtype=float),
                              forced=np.flatnonzero(np.asarray(households) > band.hi))
    stay = {(i, int(owner[g])): int(households[i]) for i, g in enumerate(labels) if owner[g] >= 0}
    return sub, stay


def _band(persons_hard=None, lo=180.0, hi=420.0, centre=300.0):
    if persons_hard is None:
        return Band(lo=lo, hi=hi, centre=centre)
    return Band(lo=lo, hi=hi, centre=centre, persons_lo=800.0, persons_hi=1200.0, persons_centre=1000.0,
                persons_hard=persons_hard)


@pytest.mark.parametrize("persons_hard", [None, False, True])
def test_repair_model_persons_order(persons_hard):
    """Two old grids in the households band, 1500 and 600 persons: only a hard
    persons band moves a household for it (one atom of 100)."""
    labels, owner = np.array([0, 0, 0, 1, 1, 1]), np.array([10, 20])
    sub, stay = _lattice([100] * 6, [500] * 3 + [200] * 3, labels, owner, _band(persons_hard))
    res = _solve_window(sub, labels, owner, np.arange(6), stay, seed=0, deterministic_time=2, time_limit=10)
    assert res.status == "OPTIMAL"
    want = [0, 0, 1, 1, 1, 1] if persons_hard else [0, 0, 0, 1, 1, 1]
    assert res.labels.tolist() == want
    assert res.moved == (100 if persons_hard else 0)


@pytest.mark.parametrize("persons_hard", [None, False, True])
def test_repair_model_persons_break_ties(persons_hard):
    """A new atom no old grid held joins one of two grids at no cost in moves:
    households alone prefer the west one; persons (1800 against 300) the east one."""
    labels, owner = np.array([0, 0, 1, 2, 2]), np.array([10, -1, 20])
    sub, stay = _lattice([100, 100, 100, 100, 105], [600, 600, 600, 150, 150], labels, owner,
                         _band(persons_hard, lo=175, hi=325, centre=250))
    res = _solve_window(sub, labels, owner, np.arange(5), stay, seed=0, deterministic_time=2, time_limit=10)
    assert res.status == "OPTIMAL"
    assert res.labels.tolist() == ([0, 0, 0, 2, 2] if persons_hard is None else [0, 0, 2, 2, 2])


def test_repair_model_moves_nobody_for_persons_alone():
    """The west grid is 50 persons short and no plan gets it into the persons band
    without pushing the east one out: moving the small atom would bring it 30
    persons nearer, but a hard persons band buys grids in the band, not persons."""
    labels, owner = np.array([0, 0, 0, 1, 1, 1, 1]), np.array([10, 20])
    sub, stay = _lattice([100, 100, 100, 10, 100, 100, 100], [250, 250, 250, 30, 290, 290, 290], labels, owner,
                         _band(True))
    res = _solve_window(sub, labels, owner, np.arange(7), stay, seed=0, deterministic_time=2, time_limit=10)
    assert res.status == "OPTIMAL"
    assert res.labels.tolist() == labels.tolist() and res.moved == 0


def test_persons_hard_never_gives_up_the_households_band(merger):
    """Synthetic persons (about 2.6 a household) against 800-1200 a grid: the bands cannot both
    hold everywhere.  The households band still holds wherever it did; the persons band gains."""
    roads, hh, comm, new, old, old_grids, plan = merger
    hard = gp.repartition(old_grids, roads, hh, communities=new, target=PERSONS, time_limit=10, seed=0)
    assert_valid_plan(hard, hh)
    _adds_up(hard.changes, hh)
    assert n_out(hard) == n_out(plan) == 0
    in_p = hard.grids["persons"].between(P_LO, P_HI)
    assert in_p.sum() >= plan.grids["persons"].between(P_LO, P_HI).sum()
    assert hard.params["persons_out_of_band"] == int((~in_p).sum()) >= 1


def test_out_of_band_persons_rules():
    labels = np.array([0, 0, 1, 1])
    band = _band(True, lo=150, hi=250, centre=200)  # persons 800-1200
    sub, _ = _lattice([100] * 4, [500, 500, 100, 100], labels, np.array([1, 2]), band)
    assert _out_of_band(sub, labels).tolist() == [False, True]  # 1000 and 200 persons
    # soft: persons never make a grid out
    assert not _out_of_band(dataclasses.replace(sub, band=_band(False, 150, 250, 200)), labels).any()
    # one atom alone above the persons band: its grid may be above it
    heavy = dataclasses.replace(sub, persons=np.array([1500.0, 100, 400, 400]))
    assert _out_of_band(heavy, labels).tolist() == [False, False]
    # too few persons in the whole component for the band: nothing to repair
    short = dataclasses.replace(sub, persons=np.array([100.0, 100, 100, 100]))
    assert not _out_of_band(short, labels).any()


@settings(max_examples=6)
@given(seed=st.integers(0, 40), ratios=st.lists(st.floats(2.0, 4.5), min_size=3, max_size=3),
       persons_hard=st.booleans())
def test_persons_invariants_on_random_mergers(seed, ratios, persons_hard):
    """Random persons (a ratio per community, noise per building): a valid plan, nothing
    lost, a change table that adds up, and the community the merger missed as it was."""
    roads, hh, comm = synthetic_city(900, seed=seed, communities=3)
    rng = np.random.default_rng(seed)
    of = gpd.sjoin(hh[["geometry"]], comm[["community_id", "geometry"]], predicate="within")
    of = of[~of.index.duplicated()]["community_id"].reindex(hh.index)
    ratio = of.map(dict(zip(["C1", "C2", "C3"], ratios))).fillna(3.0).to_numpy()
    hh = hh.assign(persons=np.round(hh["households"] * ratio * rng.uniform(0.8, 1.2, len(hh))).astype(np.int64))
    old = gp.partition(roads, hh, communities=comm, target=150, time_limit=10, seed=seed)
    new = _merge(comm, ["C1", "C2"], "M")
    target = gp.Target(households=150, persons=500, persons_hard=persons_hard)
    plan = gp.repartition(old.grids, roads, hh, communities=new, target=target, time_limit=10, seed=seed)
    assert_valid_plan(plan, hh)
    _adds_up(plan.changes, hh)
    placed = plan.households["grid_id"].notna()
    assert plan.grids["persons"].sum() == plan.households.loc[placed, "persons"].sum()
    assert plan.grids["households"].sum() + plan.unplaced["households"].sum() == hh["households"].sum()
    other = old.grids[old.grids["community_id"] == "C3"]
    fates = plan.changes.grids.set_index("old_grid_id")["fate"]
    assert (fates[other["grid_id"]] == "kept").all()
    lo, hi = target.persons_band
    outside = ~plan.grids["persons"].between(np.ceil(lo), np.floor(hi))
    assert plan.params["persons_out_of_band"] == int(outside.sum())


# --------------------------------------------------------------------------- stable codes (issue 17 item 4)


@pytest.fixture(scope="module")
def generated_merger():
    """Four communities without codes (generated, in reading order); the first two merge."""
    roads, hh, comm = synthetic_city(2000, seed=4, communities=4)
    comm = comm.drop(columns="code")
    old = gp.partition(roads, hh, communities=comm, target=TARGET, time_limit=5, seed=0)
    codes = {cid: v["code"] for cid, v in old.params["community_codes"].items()}
    first, second, *rest = sorted(codes, key=codes.get)
    new = _merge(comm, [first, second], "AB").drop(columns="code")
    plan = gp.repartition(old, roads, hh, communities=new, target=TARGET, time_limit=5, seed=0)
    return roads, hh, comm, new, old, codes, (first, second, rest), plan


def test_untouched_communities_keep_generated_codes_after_a_merger(generated_merger):
    *_, old, codes, (first, second, rest), plan = generated_merger
    assert sorted(codes.values()) == [f"{DEFAULT_PREFIX}{i:03d}" for i in range(1, 5)]
    now = {cid: v["code"] for cid, v in plan.params["community_codes"].items()}
    for cid in rest:  # untouched: same community code, same grid codes
        assert now[cid] == codes[cid]
        og = old.grids[old.grids["community_id"] == cid].set_index("grid_id")["code"]
        ng = plan.grids[plan.grids["community_id"] == cid].set_index("grid_id")["code"]
        assert ng.to_dict() == og.to_dict()
    # the merged community takes the next free number; its predecessors' codes are retired, never reused
    assert now["AB"] == f"{DEFAULT_PREFIX}005"
    assert plan.params["community_codes"]["AB"]["code_source"] == "generated"
    assert {codes[first], codes[second]} <= set(plan.params["retired_codes"])
    ab = plan.grids.loc[plan.grids["community_id"] == "AB", "code"]
    assert ab.str.startswith(now["AB"]).all() and ab.is_unique
    assert plan.grids["code"].is_unique
    fates = plan.changes.grids.set_index("old_grid_id")["fate"]
    kept_ids = old.grids.loc[old.grids["community_id"].isin(rest), "grid_id"]
    assert set(fates[kept_ids]) == {"kept"}


def test_codes_stay_through_a_second_change_and_are_never_reused(generated_merger, tmp_path):
    roads, hh, comm, new, _, codes, (first, second, rest), plan = generated_merger
    path = tmp_path / "merged.gpkg"
    plan.to_file(path)
    # the merged community splits again into two new ones under new ids
    ab = new.set_index("community_id").geometry["AB"]
    parts = comm.set_index("community_id").geometry[[first, second]]
    again = pd.concat([new[new["community_id"] != "AB"],
                       gpd.GeoDataFrame({"community_id": ["A2", "B2"]},
                                        geometry=[shapely.intersection(parts[first], ab),
                                                  shapely.intersection(parts[second], ab)], crs=new.crs)],
                      ignore_index=True)
    for source in (plan, str(path)):
        later = gp.repartition(source, roads, hh, communities=again, target=TARGET, time_limit=5, seed=0)
        now = {cid: v["code"] for cid, v in later.params["community_codes"].items()}
        assert {now[c] for c in rest} == {codes[c] for c in rest}
        # A2 and B2 are new: numbers after every code used so far (1-4 and the merged 5)
        assert sorted([now["A2"], now["B2"]]) == [f"{DEFAULT_PREFIX}006", f"{DEFAULT_PREFIX}007"]
        assert f"{DEFAULT_PREFIX}005" in later.params["retired_codes"]
        for cid in rest:
            ng = later.grids[later.grids["community_id"] == cid].set_index("grid_id")["code"]
            assert ng.to_dict() == plan.grids[plan.grids["community_id"] == cid].set_index("grid_id")["code"].to_dict()


def test_grids_moved_into_a_community_take_its_next_numbers(moved):
    *_, old, _, plan = moved
    og = old.grids.set_index("grid_id")
    ng = plan.grids.set_index("grid_id")
    cc = {cid: v["code"] for cid, v in plan.params["community_codes"].items()}
    for cid in ("C2",):
        width = len(og["code"].iloc[0]) - 12
        old_max = og.loc[og["community_id"] == cid, "code"].str[12:].astype(int).max()
        stayed = [g for g in ng.index[ng["community_id"] == cid]
                  if g in og.index and og.at[g, "community_id"] == cid]
        assert stayed and all(ng.at[g, "code"] == og.at[g, "code"] for g in stayed)
        newcomers = ng.loc[(ng["community_id"] == cid) & ~ng.index.isin(stayed), "code"]
        assert (newcomers.str[12:].astype(int) > old_max).all()
        assert newcomers.str.startswith(cc[cid]).all() and (newcomers.str.len() == 12 + width).all()
    for cid in ("C3", "C4"):  # untouched by the move
        new_codes = ng.loc[ng["community_id"] == cid, "code"].to_dict()
        assert new_codes == og.loc[og["community_id"] == cid, "code"].to_dict()
    assert ng["code"].is_unique


def test_repartition_leaves_the_old_plan_unchanged():
    """A plan is a value: re-partitioning after a merger builds a new plan and
    changes nothing of the old one (grids, atoms, households, status, record)."""
    roads, hh, comm = synthetic_city(3000, seed=4, communities=4)
    old = gp.partition(roads, hh, communities=comm, target=TARGET, time_limit=10, seed=0)
    before = {k: getattr(old, k).copy() for k in ("grids", "blocks", "households", "status", "edges")}
    record = old.record
    plan = gp.repartition(old, roads, hh, communities=_merge(comm, ["C3", "C4"], "C34"), target=TARGET,
                          time_limit=10, seed=0)
    assert plan is not old
    for name, frame in before.items():
        pd.testing.assert_frame_equal(getattr(old, name), frame, obj=name)
    assert old.record == record
    assert old.changes is None
