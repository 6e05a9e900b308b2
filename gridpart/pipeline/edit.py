"""Hand edits of a plan: move atoms, lock grids, undo and redo.

Every function returns a *new* plan and leaves the one it was given as it was.

- :func:`move` puts atoms (given as atoms, street blocks or households) into
  another grid of their community, or a ``"new"`` one.  Only the grids it
  touches get their totals, kind, 四至 (:func:`gridpart.rules.four_limits.four_limits`
  along ``plan.roads``), places and area recomputed; every other grid keeps
  its row as it was.  A grid emptied stays, with 0 households and its code
  reserved, until :func:`drop_empty`.  An edit that breaks contiguity or the
  band is allowed: :func:`gridpart.outputs.validate.validate` says so.
- :func:`lock` / :func:`unlock` set the ``locked`` column of ``plan.grids``.
- :func:`undo` / :func:`redo` move the cursor of ``plan.history``
  (:mod:`gridpart.history`); moves followed by as many undos give back the
  original plan exactly.

Grids are named by id or by code everywhere.  After a move a touched grid
stays ``forced`` only while it still holds an atom above the band (an
indivisible place) or was forced for another reason (a small component, a
dedicated unit or compound grid); a new grid is not forced.  The review's
flags of a touched grid are replaced by the 四至 check's (rerun
:func:`gridpart.outputs.review.review` for the rest).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import InputError, Problems
from gridpart.history import EditLog, HistoryEntry, StepState, default_author, now
from gridpart.model.result import ForcedReason
from gridpart.plan import GridPlan
from gridpart.rules.codes import CODE_DIGITS, carry_grid_codes
from gridpart.rules.four_limits import SIDES, four_limits
from gridpart.rules.kinds import grid_kinds

__all__ = ["NEW", "drop_empty", "grid_ids", "lock", "move", "redo", "undo", "unlock"]

log = logging.getLogger(__name__)

#: ``to="new"``: a new grid, with the next free number and code of the community.
NEW = "new"


# ----------------------------------------------------------------------------------------- grid refs


def grid_ids(plan: GridPlan, refs, *, argument: str = "ids") -> list[int]:
    """The grid ids of ``refs``: grid ids or codes (one, or a list), in the order given.

    Raises
    ------
    InputError
        Naming every id or code the plan does not hold, and the ones it does.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> grid_ids(plan, [1, plan.grids["code"].iloc[1]])
    [1, 2]
    """
    items = [refs] if isinstance(refs, (str, int, np.integer)) else list(refs)
    ids = plan.grids["grid_id"].astype(int).tolist()
    by_code = {str(c): int(g) for c, g in zip(plan.grids["code"], plan.grids["grid_id"]) if isinstance(c, str)}
    out, bad = [], []
    for r in items:
        if isinstance(r, str) and r in by_code:
            out.append(by_code[r])
        elif isinstance(r, (int, np.integer)) and not isinstance(r, bool) and int(r) in ids:
            out.append(int(r))
        elif isinstance(r, str) and r.strip().isdigit() and int(r) in ids:
            out.append(int(r))
        else:
            bad.append(r)
    if bad:
        problems = Problems()
        problems.add(argument, f"no grid of the plan has the id or code {bad}", rows=bad,
                     fix=f"pass grid ids ({ids[0]}…{ids[-1]}) or codes (e.g. {next(iter(by_code), '…')!r}) "
                         "of this plan; see plan.grids[['grid_id', 'code']]")
        problems.raise_if_any()
    return out


# ----------------------------------------------------------------------------------------------- move


def _atoms_to_move(plan: GridPlan, atoms, blocks, households) -> tuple[np.ndarray, tuple, str]:
    """The atom ids the move names, the households that came along, and the argument used."""
    given = {k: v for k, v in (("atoms", atoms), ("blocks", blocks), ("households", households)) if v is not None}
    problems = Problems()
    if len(given) != 1:
        problems.add("atoms, blocks, households", f"give exactly one of the three, got {sorted(given) or 'none'}",
                     fix="e.g. plan.move(atoms=[12, 13], to=7) or plan.move(blocks=[4], to='new')")
        problems.raise_if_any()
    (arg, value), = given.items()
    values = [value] if np.isscalar(value) else list(value)
    table = plan.blocks
    if arg == "atoms":
        known = set(table["atom_id"].astype(int))
        bad = [v for v in values if _as_int(v) not in known]
        chosen = np.array(sorted({i for i in map(_as_int, values) if i is not None}), dtype=np.int64)
        came: tuple = ()
    elif arg == "blocks":
        known = set(table["block_id"].astype(int))
        bad = [v for v in values if _as_int(v) not in known]
        ints = {_as_int(v) for v in values}
        chosen = np.sort(table.loc[table["block_id"].astype(int).isin(ints), "atom_id"].astype(int).to_numpy())
        came = ()
    else:
        hh = plan.households
        bad = [v for v in values if v not in hh.index]
        ok = [v for v in values if v in hh.index]
        aid = pd.array(hh.loc[ok, "atom_id"], dtype="Int64") if ok else pd.array([], dtype="Int64")
        nowhere = [v for v, a in zip(ok, aid) if pd.isna(a)]
        if nowhere:
            problems.add("households", "these households are in no atom (unplaced), so they cannot be moved",
                         rows=nowhere, fix="drop them from the move; see plan.unplaced['reason']")
        chosen = np.array(sorted({int(a) for a in aid if not pd.isna(a)}), dtype=np.int64)
        moving = hh.index[pd.array(hh["atom_id"], dtype="Int64").isin(chosen).fillna(False)]
        came = tuple(v for v in moving if v not in set(ok))
    if bad:
        where = {"atoms": "plan.atoms['atom_id']", "blocks": "plan.atoms['block_id']",
                 "households": "plan.households.index"}[arg]
        problems.add(arg, f"the plan has no {arg} {bad}", rows=bad, fix=f"pass ids from {where}")
    if not len(chosen) and not bad and not problems:
        problems.add(arg, "names no atom", fix="pass at least one id")
    problems.raise_if_any()
    return chosen, came, arg


def _as_int(v) -> int | None:
    try:
        return int(v) if not isinstance(v, bool) and float(v) == int(v) else None
    except (TypeError, ValueError):
        return None


def _target(plan: GridPlan, to, communities: np.ndarray, atom_ids: np.ndarray) -> tuple[int, bool]:
    """The grid id ``to`` names (a new one for ``"new"``) and whether it is new; checks the community."""
    problems = Problems()
    comms = sorted(set(communities))
    if isinstance(to, str) and to.lower() == NEW:
        if len(comms) > 1:
            problems.add("to", f"a new grid belongs to one community, but the atoms are of communities {comms}",
                         rows=atom_ids.tolist(), fix="move the atoms of each community separately")
            problems.raise_if_any()
        # never an id the plan's history has used (a grid dropped keeps its id out of use, as its code)
        used = [int(g) for g in plan.grids["grid_id"]]
        used += [g for e in (plan.edit_log.entries if plan.edit_log else ()) for g in (*e.grids, e.to_grid or 0)]
        return max(used, default=0) + 1, True
    gid = grid_ids(plan, [to], argument="to")[0]
    cid = str(plan.grids.loc[plan.grids["grid_id"] == gid, "community_id"].iloc[0])
    other = atom_ids[communities != cid]
    if len(other):
        problems.add("to", f"grid {to!r} is in community {cid}, but atoms {other.tolist()} are in community "
                     f"{sorted(set(communities[communities != cid]))}", rows=other.tolist(),
                     fix="move them to a grid of their own community, or to='new'")
    problems.raise_if_any()
    return gid, False


def move(plan: GridPlan, *, atoms=None, blocks=None, households=None, to, author: str | None = None,
         note: str = "") -> GridPlan:
    """A new plan with the atoms given moved into grid ``to``.

    Parameters
    ----------
    plan : GridPlan
    atoms, blocks, households
        Exactly one: atom ids (``plan.atoms['atom_id']``), street block ids
        (all their atoms), or household index labels (their whole atoms: the
        other households of those atoms come along, and the history entry
        lists them in ``came_along``).
    to : int, str
        A grid id, a grid code, or ``"new"`` (a new grid of the atoms'
        community with the next free number and code).
    author : str, optional
        Recorded in the history; default ``$USER``.
    note : str
        Recorded in the history.

    Returns
    -------
    GridPlan
        The plan after the move; ``plan.history[-1]`` describes it.

    Raises
    ------
    InputError
        Not exactly one of ``atoms``/``blocks``/``households``; unknown ids;
        ``to`` unknown or a grid of another community.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> a = int(plan.atoms["atom_id"].iloc[0])
    >>> moved = move(plan, atoms=[a], to="new")
    >>> len(moved.grids) == len(plan.grids) + 1, moved.history[-1].action
    (True, 'move')
    >>> undo(moved).grids.equals(plan.grids)
    True
    """
    ids, came, _ = _atoms_to_move(plan, atoms, blocks, households)
    table = plan.blocks
    rows = table["atom_id"].astype(int).isin(ids).to_numpy()
    comm = table.loc[rows, "community_id"].astype(str).to_numpy()
    gid, is_new = _target(plan, to, comm, table.loc[rows, "atom_id"].astype(int).to_numpy())
    before = np.asarray(pd.array(table.loc[rows, "grid_id"], dtype="Int64").fillna(-1), dtype=np.int64)
    moving = before != gid
    if not moving.any():  # every atom is in `to` already: nothing to do, nothing recorded
        log.info("move: atoms %s are in grid %s already", ids.tolist(), gid)
        return dataclasses.replace(plan)
    atom_ids = table.loc[rows, "atom_id"].astype(int).to_numpy()[moving]
    from_grids = sorted({int(g) for g in before[moving] if g >= 0})
    touched = sorted(set(from_grids) | {gid})
    grids = plan.grids
    if is_new:
        grids = _with_new_grid(plan, gid, comm[0])
    new_atoms = _assign(table, atom_ids, gid)
    rows_after = _refresh(plan, grids, new_atoms, touched)
    hh_moved = float(table.loc[rows, "households"].to_numpy(dtype=float)[moving].sum())
    state = StepState(rows_before=plan.grids[plan.grids["grid_id"].isin(touched)].copy(), rows_after=rows_after,
                      atom_ids=atom_ids, grids_before=before[moving], grids_after=np.full(len(atom_ids), gid))
    entry = HistoryEntry(time=now(), author=author or default_author(), action="move",
                         atoms=tuple(int(a) for a in atom_ids), from_grids=tuple(from_grids), to_grid=gid,
                         grids=tuple(touched), households_moved=hh_moved, came_along=tuple(came), note=note,
                         state=state)
    if came:
        log.info("move: households %s came along with the atoms moved", list(came))
    return _apply(plan, state, entry)


def _with_new_grid(plan: GridPlan, gid: int, community_id: str) -> gpd.GeoDataFrame:
    """The grids with an empty row for new grid ``gid`` of ``community_id``, coded with the next free number."""
    grids = plan.grids
    cc = (plan.record.community_codes or {}).get(str(community_id), {})
    ccode = cc.get("code") if isinstance(cc, dict) else None
    codes = [c for c in grids["code"] if isinstance(c, str)]
    width = next((len(c) - CODE_DIGITS for c in codes if len(c) > CODE_DIGITS), 2)
    if ccode is None:  # a plan without community codes: the community's own grid codes tell it
        mine = [c for c, k in zip(grids["code"], grids["community_id"].astype(str))
                if isinstance(c, str) and k == str(community_id) and len(c) > CODE_DIGITS]
        ccode = mine[0][:CODE_DIGITS] if mine else None
    used = [*codes, *(plan.record.retired_codes or ())]
    code = carry_grid_codes(pd.DataFrame({"community_id": [str(community_id)], "previous": [None]}),
                            {str(community_id): ccode} if ccode else {}, width=width, used=used).iloc[0]
    row: dict[str, Any] = {c: pd.NA for c in grids.columns}
    same = grids.loc[grids["community_id"].astype(str) == str(community_id), "community_id"]
    row.update(grid_id=gid, code=code, community_id=same.iloc[0] if len(same) else community_id, forced=False,
               forced_reason="", geometry=shapely.Polygon())
    if "locked" in grids:
        row["locked"] = False
    new = gpd.GeoDataFrame([row], columns=grids.columns, geometry="geometry", crs=grids.crs,
                           index=[int(grids.index.max()) + 1 if len(grids) else 0])
    out = pd.concat([grids, new.astype({c: grids[c].dtype for c in grids.columns
                                        if c in ("grid_id", "forced", "locked")})])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=grids.crs)


def _assign(atoms: gpd.GeoDataFrame, atom_ids: np.ndarray, gids) -> gpd.GeoDataFrame:
    out = atoms.copy()
    where = out["atom_id"].astype(int).to_numpy()
    pos = pd.Series(np.arange(len(out)), index=where).reindex(atom_ids).to_numpy()
    gids = np.broadcast_to(np.asarray(gids), (len(pos),))
    if (gids < 0).any():  # back to no grid (an atom that had none before the move)
        col = pd.array(out["grid_id"], dtype="Int64")
        col[pos] = pd.array(np.where(gids < 0, 0, gids), dtype="Int64")
        col[pos[gids < 0]] = pd.NA
        out["grid_id"] = pd.Series(col, index=out.index).astype(atoms["grid_id"].dtype)
        return out
    col = out["grid_id"].to_numpy().copy()
    col[pos] = gids
    out["grid_id"] = pd.Series(col, index=out.index).astype(atoms["grid_id"].dtype)
    return out


def _refresh(plan: GridPlan, grids: gpd.GeoDataFrame, atoms: gpd.GeoDataFrame, touched: list[int]) -> gpd.GeoDataFrame:
    """The rows of the ``touched`` grids, recomputed from their atoms (totals, area, geometry, kind, 四至, places)."""
    rows = grids[grids["grid_id"].isin(touched)].copy()
    metric = plan.metric_crs
    am = atoms.to_crs(metric)
    gid = np.asarray(pd.array(am["grid_id"], dtype="Int64").fillna(-1), dtype=np.int64)
    mine = am[np.isin(gid, touched)]
    mgid = gid[np.isin(gid, touched)]
    kinds: Any = grid_kinds(mine if "parcel_kind" in mine else mine.assign(parcel_kind=None)) if len(mine) else {}
    geoms = []
    for g in rows["grid_id"].astype(int):
        part = mine[mgid == g]
        geoms.append(_polygonal(shapely.union_all(part.geometry.to_numpy())) if len(part) else shapely.Polygon())
    sel = [np.flatnonzero(mgid == g) for g in rows["grid_id"].astype(int)]
    rows["households"] = [float(mine["households"].to_numpy(dtype=float)[s].sum()) for s in sel]
    if "persons" in rows:
        p = mine["persons"].to_numpy(dtype=float)
        rows["persons"] = [float(np.nansum(p[s])) if np.isfinite(p[s]).any() else
                           (0.0 if not len(s) and not rows["persons"].isna().all() else np.nan) for s in sel]
    rows["n_atoms"] = [len(s) for s in sel]
    rows["area_m2"] = [float(mine["area_m2"].to_numpy(dtype=float)[s].sum()) for s in sel]
    rows["kind"] = [kinds.get(g, "street") for g in rows["grid_id"].astype(int)]
    rows = _forced(plan, rows, mine, mgid)
    gm = gpd.GeoDataFrame(rows.drop(columns="geometry"), geometry=geoms, crs=metric)
    _limits(plan, gm, rows, am)
    rows["places"] = _places(mine, mgid, rows["grid_id"].astype(int))
    rows = rows.set_geometry(gpd.GeoSeries(geoms, index=rows.index, crs=metric).to_crs(grids.crs))
    return rows


def _forced(plan: GridPlan, rows: gpd.GeoDataFrame, mine: pd.DataFrame, mgid: np.ndarray) -> gpd.GeoDataFrame:
    if "forced" not in rows:
        return rows
    band = plan.record.band
    hi = float(band[1]) if band is not None else np.inf
    hh = mine["households"].to_numpy(dtype=float)
    big = {int(g) for g in mgid[hh > hi]}
    reason = rows["forced_reason"].fillna("").astype(str) if "forced_reason" in rows else pd.Series("", rows.index)
    indivisible = reason == ForcedReason.INDIVISIBLE.value
    holds_big = rows["grid_id"].astype(int).isin(big)
    keep = rows["forced"].fillna(False).astype(bool) & (~indivisible | holds_big) & (rows["n_atoms"] > 0)
    rows["forced"] = keep.to_numpy(dtype=bool)
    if "forced_reason" in rows:
        rows["forced_reason"] = np.where(keep, reason, "")
    return rows


def _limits(plan: GridPlan, gm: gpd.GeoDataFrame, rows: gpd.GeoDataFrame, am: gpd.GeoDataFrame) -> None:
    """The 四至 columns of the touched grids (in place on ``rows``); empty for an empty grid."""
    live = ~gm.geometry.is_empty.to_numpy()
    cols = ["limits", "limits_en", *(f"limit_{s}" for s in SIDES)]
    for c in cols:
        if c in rows:
            rows[c] = rows[c].astype(object)
            rows.loc[~live, c] = ""
    flags = np.full(len(rows), "", dtype=object)
    if live.any() and plan.roads is not None and len(plan.roads):
        lim = four_limits(gm[live], plan.roads.to_crs(gm.crs), atoms=am)
        idx = rows.index[live]
        for c in cols:
            if c in rows:
                rows.loc[idx, c] = (lim[c.removeprefix("limit_")] if c.startswith("limit_") else lim[c]).to_numpy()
        loose = lim["limits_loose"].to_numpy(dtype=bool)
        flags[live] = np.where(loose, "limits_loose: " + lim["limits_loose_reason"].astype(str).to_numpy(), "")
    if "flags" in rows:
        rows["flags"] = flags


def _places(mine: pd.DataFrame, mgid: np.ndarray, ids: pd.Series, sep: str = "、") -> list[str]:
    if "parcel_name" not in mine:
        return [""] * len(ids)
    df = pd.DataFrame({"g": mgid, "name": mine["parcel_name"].to_numpy(),
                       "area": mine["area_m2"].to_numpy(dtype=float)})
    df = df[df["name"].notna()]
    by = (df.groupby(["g", "name"])["area"].sum().reset_index()
          .sort_values(["g", "area", "name"], ascending=[True, False, True]).groupby("g")["name"].agg(list))
    return [sep.join(by.get(int(g), [])) for g in ids]


def _polygonal(geom):
    geom = shapely.make_valid(geom)
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(geom)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))])


# ------------------------------------------------------------------------------------- apply / undo


def _put_rows(grids: gpd.GeoDataFrame, remove: pd.Index, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``grids`` with the rows labelled ``remove`` replaced by ``rows`` (in index order)."""
    kept = grids.drop(index=remove)
    if not len(rows):
        return kept
    if not len(kept):
        return rows.sort_index()
    rows = rows.astype({c: kept[c].dtype for c in kept.columns if c in rows and c != kept.geometry.name
                        and rows[c].dtype != kept[c].dtype and not rows[c].isna().all()}, errors="ignore")
    out = pd.concat([kept, rows]).sort_index()
    return gpd.GeoDataFrame(out, geometry=grids.geometry.name, crs=grids.crs)


