"""Checks of a plan: what a planner must fix (errors) and what deserves a look (warnings).

:func:`validate` returns one row per finding.  The checks are named in
:data:`CHECKS` (the one table; the README lists it):

=====================  ========  ===================================================================
check                  severity  what it finds
=====================  ========  ===================================================================
``pieces``             error     a grid whose atoms form several pieces of the atom graph
``outside_community``  error     a grid holding atoms of another community
``households_lost``    error     household rows in no grid and not unplaced, or in a grid
                                 other than their atom's
``households_twice``   error     household rows listed twice (index repeated, or placed and unplaced)
``duplicate_code``     error     two grids with one code
``empty``              warning   a grid without households (its code stays reserved)
``band``               warning   a grid outside the households band (or the persons band, when
                                 that band is hard); not for grids marked ``forced``
``enclave``            warning   a grid entirely inside one other grid (dedicated unit and
                                 compound grids, whose atoms are all of one kept-apart parcel,
                                 excepted)
``compound_split``     warning   a compound the compound rule keeps apart, spread over more grids
                                 than its households need
``unit_mixed``         warning   a unit kept apart (``units="own"``) sharing a grid with open atoms
=====================  ========  ===================================================================

Contiguity is :func:`gridpart.geometry.graph.labels_contiguous` (as
everywhere); the band is the plan's (``plan.record.band``); which compounds
and units are kept apart is :func:`gridpart.model.parcels.separation_groups`
with the plan's ``units`` and ``compounds`` options.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from gridpart.geometry.graph import labels_contiguous
from gridpart.model.parcels import separation_groups
from gridpart.model.problem import Band

__all__ = ["CHECKS", "PIECES", "OUTSIDE_COMMUNITY", "HOUSEHOLDS_LOST", "HOUSEHOLDS_TWICE", "DUPLICATE_CODE",
           "EMPTY", "BAND", "ENCLAVE", "COMPOUND_SPLIT", "UNIT_MIXED", "FINDING_COLUMNS", "validate"]

PIECES = "pieces"
OUTSIDE_COMMUNITY = "outside_community"
HOUSEHOLDS_LOST = "households_lost"
HOUSEHOLDS_TWICE = "households_twice"
DUPLICATE_CODE = "duplicate_code"
EMPTY = "empty"
BAND = "band"
ENCLAVE = "enclave"
COMPOUND_SPLIT = "compound_split"
UNIT_MIXED = "unit_mixed"

#: check -> (severity, what it finds): the one table of checks.
CHECKS: dict[str, tuple[str, str]] = {
    PIECES: ("error", "a grid whose atoms form several pieces of the atom graph"),
    OUTSIDE_COMMUNITY: ("error", "a grid holding atoms of another community"),
    HOUSEHOLDS_LOST: ("error", "household rows in no grid and not unplaced, or in a grid other than their atom's"),
    HOUSEHOLDS_TWICE: ("error", "household rows listed twice (index repeated, or placed and unplaced)"),
    DUPLICATE_CODE: ("error", "two grids with one code"),
    EMPTY: ("warning", "a grid without households (its code stays reserved)"),
    BAND: ("warning", "a grid outside the households band, or the persons band when that band is hard; "
                      "not for grids marked forced"),
    ENCLAVE: ("warning", "a grid entirely inside one other grid (dedicated unit and compound grids excepted)"),
    COMPOUND_SPLIT: ("warning", "a compound the compound rule keeps apart, spread over more grids than it needs"),
    UNIT_MIXED: ("warning", 'a unit kept apart (units="own") sharing a grid with open atoms'),
}

#: Columns of :func:`validate`'s table.
FINDING_COLUMNS = ("check", "severity", "grid_id", "code", "atom_ids", "message", "geometry")

_SEVERITY_ORDER = {"error": 0, "warning": 1}


def validate(plan) -> gpd.GeoDataFrame:
    """The findings of every check in :data:`CHECKS`, errors first.

    Parameters
    ----------
    plan : GridPlan

    Returns
    -------
    GeoDataFrame
        One row per finding, in the plan's CRS: ``check``, ``severity``
        (``"error"`` / ``"warning"``), ``grid_id`` (NA for a finding on no
        grid), ``code``, ``atom_ids`` (tuple of the atoms concerned),
        ``message`` (what is wrong and what to do) and ``geometry`` (where to
        zoom).  Empty when nothing is found.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> findings = validate(plan)
    >>> int((findings["severity"] == "error").sum())
    0
    """
    rows: list[dict] = []
    grids, atoms = plan.grids, plan.blocks
    rows += _pieces(grids, atoms, plan.edges)
    rows += _outside_community(grids, atoms)
    rows += _households(plan)
    rows += _duplicate_codes(grids)
    rows += _empty(grids)
    rows += _band(grids, plan.record)
    rows += _enclaves(plan)
    rows += _parcels(plan)
    out = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    if len(out):
        out["grid_id"] = out["grid_id"].astype("Int64")
        out = out.assign(_s=out["severity"].map(_SEVERITY_ORDER)).sort_values(
            ["_s", "check", "grid_id"], kind="stable").drop(columns="_s").reset_index(drop=True)
    else:
        out["grid_id"] = pd.array([], dtype="Int64")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=plan.crs)


def _finding(check: str, grid, message: str, geometry, atom_ids=()) -> dict:
    gid = None if grid is None else int(grid["grid_id"])
    code = None if grid is None else grid.get("code")
    return {"check": check, "severity": CHECKS[check][0], "grid_id": gid, "code": code,
            "atom_ids": tuple(int(a) for a in atom_ids), "message": message, "geometry": geometry}


def _name(grid) -> str:
    code = grid.get("code")
    return f"grid {int(grid['grid_id'])}" + (f" ({code})" if isinstance(code, str) and code else "")


def _atoms_of(atoms: pd.DataFrame) -> dict:
    ids = atoms["atom_id"].to_numpy()
    gid = atoms["grid_id"].astype("Int64").array
    placed = ~np.asarray(pd.isna(gid))
    return pd.Series(ids[placed]).groupby(np.asarray(gid[placed], dtype=np.int64)).agg(list).to_dict()


def _pieces(grids, atoms, edges) -> list[dict]:
    gid = atoms["grid_id"].astype("Int64").array
    placed = ~np.asarray(pd.isna(gid))
    if not placed.any():
        return []
    ids = atoms["atom_id"].to_numpy()[placed]
    pos = pd.Series(np.arange(len(ids)), index=ids)
    ab = edges[["a", "b"]].to_numpy()
    keep = np.isin(ab[:, 0], ids) & np.isin(ab[:, 1], ids)
    e = np.column_stack([pos.reindex(ab[keep, 0]).to_numpy(), pos.reindex(ab[keep, 1]).to_numpy()]).astype(np.int64)
    labels, uniq = pd.factorize(np.asarray(gid[placed], dtype=np.int64))
    ok = labels_contiguous(len(ids), e.reshape(-1, 2), labels)
    rows = []
    geoms = atoms.geometry.to_numpy()[placed]
    households = atoms["households"].to_numpy(dtype=float)[placed]
    by_id = grids.set_index("grid_id", drop=False)
    for lab in np.flatnonzero(~ok):
        g = int(uniq[lab])
        if g not in by_id.index:
            continue
        grid = by_id.loc[g]
        members = np.flatnonzero(labels == lab)
        # the smaller pieces are where to look: the atoms outside the main piece
        sub = pd.Series(np.arange(len(members)), index=members)
        inner = np.isin(e[:, 0], members) & np.isin(e[:, 1], members)
        comp = _components(len(members), sub.reindex(e[inner, 0]).to_numpy(), sub.reindex(e[inner, 1]).to_numpy())
        # the main piece holds the most households (then the most area)
        hh = np.bincount(comp, weights=households[members])
        area = np.bincount(comp, weights=shapely.area(geoms[members]))
        main = np.lexsort((-area, -hh))[0]
        stray = members[comp != main]
        n_parts = int(comp.max()) + 1
        rows.append(_finding(
            PIECES, grid, f"{_name(grid)} is in {n_parts} pieces: atoms {sorted(int(a) for a in ids[stray])} "
            "lie apart from the rest. Move them to a neighbouring grid (plan.move) or join the pieces.",
            shapely.union_all(geoms[stray]), ids[stray]))
    return rows


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    g = sp.coo_matrix((np.ones(len(a)), (a.astype(np.int64), b.astype(np.int64))), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _outside_community(grids, atoms) -> list[dict]:
    comm = grids.set_index("grid_id")["community_id"].astype(str)
    gid = atoms["grid_id"].astype("Int64").array
    placed = ~np.asarray(pd.isna(gid))
    a = atoms[placed]
    theirs = comm.reindex(np.asarray(gid[placed], dtype=np.int64)).to_numpy()
    bad = a["community_id"].astype(str).to_numpy() != theirs
    rows = []
    by_id = grids.set_index("grid_id", drop=False)
    for g, part in a[bad].groupby(np.asarray(gid[placed], dtype=np.int64)[bad]):
        if g not in by_id.index:
            continue
        grid = by_id.loc[g]
        others = sorted(part["community_id"].astype(str).unique())
        rows.append(_finding(
            OUTSIDE_COMMUNITY, grid, f"{_name(grid)} of community {grid['community_id']!s} holds atoms "
            f"{sorted(part['atom_id'].astype(int))} of community {', '.join(others)}. Move them to a grid of "
            "their own community.", shapely.union_all(part.geometry.to_numpy()), part["atom_id"]))
    return rows


def _households(plan) -> list[dict]:
    hh, atoms, grids = plan.households, plan.blocks, plan.grids
    rows = []
    gid = pd.array(hh["grid_id"], dtype="Int64")
    atom_grid = pd.Series(pd.array(atoms["grid_id"], dtype="Int64"), index=atoms["atom_id"].to_numpy())
    aid = pd.array(hh["atom_id"], dtype="Int64") if "atom_id" in hh else pd.array([pd.NA] * len(hh), dtype="Int64")
    expected = pd.array(atom_grid.reindex(np.asarray(aid.fillna(-1), dtype=np.int64)).to_numpy(), dtype="Int64")
    unplaced = set(plan.unplaced.index)
    known = set(grids["grid_id"].astype(int))
    na = np.asarray(pd.isna(gid))
    lost = na & ~hh.index.isin(list(unplaced))
    gi = np.asarray(gid.fillna(-1), dtype=np.int64)
    ex = np.asarray(expected.fillna(-1), dtype=np.int64)
    lost |= ~na & ~np.isin(gi, list(known))
    if "atom_id" in hh:  # in a grid other than its atom's
        lost |= ~na & (gi != ex)
    if lost.any():
        idx = hh.index[lost]
        rows.append(_finding(
            HOUSEHOLDS_LOST, None, f"{int(lost.sum())} household rows (index {list(idx[:5])}"
            f"{' …' if len(idx) > 5 else ''}) are in no grid of the plan or in a grid other than their atom's. "
            "Re-read the plan from its file, or move their atoms again with plan.move.",
            shapely.union_all(hh.geometry.to_numpy()[lost]), sorted(set(aid[lost].dropna().astype(int)))))
    twice = hh.index.duplicated(keep=False) | (~na & hh.index.isin(list(unplaced)))
    if twice.any():
        idx = hh.index[twice].unique()
        rows.append(_finding(
            HOUSEHOLDS_TWICE, None, f"{len(idx)} household rows (index {list(idx[:5])}) are listed twice. "
            "Keep one row per household: drop the repeated rows, or remove them from plan.unplaced.",
            shapely.union_all(hh.geometry.to_numpy()[twice])))
    return rows


def _duplicate_codes(grids) -> list[dict]:
    code = grids["code"]
    dup = code.notna() & code.duplicated(keep=False)
    rows = []
    for c, part in grids[dup].groupby("code"):
        ids = part["grid_id"].astype(int).tolist()
        for _, grid in part.iterrows():
            rows.append(_finding(DUPLICATE_CODE, grid, f"code {c} is held by grids {ids}. Give all but one a new "
                                 "code (gp.recode, or move their atoms to a 'new' grid).", grid.geometry))
    return rows


def _empty(grids) -> list[dict]:
    hh = grids["households"].fillna(0).to_numpy(dtype=float)
    return [_finding(EMPTY, grid, f"{_name(grid)} holds no households; its code stays reserved. Move atoms into "
                     "it, or drop it with plan.drop_empty().", grid.geometry)
            for (_, grid), h in zip(grids.iterrows(), hh) if h <= 0]


def _band(grids, record) -> list[dict]:
    if record.band is None:
        return []
    lo, hi = (float(v) for v in record.band)
    p_band = record.persons_band if (record.target is not None and record.target.persons_hard) else None
    rows = []
    forced = grids["forced"].fillna(False).to_numpy(dtype=bool) if "forced" in grids else np.zeros(len(grids), bool)
    for (_, grid), f in zip(grids.iterrows(), forced):
        h = float(grid["households"] or 0)
        if f or h <= 0:
            continue
        why = []
        if h < math.ceil(lo - 1e-9):
            why.append(f"{h:g} households, below the band's {lo:g}")
        elif h > math.floor(hi + 1e-9):
            why.append(f"{h:g} households, above the band's {hi:g}")
        p = grid.get("persons")
        if p_band is not None and p is not None and not pd.isna(p):
            plo, phi = (float(v) for v in p_band)
            if p < plo or p > phi:
                why.append(f"{float(p):g} persons, outside the hard persons band {plo:g}–{phi:g}")
        if why:
            rows.append(_finding(BAND, grid, f"{_name(grid)} has {'; '.join(why)}. Move atoms between it and "
                                 "a neighbour until both are in the band.", grid.geometry))
    return rows


def _enclaves(plan) -> list[dict]:
    grids = plan.grids
    arr = grids.geometry.to_numpy()
    live = grids[~shapely.is_missing(arr) & ~shapely.is_empty(arr)]
    if len(live) < 2:
        return []
    m = live.to_crs(plan.metric_crs) if live.crs is not None and live.crs.is_geographic else live
    geoms = shapely.make_valid(m.geometry.to_numpy())
    parts, owner = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    ext, owner = shapely.get_exterior_ring(parts[poly]), owner[poly]
    olen = np.bincount(owner, weights=shapely.length(ext), minlength=len(geoms))
    k, b = shapely.STRtree(geoms).query(ext, predicate="intersects")
    a = owner[k]
    other = a != b
    k, a, b = k[other], a[other], b[other]
    if not len(a):
        return []
    near = shapely.buffer(geoms, 0.5)
    shared = shapely.length(shapely.intersection(ext[k], near[b]))
    by_pair = pd.Series(shared).groupby([a, b]).sum()
    pa = by_pair.index.get_level_values(0).to_numpy()
    pb = by_pair.index.get_level_values(1).to_numpy()
    ok = (by_pair.to_numpy() >= 0.99 * olen[pa]) & (olen[pa] > 0)
    rows = []
    dedicated = _dedicated_grids(plan)
    for i, j in zip(pa[ok], pb[ok]):
        grid, host = live.iloc[i], live.iloc[j]
        if int(grid["grid_id"]) in dedicated:  # a dedicated grid of a unit or compound (专属网格)
            continue
        rows.append(_finding(ENCLAVE, grid, f"{_name(grid)} lies entirely inside {_name(host)}. Merge it into "
                             f"{_name(host)} or reach it out to another neighbour.", grid.geometry))
    return rows


def _groups(plan) -> np.ndarray | None:
    """The kept-apart group of every atom (:func:`gridpart.model.parcels.separation_groups`), None without parcels."""
    atoms, record = plan.blocks, plan.record
    if "parcel_kind" not in atoms or record.band is None or not atoms["parcel_kind"].notna().any():
        return None
    lo, hi = (float(v) for v in record.band)
    return separation_groups(atoms, Band(lo, hi, (lo + hi) / 2), units=record.units or "own",
                             compounds=record.compounds or "share", edges=plan.edges)


def _dedicated_grids(plan) -> set[int]:
    """Grids whose atoms all belong to one kept-apart unit or compound (专属网格)."""
    group = _groups(plan)
    if group is None:
        return set()
    gid = np.asarray(pd.array(plan.blocks["grid_id"], dtype="Int64").fillna(-1), dtype=np.int64)
    df = pd.DataFrame({"grid": gid, "group": group})[gid >= 0]
    per = df.groupby("grid")["group"].agg(["min", "max"])
    whole = per.index[(per["min"] >= 0) & (per["min"] == per["max"])]
    return {int(g) for g in whole}


def _parcels(plan) -> list[dict]:
    atoms, record = plan.blocks, plan.record
    group = _groups(plan)
    if group is None:
        return []
    hi = float(record.band[1])
    units = record.units or "own"
    kind = atoms["parcel_kind"].to_numpy()
    gid = np.asarray(pd.array(atoms["grid_id"], dtype="Int64").fillna(-1), dtype=np.int64)
    by_id = plan.grids.set_index("grid_id", drop=False)
    rows = []
    comp = (group >= 0) & (kind == "compound") & (gid >= 0)
    df = pd.DataFrame({"group": group[comp], "comm": atoms["community_id"].astype(str).to_numpy()[comp],
                       "grid": gid[comp], "hh": atoms["households"].to_numpy(dtype=float)[comp],
                       "atom": atoms["atom_id"].to_numpy()[comp], "name": atoms["parcel_name"].to_numpy()[comp]
                       if "parcel_name" in atoms else None})
    for (_, _), part in df.groupby(["group", "comm"]):
        need = max(1, math.ceil(part["hh"].sum() / hi - 1e-9))
        held = sorted(part["grid"].unique())
        if len(held) > need:
            name = part["name"].dropna().iloc[0] if part["name"].notna().any() else f"compound {part['group'].iloc[0]}"
            grid = by_id.loc[held[0]]
            rows.append(_finding(
                COMPOUND_SPLIT, grid, f"{name} ({part['hh'].sum():g} households) is spread over grids "
                f"{[int(g) for g in held]} but needs {need}. Move its atoms into {need} grid"
                f"{'s' if need > 1 else ''}.", shapely.union_all(atoms.geometry.to_numpy()[comp][
                    np.isin(df['atom'], part['atom'])]), part["atom"]))
    if units == "own":
        unit = (group >= 0) & (kind == "unit") & (gid >= 0)
        open_ = (group < 0) & (gid >= 0) & (atoms["households"].to_numpy(dtype=float) > 0)
        for g in sorted(set(gid[unit]) & set(gid[open_])):
            grid = by_id.loc[g]
            mixed = open_ & (gid == g)
            rows.append(_finding(
                UNIT_MIXED, grid, f"{_name(grid)} holds a unit together with open atoms "
                f"{sorted(int(a) for a in atoms['atom_id'].to_numpy()[mixed])} although units='own'. Move the "
                "open atoms to a neighbouring grid.", grid.geometry, atoms["atom_id"].to_numpy()[mixed]))
    return rows
