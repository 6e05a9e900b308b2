"""Hand edits (gridpart.pipeline.edit): move, lock, undo/redo, drop_empty, history.

Invariants: an edit returns a new plan and leaves the old one as it was;
households are conserved (each in exactly one grid, that of its atom) after
any sequence of moves; moves followed by as many undos give the original
plan back exactly; untouched grids keep their rows.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import warnings

import geopandas as gpd
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import cities, study_box

import gridpart as gp
from gridpart.errors import GridpartError, InputError
from gridpart.pipeline.edit import grid_ids

CRS = "EPSG:32650"


@pytest.fixture(scope="module")
def plan(sample_plan):
    return sample_plan


def _same(a, b):
    """The plans are the same: assignments, codes, 四至 and every column (history left out)."""
    pdt.assert_frame_equal(a.grids, b.grids)
    pdt.assert_frame_equal(a.blocks, b.blocks)
    pdt.assert_frame_equal(a.households, b.households)
    assert a.record == b.record


def _conserved(p, original):
    """Every placed household in exactly one grid, the grid of its atom; totals unchanged."""
    hh = p.households
    atom_grid = p.blocks.set_index("atom_id")["grid_id"]
    placed = hh["atom_id"].notna()
    assert (hh.loc[placed, "grid_id"].astype(int).to_numpy()
            == atom_grid.reindex(hh.loc[placed, "atom_id"].astype(int)).astype(int).to_numpy()).all()
    assert hh.index.equals(original.households.index)
    assert hh.loc[placed, "grid_id"].isin(p.grids["grid_id"]).all()
    per_grid = hh.groupby("grid_id")["households"].sum()
    g = p.grids.set_index("grid_id")["households"]
    assert (per_grid.reindex(g.index, fill_value=0).to_numpy() == g.to_numpy()).all()
    assert g.sum() == original.grids["households"].sum()
    assert not p.validate()["check"].isin(["households_lost", "households_twice", "duplicate_code"]).any()


def _neighbour_of(p, grid_id):
    g = p.blocks.set_index("atom_id")["grid_id"]
    e = p.edges
    ga, gb = g.reindex(e["a"]).to_numpy(), g.reindex(e["b"]).to_numpy()
    return int(pd.Series(gb[(ga == grid_id) & (gb != grid_id)]).iloc[0])


def test_a_move_returns_a_new_plan_and_leaves_the_old_one_as_it_was(plan):
    before = copy.deepcopy(plan)
    a = int(plan.blocks["atom_id"].iloc[3])
    g = int(plan.blocks["grid_id"].iloc[3])
    to = _neighbour_of(plan, g)
    moved = plan.move(atoms=[a], to=to, note="管理处在此")
    _same(plan, before)
    assert plan.history == []
    assert int(moved.blocks.set_index("atom_id").loc[a, "grid_id"]) == to
    e = moved.history[-1]
    assert (e.action, e.atoms, e.from_grids, e.to_grid, e.note) == ("move", (a,), (g,), to, "管理处在此")
    assert e.households_moved == float(plan.blocks["households"].iloc[3])
    assert e.author == (os.environ.get("USER") or e.author)
    _conserved(moved, plan)


def test_only_the_touched_grids_change(plan):
    a = int(plan.blocks["atom_id"].iloc[3])
    g = int(plan.blocks["grid_id"].iloc[3])
    to = _neighbour_of(plan, g)
    moved = plan.move(atoms=[a], to=plan.grids.set_index("grid_id").loc[to, "code"])  # by code
    untouched = ~plan.grids["grid_id"].isin([g, to])
    pdt.assert_frame_equal(moved.grids[untouched], plan.grids[untouched])
    new = moved.grids.set_index("grid_id")
    old = plan.grids.set_index("grid_id")
    hh = float(plan.blocks["households"].iloc[3])
    assert new.loc[g, "households"] == old.loc[g, "households"] - hh
    assert new.loc[to, "households"] == old.loc[to, "households"] + hh
    assert new.loc[to, "n_atoms"] == old.loc[to, "n_atoms"] + 1
    assert new.loc[[g, to], "code"].tolist() == old.loc[[g, to], "code"].tolist()
    assert new.loc[to, "limits"].startswith("东至")
    assert new.loc[to, "area_m2"] > old.loc[to, "area_m2"]


def test_a_move_by_households_takes_their_whole_atom_and_says_who_came_along(plan):
    hh = plan.households
    counts = hh.groupby("atom_id").size()
    atom = int(counts[counts >= 2].index[0])
    mates = hh.index[hh["atom_id"] == atom].tolist()
    g = int(plan.blocks.set_index("atom_id").loc[atom, "grid_id"])
    moved = plan.move(households=[mates[0]], to=_neighbour_of(plan, g))
    assert moved.history[-1].atoms == (atom,)
    assert set(moved.history[-1].came_along) == set(mates[1:])
    _conserved(moved, plan)


def test_a_move_by_blocks_takes_every_atom_of_the_block(plan):
    cells = plan.blocks.groupby("block_id")["atom_id"].agg(list)
    block = int(cells[cells.map(len) >= 2].index[0])
    moved = plan.move(blocks=[block], to="new")
    new_id = int(plan.grids["grid_id"].max()) + 1
    assert set(moved.blocks.loc[moved.blocks["block_id"] == block, "grid_id"]) == {new_id}
    _conserved(moved, plan)


def test_a_new_grid_takes_the_next_free_number_and_code(plan):
    moved = plan.move(atoms=[int(plan.blocks["atom_id"].iloc[0])], to="new")
    row = moved.grids.iloc[-1]
    assert int(row["grid_id"]) == int(plan.grids["grid_id"].max()) + 1
    numbers = sorted(int(c[12:]) for c in plan.grids["code"])
    assert row["code"] == plan.grids["code"].iloc[0][:12] + f"{numbers[-1] + 1:02d}"
    assert not moved.grids["code"].duplicated().any()


def test_an_emptied_grid_stays_until_drop_empty_and_its_code_is_never_given_again(plan):
    g = int(plan.grids["grid_id"].iloc[-1])
    atoms = plan.blocks.loc[plan.blocks["grid_id"] == g, "atom_id"].tolist()
    moved = plan.move(atoms=atoms, to=_neighbour_of(plan, g))
    row = moved.grids.set_index("grid_id").loc[g]
    assert (row["households"], row["n_atoms"], row["code"]) == (0, 0, plan.grids["code"].iloc[-1])
    assert row.geometry.is_empty
    dropped = moved.drop_empty()
    assert g not in set(dropped.grids["grid_id"])
    assert plan.grids["code"].iloc[-1] in dropped.record.retired_codes
    again = dropped.move(atoms=atoms[:1], to="new")
    assert again.grids["code"].iloc[-1] not in set(plan.grids["code"])
    assert int(again.grids["grid_id"].iloc[-1]) == g + 1  # the dropped grid's id is not given again either
    _same(dropped.undo(), moved)


def test_bad_moves_name_the_ids_and_the_fix(plan):
    a = int(plan.blocks["atom_id"].iloc[0])
    with pytest.raises(InputError, match="exactly one"):
        plan.move(atoms=[a], blocks=[1], to=1)
    with pytest.raises(InputError, match=r"99999.*Fix"):
        plan.move(atoms=[a, 99999], to=1)
    with pytest.raises(InputError, match=r"nope.*Fix"):
        plan.move(atoms=[a], to="nope")
    with pytest.raises(InputError, match="households"):
        plan.move(households=["no such address"], to=1)
    grids = plan.grids.copy()
    grids["community_id"] = grids["community_id"].astype(object)
    other = int(grids["grid_id"].iloc[-1])
    grids.loc[grids.index[-1], "community_id"] = "另一社区"
    two = dataclasses.replace(plan, grids=grids)
    with pytest.raises(InputError, match=rf"community.*\b{a}\b.*Fix: move them to a grid of their own community"):
        two.move(atoms=[a], to=other)
    with pytest.raises(GridpartError, match="undo"):
        plan.undo()
    with pytest.raises(GridpartError, match="redo"):
        plan.redo()


def test_grid_ids_accepts_ids_and_codes(plan):
    codes = plan.grids["code"].tolist()
    assert grid_ids(plan, [codes[2], 4, "5"]) == [3, 4, 5]
    with pytest.raises(InputError, match="ids"):
        grid_ids(plan, ["00000000009999"])


def test_lock_and_unlock_by_id_or_code_survive_the_file(plan, tmp_path):
    code = plan.grids["code"].iloc[2]
    locked = plan.lock([1, code], author="王工")
    assert "locked" not in plan.grids
    assert locked.grids.loc[locked.grids["locked"], "grid_id"].tolist() == [1, 3]
    assert [e.action for e in locked.history] == ["lock"] and locked.history[0].author == "王工"
    path = tmp_path / "grids.gpkg"
    locked.unlock([1], author="王工").to_file(path)
    back = gp.read_plan(path)
    assert back.grids.loc[back.grids["locked"], "grid_id"].tolist() == [3]
    assert [(e.action, e.grids, e.author) for e in back.history] == [("lock", (1, 3), "王工"), ("unlock", (1,), "王工")]
    _same(locked.undo(), plan)


def test_a_hand_move_into_a_locked_grid_is_allowed(plan):
    g = int(plan.grids["grid_id"].iloc[0])
    a = int(plan.blocks.loc[plan.blocks["grid_id"] == _neighbour_of(plan, g), "atom_id"].iloc[0])
    moved = plan.lock([g]).move(atoms=[a], to=g)
    assert bool(moved.grids.set_index("grid_id").loc[g, "locked"])


def test_undo_redo_and_the_record_of_undone_steps(plan):
    a = int(plan.blocks["atom_id"].iloc[3])
    one = plan.move(atoms=[a], to="new")
    two = one.move(atoms=[int(plan.blocks["atom_id"].iloc[5])], to="new")
    back = two.undo()
    _same(back, one)
    assert [e.undone for e in back.history] == [False, True]
    again = back.redo()
    _same(again, two)
    assert [e.undone for e in again.history] == [False, False]
    # a new edit after an undo: the undone step stays in the record and can no longer be redone
    branch = back.lock([1])
    assert [(e.action, e.undone) for e in branch.history] == [("move", False), ("move", True), ("lock", False)]
    with pytest.raises(InputError, match="redo"):
        branch.redo()
    _same(branch.undo().undo(), plan)


def test_history_round_trips_through_the_geopackage(plan, tmp_path):
    hh = plan.households
    atom = int(hh["atom_id"].value_counts().index[0])
    mates = hh.index[hh["atom_id"] == atom].tolist()
    edited = (plan.move(atoms=[0], to="new", author="li", note="测试").lock([2]).move(households=mates[:1], to="new")
              .undo())
    assert edited.history[-1].came_along == tuple(mates[1:])
    path = tmp_path / "p.gpkg"
    edited.to_file(path)
    back = gp.read_plan(path)
    strip = [dict(e.as_dict()) for e in edited.history]
    assert [e.as_dict() for e in back.history] == strip


def test_steps_read_from_the_file_can_be_undone_and_redone(plan, tmp_path):
    plan.to_file(tmp_path / "a.gpkg")
    original = gp.read_plan(tmp_path / "a.gpkg")
    g = int(original.grids["grid_id"].iloc[-1])
    atoms = original.blocks.loc[original.blocks["grid_id"] == g, "atom_id"].tolist()
    edited = (original.move(atoms=[0], to="new").lock([original.grids["code"].iloc[2]])
              .move(atoms=atoms, to=_neighbour_of(original, g)).drop_empty())
    edited.to_file(tmp_path / "b.gpkg")
    back = gp.read_plan(tmp_path / "b.gpkg")
    for _ in range(4):
        back = back.undo()
    # a GeoPackage layer may store polygons as multipolygons: the shapes are compared, not their type
    _same_shapes(back, original)
    assert [e.undone for e in back.history] == [True] * 4
    again = back.redo().redo()
    assert again.grids["locked"].sum() == 1 and len(again.grids) == len(original.grids) + 1


def _same_shapes(a, b):
    geo = a.grids.geometry.name
    pdt.assert_frame_equal(pd.DataFrame(a.grids.drop(columns=geo)), pd.DataFrame(b.grids.drop(columns=geo)))
    assert a.grids.geometry.geom_equals(b.grids.geometry).all()
    pdt.assert_frame_equal(a.blocks, b.blocks)
    pdt.assert_frame_equal(a.households, b.households)
    assert a.record == b.record


@settings(max_examples=10)
@given(steps=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), st.booleans()),
                      min_size=1, max_size=4))
def test_any_moves_conserve_households_and_as_many_undos_give_the_plan_back(plan, steps):
    atoms = plan.blocks["atom_id"].astype(int).tolist()
    p = plan
    for ai, gi, new in steps:
        grids = p.grids["grid_id"].astype(int).tolist()
        p = p.move(atoms=[atoms[ai % len(atoms)]], to="new" if new else grids[gi % len(grids)])
        _conserved(p, plan)
    for _ in steps:
        p = p.undo()
    _same(p, plan)


# ------------------------------------------------------------------------------------ command line


def test_cli_validate_prints_the_findings_and_exits_1_on_errors(plan, tmp_path, capsys):
    pytest.importorskip("openpyxl")
    from gridpart.cli import main

    good = tmp_path / "good.gpkg"
    plan.to_file(good)
    assert main(["validate", str(good), "--xlsx", str(tmp_path / "f.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "0 errors" in out and "enclave" in out
    assert set(pd.read_excel(tmp_path / "f.xlsx")["check"]) == set(plan.validate()["check"])
    grids = plan.grids.copy()
    grids.loc[grids.index[1], "code"] = grids["code"].iloc[0]
    bad = tmp_path / "bad.gpkg"
    dataclasses.replace(plan, grids=grids).to_file(bad)
    assert main(["validate", str(bad)]) == 1
    assert "duplicate_code" in capsys.readouterr().out


def test_cli_history_prints_the_steps(plan, tmp_path, capsys):
    from gridpart.cli import main

    path = tmp_path / "p.gpkg"
    plan.to_file(path)
    assert main(["history", str(path)]) == 0
    assert "no edits" in capsys.readouterr().out
    plan.move(atoms=[0], to="new", author="li", note="网格员住址").lock([1]).undo().to_file(path)
    assert main(["history", str(path)]) == 0
    out = capsys.readouterr().out
    assert "网格员住址" in out and "undone" in out and "lock" in out


def test_the_offices_columns_travel_through_edits_and_the_file(plan, tmp_path):
    grids = plan.grids.copy()
    grids["网格员"] = [f"员{i}" for i in range(len(grids))]
    staffed = dataclasses.replace(plan, grids=grids)
    g = int(grids["grid_id"].iloc[3])
    a = int(plan.blocks.loc[plan.blocks["grid_id"] == _neighbour_of(plan, g), "atom_id"].iloc[0])
    moved = staffed.move(atoms=[a], to=g).move(atoms=[a], to="new")
    assert moved.grids["网格员"].iloc[:-1].tolist() == grids["网格员"].tolist()
    assert pd.isna(moved.grids["网格员"].iloc[-1])
    moved.to_file(tmp_path / "s.gpkg")
    assert gp.read_plan(tmp_path / "s.gpkg").grids["网格员"].iloc[:-1].tolist() == grids["网格员"].tolist()


def test_a_move_to_the_grid_the_atoms_are_in_changes_nothing(plan):
    a = int(plan.blocks["atom_id"].iloc[0])
    same = plan.move(atoms=[a], to=int(plan.blocks["grid_id"].iloc[0]))
    _same(same, plan)
    assert same.history == []


def test_an_atom_without_a_grid_moved_and_undone_has_no_grid_again(plan):
    atoms = plan.blocks.copy()
    atoms["grid_id"] = atoms["grid_id"].astype("Int64")
    atoms.loc[atoms.index[0], "grid_id"] = pd.NA
    hh = plan.households.copy()
    hh.loc[hh["atom_id"] == atoms["atom_id"].iloc[0], "grid_id"] = pd.NA
    loose = dataclasses.replace(plan, blocks=atoms, households=hh)
    moved = loose.move(atoms=[int(atoms["atom_id"].iloc[0])], to="new")
    assert moved.history[-1].from_grids == ()
    _same(moved.undo(), loose)


@settings(max_examples=8)
@given(city=cities(max_cells=3, communities=st.integers(1, 2)), data=st.data())
def test_random_moves_on_random_cities_conserve_households_and_undo_exactly(city, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = {} if city.communities is not None else {
            "study_area": gpd.GeoSeries([study_box(city.roads.to_crs(CRS))], crs=CRS)}
        original = gp.partition(city.roads, city.households, communities=city.communities, target=city.target,
                                strategy="seed", time_limit=2.0, **kw)
    atoms = original.blocks
    p = original
    for _ in range(data.draw(st.integers(1, 4))):
        row = atoms.iloc[data.draw(st.integers(0, len(atoms) - 1))]
        same = p.grids.loc[p.grids["community_id"].astype(str) == str(row["community_id"]), "grid_id"].tolist()
        to = data.draw(st.sampled_from([*same, "new"]))
        p = p.move(atoms=[int(row["atom_id"])], to=to)
        _conserved(p, original)
        assert not p.validate()["check"].isin(["outside_community"]).any()
    while p.history and not all(e.undone for e in p.history):
        p = p.undo()
    _same(p, original)


def test_cli_move_lock_undo_write_the_plan_with_its_history(plan, tmp_path, capsys):
    from gridpart.cli import main

    path = tmp_path / "grids.gpkg"
    plan.to_file(path)
    g = int(plan.blocks["grid_id"].iloc[3])
    to = _neighbour_of(plan, g)
    code = plan.grids.set_index("grid_id").loc[to, "code"]
    a = int(plan.blocks["atom_id"].iloc[3])
    assert main(["move", str(path), "--atoms", str(a), "--to", code, "--note", "墙", "--author", "li"]) == 0
    assert f"to grid {to}" in capsys.readouterr().out
    assert main(["lock", str(path), code, "1"]) == 0
    back = gp.read_plan(path)
    assert [(e.action, e.author) for e in back.history][0] == ("move", "li")
    assert set(back.grids.loc[back.grids["locked"], "grid_id"]) == {1, to}
    assert main(["undo", str(path)]) == 0 and main(["undo", str(path)]) == 0
    _same_shapes(gp.read_plan(path), _reread(plan, tmp_path))
    assert main(["undo", str(path), "--redo", "-o", str(tmp_path / "redo.gpkg")]) == 0
    assert int(gp.read_plan(tmp_path / "redo.gpkg").blocks.set_index("atom_id").loc[a, "grid_id"]) == to
    assert main(["move", str(path), "--atoms", "99999", "--to", "new"]) == 2
    assert "99999" in capsys.readouterr().err


def _reread(plan, tmp_path):
    plan.to_file(tmp_path / "orig.gpkg")
    return gp.read_plan(tmp_path / "orig.gpkg")


def test_a_file_held_open_gives_a_clear_message_and_loses_nothing(plan, tmp_path, monkeypatch):
    from gridpart.outputs import io

    path = tmp_path / "grids.gpkg"
    plan.to_file(path)
    before = path.read_bytes()

    def held(*_a, **_k):
        raise PermissionError("[WinError 32] held open")

    monkeypatch.setattr(io.os, "replace", held)
    with pytest.raises(InputError, match="another program holds it open.*Fix: close the file"):
        plan.lock([1]).to_file(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["grids.gpkg"]


def test_diff_lists_the_grids_a_move_touched_by_code(plan, tmp_path, capsys):
    from gridpart.cli import main
    from gridpart.outputs.diff import diff_plans

    g = int(plan.blocks["grid_id"].iloc[3])
    to = _neighbour_of(plan, g)
    hh = float(plan.blocks["households"].iloc[3])
    moved = plan.move(atoms=[int(plan.blocks["atom_id"].iloc[3])], to=to)
    d = diff_plans(plan, moved).set_index("grid_id_b")
    assert set(d.index[d["state"] == "changed"]) == {g, to}
    assert d.loc[g, "households_out"] == hh and d.loc[to, "households_in"] == hh
    assert d.loc[to, "from"] == plan.grids.set_index("grid_id").loc[g, "code"]
    assert (diff_plans(plan, plan)["state"] == "same").all()
    plan.to_file(tmp_path / "a.gpkg")
    moved.to_file(tmp_path / "b.gpkg")
    assert main(["diff", str(tmp_path / "a.gpkg"), str(tmp_path / "b.gpkg"), "--csv", str(tmp_path / "d.csv")]) == 0
    out = capsys.readouterr().out
    assert "2 changed" in out and f"{hh:g} households changed grid" in out
    assert len(pd.read_csv(tmp_path / "d.csv")) == len(plan.grids)