def _move_households(hh: gpd.GeoDataFrame, atom_ids: np.ndarray, gids: np.ndarray) -> gpd.GeoDataFrame:
    out = hh.copy()
    aid = pd.array(out["atom_id"], dtype="Int64")
    new = pd.Series(gids, index=atom_ids)
    hit = np.asarray(aid.isin(atom_ids).fillna(False), dtype=bool)
    vals = new.reindex(np.asarray(aid[hit], dtype=np.int64)).to_numpy()
    col = out["grid_id"].astype("Int64")
    col.loc[hit] = pd.array(np.where(vals < 0, 0, vals), dtype="Int64")
    col.loc[col.index[hit][vals < 0]] = pd.NA
    out["grid_id"] = col.astype(hh["grid_id"].dtype)
    return out


def _apply(plan: GridPlan, state: StepState, entry: HistoryEntry, *, forward: bool = True,
           edit_log: EditLog | None = None) -> GridPlan:
    """The plan with ``state`` applied (forward) or reverted, and the history given (else ``entry`` appended)."""
    old_rows, new_rows = (state.rows_before, state.rows_after) if forward else (state.rows_after, state.rows_before)
    gids = state.grids_after if forward else state.grids_before
    grids = plan.grids
    if forward and state.added_locked and "locked" not in grids:
        grids = grids.assign(locked=False)
    grids = _put_rows(grids, old_rows.index.intersection(grids.index), new_rows)
    if not forward and state.added_locked and "locked" in grids:
        grids = grids.drop(columns="locked")
    atoms, hh = plan.blocks, plan.households
    if len(state.atom_ids):
        atoms = _assign(atoms, state.atom_ids, gids)
        hh = _move_households(hh, state.atom_ids, gids)
    current = plan.edit_log or EditLog()
    record = plan.record
    if state.records:
        record = state.records[1] if forward else state.records[0]
    return dataclasses.replace(plan, grids=grids, blocks=atoms, households=hh, record=record,
                               edit_log=edit_log if edit_log is not None else current.append(entry))


def undo(plan: GridPlan) -> GridPlan:
    """The plan before its last step in effect; the step stays in the history, marked undone.

    Raises
    ------
    InputError
        When there is no step to undo.
    """
    current = plan.edit_log or EditLog()
    i = current.undo_index()
    if i is None or current.entries[i].state is None:
        if i is None:
            raise InputError(_nothing("undo", "the plan has no step in effect to undo",
                                      "edit the plan first (plan.move, plan.lock), or plan.redo() a step undone"))
        raise InputError(_nothing("undo", f"step {i + 1} ({current.entries[i].action}) was read from a file that "
                                  "does not hold its undo state", "undo it by hand: plan.move the atoms back (the "
                                  "step's atoms and from_grids), or plan.unlock / plan.lock the grids"))
    return _apply(plan, current.entries[i].state, current.entries[i], forward=False, edit_log=current.mark(i, True))


def redo(plan: GridPlan) -> GridPlan:
    """The plan with the first step undone since the last one in effect done again.

    Raises
    ------
    InputError
        When there is no undone step to redo.
    """
    current = plan.edit_log or EditLog()
    i = current.redo_index()
    if i is None or current.entries[i].state is None:
        raise InputError(_nothing("redo", "no undone step to redo", "plan.undo() a step first"))
    return _apply(plan, current.entries[i].state, current.entries[i], forward=True, edit_log=current.mark(i, False))


def _nothing(argument: str, message: str, fix: str):
    problems = Problems()
    problems.add(argument, message, fix=fix)
    return problems.items


# --------------------------------------------------------------------------------- lock / drop_empty


def _set_locked(plan: GridPlan, ids, value: bool, *, author: str | None, note: str) -> GridPlan:
    gids = grid_ids(plan, ids, argument="ids")
    grids = plan.grids
    added = "locked" not in grids
    if added:
        grids = grids.assign(locked=False)
    hit = grids["grid_id"].astype(int).isin(gids)
    after = grids[hit].copy()
    after["locked"] = value
    state = StepState(rows_before=grids[hit].copy(), rows_after=after, atom_ids=np.zeros(0, np.int64),
                   grids_before=np.zeros(0, np.int64), grids_after=np.zeros(0, np.int64), added_locked=added)
    entry = HistoryEntry(time=now(), author=author or default_author(), action="lock" if value else "unlock",
                         grids=tuple(gids), note=note, state=state)
    return _apply(plan, state, entry)


def lock(plan: GridPlan, ids, *, author: str | None = None, note: str = "") -> GridPlan:
    """A new plan with grids ``ids`` (grid ids or codes) locked (``plan.grids['locked']``).

    A hand move into or out of a locked grid is allowed; the lock then holds the new shape.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> locked = lock(plan, [1, 2])
    >>> int(locked.grids["locked"].sum()), "locked" in plan.grids
    (2, False)
    """
    return _set_locked(plan, ids, True, author=author, note=note)


def unlock(plan: GridPlan, ids, *, author: str | None = None, note: str = "") -> GridPlan:
    """A new plan with grids ``ids`` (grid ids or codes) unlocked."""
    return _set_locked(plan, ids, False, author=author, note=note)


def drop_empty(plan: GridPlan, *, author: str | None = None, note: str = "") -> GridPlan:
    """A new plan without its empty grids (no atoms); their codes are retired, never given again."""
    empty = plan.grids["n_atoms"].fillna(0).astype(int).eq(0) if "n_atoms" in plan.grids else \
        plan.grids["households"].fillna(0).eq(0)
    gone = plan.grids[empty]
    codes = [c for c in gone["code"] if isinstance(c, str)]
    retired = tuple(sorted(set(plan.record.retired_codes or ()) | set(codes)))
    records = (plan.record, dataclasses.replace(plan.record, retired_codes=retired)) if codes else ()
    state = StepState(rows_before=gone.copy(), rows_after=gone.iloc[:0].copy(), atom_ids=np.zeros(0, np.int64),
                   grids_before=np.zeros(0, np.int64), grids_after=np.zeros(0, np.int64), records=records)
    entry = HistoryEntry(time=now(), author=author or default_author(), action="drop_empty",
                         grids=tuple(int(g) for g in gone["grid_id"]), note=note, state=state)
    return _apply(plan, state, entry)
