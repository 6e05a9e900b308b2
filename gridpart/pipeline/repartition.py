"""Re-partitioning with as few changes as possible after communities merge or move.

When communities merge or their boundaries move, the old grids no longer
nest in the new communities, and some fall out of the band.
:func:`repartition` draws a new plan from the old grids, the (new) community
boundaries, the roads and the households, in three priorities:

1. every grid is **valid** again: inside one community, contiguous, within
   the band where any plan can be (DESIGN §3 "forced out") -- the households
   band first, then the persons band when it is hard
   (``gp.Target(..., persons_hard=True)``);
2. as few **households as possible change grid**;
3. then grids are **balanced and compact** (size deviation, persons
   deviation when a persons band is given, and cut cost by road class, as
   :func:`gridpart.partition` counts them).

Persons follow :func:`gridpart.partition`: a soft persons band (the
default) only adds the persons deviation cost of
:func:`gridpart.solvers.cpsat.solve_window` to the balance in step 3, so it
never makes a grid invalid nor moves a household on its own; grids left
outside it are counted in ``plan.record.persons_out_of_band`` and named
in a logged warning.  A hard persons band is part of validity, hard where
feasible: a grid out of it is broken and repaired, and the repair puts as
many grids in it as it can.  Two orders differ from ``solve_window``, where
both bands weigh the same: grids out of the households band come before
grids out of the persons band (a repair can empty a grid, where partition
keeps the count the households ask for, and would otherwise merge grids out
of the households band to bring their persons in); and persons outside the
band rank below the households moved (where the band cannot hold, hundreds
of households would otherwise move to bring a grid a few persons nearer).

How: the old plan is mapped onto the new atoms (each household falls in the
old grid that holds its point; each atom takes the old grid of most of its
households, else of most of its area).  Per community and component, the old
grids cut into pieces by the new boundaries are the starting labels.  Grids
still valid are kept exactly as they were; the rest (pieces of cut grids,
grids out of the band, atoms no old grid covered) are re-solved by a CP-SAT
model whose objective is lexicographic: grids out of the band, then
households outside it (then, with a hard persons band, grids out of that
band), then households moved away from their old grid, then (in a second
solve that keeps the first optimum; persons outside a hard band first)
deviation and cut cost.  If
that leaves a grid out of the band that need not be, the window widens by
one ring of neighbouring valid grids at a time.  ``locked`` grids never take
part.

The result is a :class:`~gridpart.plan.GridPlan` whose grids keep their old
``grid_id`` where they carry on an old grid (new grids get new ids above the
old ones) and whose ``changes`` (:class:`Changes`) say, per old grid, what
became of it and, per household, where it went.

Codes are stable (DESIGN §4): communities and grids keep their codes, given
or generated; a merged or new community gets the next free code, a new grid
the next free number in its community, and no code is ever reused
(:func:`gridpart.rules.codes.carry_community_codes`,
:func:`gridpart.rules.codes.carry_grid_codes`; ``params["retired_codes"]`` keeps the
codes that went out of use, so later repartitions skip them too).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from ortools.sat.python import cp_model
from scipy.sparse.csgraph import connected_components

from gridpart.errors import Problems
from gridpart.inputs.schema import read_layer
from gridpart.model.problem import DEVIATION_COST, INNER_COST, PERSONS_DEVIATION_COST, Band, SubProblem, grid_count
from gridpart.model.result import CP_STATUS, SOLVED, STATUS_RANK, Status, SubResult
from gridpart.outputs.io import read_record
from gridpart.pipeline.partition import partition
from gridpart.plan import Changes, GridPlan
from gridpart.record import RepartitionRecord, RunRecord
from gridpart.rules.codes import CODE_DIGITS, carry_community_codes, carry_grid_codes
from gridpart.solvers.cpsat import WindowModel, solve_window, window_solver
from gridpart.solvers.seed import seed_plan

__all__ = ["repartition", "Changes", "grid_mates_kept", "recode_grids", "read_old_grids", "FATES"]

log = logging.getLogger(__name__)

#: What can become of an old grid (``Changes.grids["fate"]``).
FATES = ("kept", "re-coded", "resized", "split", "merged", "dissolved")


METHOD_KEPT = "repartition: old grids kept (all still valid)"
METHOD_REPAIR = ("repartition: minimal-change repair (CP-SAT windows, rooted-order contiguity; objective: "
                 "out-of-band grids, excess, households moved, then deviation and cut cost; the status "
                 "table's objective is the households moved)")


# --------------------------------------------------------------------------- result


def grid_mates_kept(old, new, weights=None) -> np.ndarray:
    """Which households keep their grid-mates: a label-free measure of change.

    An old grid and a new grid *match* when each is the other's largest
    overlap (in households); a household keeps its grid-mates when its old
    grid and its new grid match.  An unchanged grid keeps all its households;
    a grid split in two halves keeps one half; two grids merged keep the
    larger.

    Parameters
    ----------
    old, new : array-like
        Old and new grid per household (NA: none; such households do not keep).
    weights : array-like, optional
        Households per row (default 1).

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> grid_mates_kept([1, 1, 2, 2, 2], [7, 7, 7, 8, 8]).tolist()
    [True, True, False, True, True]
    """
    old = pd.array(old, dtype="Int64")
    new = pd.array(new, dtype="Int64")
    w = np.ones(len(old)) if weights is None else np.asarray(weights, dtype=float)
    ok = ~(pd.isna(old) | pd.isna(new))
    out = np.zeros(len(old), dtype=bool)
    if not ok.any():
        return out
    df = pd.DataFrame({"old": np.asarray(old[ok], dtype=np.int64), "new": np.asarray(new[ok], dtype=np.int64),
                       "w": w[ok]})
    flow = df.groupby(["old", "new"])["w"].sum().reset_index()
    # largest overlap each way; ties go to the smaller id (sorted, first kept)
    best_new = flow.sort_values(["old", "w", "new"], ascending=[True, False, True]).drop_duplicates("old")
    best_old = flow.sort_values(["new", "w", "old"], ascending=[True, False, True]).drop_duplicates("new")
    mutual = best_new.merge(best_old, on=["old", "new"])[["old", "new"]]
    key = pd.MultiIndex.from_frame(df[["old", "new"]])
    out[np.flatnonzero(ok)] = key.isin(pd.MultiIndex.from_frame(mutual))
    return out


# --------------------------------------------------------------------------- inputs


def read_old_grids(old, *, problems: Problems | None = None) -> gpd.GeoDataFrame | None:
    """The old plan's grids from a GridPlan, a GeoDataFrame or a file.

    A file written by :meth:`GridPlan.to_file` is read by its ``grids`` layer;
    any other file GDAL reads must hold the grids (``grid_id``, polygons).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"grid_id": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=3857)
    >>> len(read_old_grids(g))
    1
    """
    own = problems is None
    problems = Problems() if problems is None else problems
    grids = None
    if isinstance(old, GridPlan):
        grids = old.grids
    elif isinstance(old, gpd.GeoDataFrame):
        grids = old
    elif isinstance(old, (str, os.PathLike)):
        if not os.path.exists(old):
            problems.add("old_grids", f"no file at {str(old)!r}", fix="pass the old plan's GeoPackage or its grids")
        else:
            import pyogrio

            layers = {row[0] for row in pyogrio.list_layers(old)}
            grids = gpd.read_file(old, layer="grids" if "grids" in layers else None)
    else:
        problems.add("old_grids", f"must be a GridPlan, a GeoDataFrame or a path, got {type(old).__name__}",
                     fix="pass plan.grids or the file written by plan.to_file()")
    if grids is not None:
        if "grid_id" not in grids.columns:
            problems.add("old_grids", f"has no 'grid_id' column (columns: {list(grids.columns)[:8]})",
                         fix="pass the grids of a gridpart plan, or add a unique integer 'grid_id'")
        else:
            ids = pd.to_numeric(grids["grid_id"], errors="coerce")
            bad = ids.isna() | (ids != ids.round())
            if bad.any():
                problems.add("old_grids['grid_id']", "must be integers", rows=grids.index[bad],
                             fix="give every old grid an integer id")
            dup = ids.duplicated(keep=False) & ~bad
            if dup.any():
                problems.add("old_grids['grid_id']", "must be unique", rows=grids.index[dup],
                             fix="give every old grid its own id")
        if grids.crs is None:
            problems.add("old_grids", "has no CRS", fix="set it with old_grids.set_crs(...)", crs=True)
        types = shapely.get_type_id(grids.geometry.values)
        poly = np.isin(types, (3, 6))
        if not poly.all():
            problems.add("old_grids", "must be Polygons or MultiPolygons", rows=grids.index[~poly],
                         fix="drop the other geometries")
    if own:
        problems.raise_if_any()
    if grids is None or problems:
        return None
    grids = grids.copy()
    grids["grid_id"] = pd.to_numeric(grids["grid_id"]).astype(np.int64)
    return grids


# --------------------------------------------------------------------------- the repair


def _components(n: int, edges: np.ndarray, keep: np.ndarray) -> np.ndarray:
    e = edges[keep]
    g = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _persons_hard(sub: SubProblem) -> bool:
    """The persons band counts like the households band here (``persons_hard``)
    and some plan could meet it: the component holds at least its lower limit."""
    b = sub.band
    return bool(sub.has_persons and b.persons_hard
                and float(np.round(sub.persons).sum()) >= math.ceil(cast(float, b.persons_lo) - 1e-9))


def _out_of_band(sub: SubProblem, labels: np.ndarray) -> np.ndarray:
    """Per label 0..max: out of the band although some plan could avoid it.

    Households always count; persons count too when the band is hard for
    them (``Target(..., persons_hard=True)``): a grid out of the persons band
    is out, except above it when it holds one atom that alone exceeds the
    persons band, and never when the component's persons fall short of the
    band altogether (no plan can help it then).

    Examples
    --------
    >>> import dataclasses
    >>> from gridpart.model.problem import Band
    >>> from gridpart.testing import grid_subproblem
    >>> sub = grid_subproblem(1, 4, k=2)  # four atoms of 100 households
    >>> _out_of_band(sub, np.array([0, 0, 1, 1])).tolist()
    [False, False]
    >>> _out_of_band(sub, np.array([0, 0, 0, 1])).tolist()
    [True, True]
    >>> hard = Band(lo=150, hi=250, centre=200, persons_lo=400, persons_hi=600, persons_centre=500,
    ...             persons_hard=True)
    >>> sub = dataclasses.replace(sub, band=hard, persons=np.array([300.0, 300, 100, 100]))
    >>> _out_of_band(sub, np.array([0, 0, 1, 1])).tolist()  # 600 and 200 persons
    [False, True]
    """
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, weights=sub.weight, minlength=k)
    used = np.bincount(labels, minlength=k) > 0
    b = sub.band
    out = used & ((sizes < math.ceil(b.lo - 1e-9)) | (sizes > math.floor(b.hi + 1e-9)))
    if _persons_hard(sub):
        assert b.persons_lo is not None and b.persons_hi is not None  # a persons band
        p = np.round(sub.persons)
        psizes = np.bincount(labels, weights=p, minlength=k)
        p_heavy = np.zeros(k, bool)
        p_heavy[labels[p > math.floor(b.persons_hi + 1e-9)]] = True
        out |= used & ((psizes < math.ceil(b.persons_lo - 1e-9))
                       | ((psizes > math.floor(b.persons_hi + 1e-9)) & ~p_heavy))
    heavy = np.zeros(k, bool)
    heavy[labels[sub.forced]] = True
    out &= ~heavy
    if sub.total < b.lo:  # one grid, out of the band whatever the plan
        out[:] = used.sum() > 1
    return out


def _split_count(sub: SubProblem, idx: np.ndarray) -> int:
    """Grids for the atoms ``idx`` of one broken grid: :func:`grid_count` for its
    households; with a hard persons band, moved to the nearest count that can
    also put its persons in the band, if some count serves both bands.

    Examples
    --------
    >>> import dataclasses
    >>> from gridpart.model.problem import Band
    >>> from gridpart.testing import grid_subproblem
    >>> sub = grid_subproblem(1, 9, k=3, households=100, target=300, tolerance=0.35)
    >>> int(_split_count(sub, np.arange(9)))  # 900 households: 3 grids of 300
    3
    >>> hard = Band(lo=195, hi=405, centre=300, persons_lo=1100, persons_hi=1500, persons_centre=1300,
    ...             persons_hard=True)
    >>> sub = dataclasses.replace(sub, band=hard, persons=np.full(9, 600.0))
    >>> int(_split_count(sub, np.arange(9)))  # 5400 persons: 4 grids of 225 households, 1350 persons
    4
    """
    b = sub.band
    w = sub.weight[idx]
    forced = np.flatnonzero(w > b.hi)
    k = grid_count(float(w.sum()), b, (len(forced), float(w[forced].sum())))
    if len(forced) or not (sub.has_persons and b.persons_hard):
        return k
    assert b.persons_lo is not None and b.persons_hi is not None  # has_persons
    total, ptotal = float(w.sum()), float(np.round(sub.persons[idx]).sum())
    lo_k = max(math.ceil(total / b.hi), math.ceil(ptotal / b.persons_hi), 1)
    hi_k = min(math.floor(total / b.lo), math.floor(ptotal / b.persons_lo))
    return k if lo_k > hi_k else min(max(k, lo_k), hi_k)


@dataclass
class _Window:
    labels: np.ndarray
    status: Status
    objective: float
    moved: float


@dataclass(frozen=True)
class _Weights:
    """The repair model's dominating weights and the band in integers."""

    per_grid: int
    per_hh: int
    per_pgrid: int = 0
    per_person: int = 0


def _repair_weights(sub: SubProblem, wm: WindowModel, total: int, lo: int, hi: int, centre: int,
                    ptotal: int, pcentre: int) -> _Weights:
    """Grids out of the households band, then households outside it, (with a hard
    persons band, grids out of that band,) then moves: each outweighs the rest."""
    per_hh = total + 1
    per_grid = per_hh * (total + hi + 1)
    if not _persons_hard(sub):
        return _Weights(per_grid, per_hh)
    K = wm.k
    per_pgrid = total + 1
    per_hh = per_pgrid * (K + 1)
    per_grid = per_hh * (total + K * lo + 1)
    # persons outside the band come first in phase 2 (after the moves: never a move for a person)
    per_person = (int((DEVIATION_COST + INNER_COST) * (total + K * centre))
                  + int(PERSONS_DEVIATION_COST) * (ptotal + K * pcentre) + int(np.abs(wm.costs).sum()) + 1)
    return _Weights(per_grid, per_hh, per_pgrid, per_person)


def _repair_persons(wm: WindowModel, li: int, p: np.ndarray, wt: _Weights, phase1: list, phase2: list) -> None:
    """Persons terms of label ``li``: a deviation cost always; with a hard persons band,
    out of it in phase 1 (after the households band) and persons outside it in phase 2."""
    model, b = wm.model, wm.sub.band
    assert b.persons_lo is not None and b.persons_hi is not None and b.persons_centre is not None  # a persons band
    used = wm.x[int(wm.roots[li]), li]
    ptotal = int(p.sum())
    plo, phi = math.ceil(b.persons_lo - 1e-9), math.floor(b.persons_hi + 1e-9)
    pcentre = int(round(b.persons_centre))
    psize = wm.add_sum(f"psize{li}", li, p, 0, ptotal)
    pdev = model.new_int_var(0, ptotal + pcentre, f"pdev{li}")
    model.add(pdev >= psize - pcentre)
    model.add(pdev >= pcentre - psize).only_enforce_if(used)
    phase2.append(int(PERSONS_DEVIATION_COST) * pdev)
    if _persons_hard(wm.sub):  # an atom alone above the persons band lifts its grid's cap to its own persons
        pcap = phi + sum(int(p[i] - phi) * wm.x[i, li] for i in wm.members(li) if p[i] > phi)
        pexc = model.new_int_var(0, ptotal + plo, f"pexc{li}")
        model.add(pexc >= psize - pcap)
        model.add(pexc >= plo - psize).only_enforce_if(used)
        pout = model.new_bool_var(f"pout{li}")
        model.add(pexc == 0).only_enforce_if(pout.Not())
        phase1.append(wt.per_pgrid * pout)
        phase2.append(wt.per_person * pexc)


def _repair_band(wm: WindowModel, li: int, w: np.ndarray, fw: np.ndarray, wt: _Weights, phase1: list,
                 phase2: list) -> None:
    """Households terms of label ``li``: out of the band and excess households in phase 1,
    deviation and the ±10 % surcharge in phase 2; a grid may empty, and one rooted on an
    atom above the band is exempt from it."""
    model, sub = wm.model, wm.sub
    b = sub.band
    total = int(w.sum())
    lo, hi, centre = math.ceil(b.lo - 1e-9), math.floor(b.hi + 1e-9), int(round(b.centre))
    inner_lo, inner_hi = sub.inner_band()
    r = int(wm.roots[li])
    used = wm.x[r, li]
    heavy = [wm.x[i, li] for i in wm.members(li) if fw[i]]
    if len(heavy) > 1:
        model.add(sum(heavy) <= 1)
    size = wm.add_sum(f"size{li}", li, w, 0, total)
    exempt = bool(fw[r])
    cap = max(hi, int(w[r])) if exempt else hi
    exc = model.new_int_var(0, total, f"exc{li}")
    model.add(exc >= size - cap)
    if not exempt:
        model.add(exc >= lo - size).only_enforce_if(used)
    out = model.new_bool_var(f"out{li}")
    model.add(exc == 0).only_enforce_if(out.Not())
    if sub.total < b.lo:  # one grid, out of the band whatever the plan
        model.add(out == used)
    phase1 += [wt.per_grid * out, wt.per_hh * exc]
    dev = model.new_int_var(0, total + centre, f"dev{li}")
    model.add(dev >= size - centre)
    model.add(dev >= centre - size).only_enforce_if(used)
    phase2.append(int(DEVIATION_COST) * dev)
    if not exempt:  # households beyond ±10 % of the target pay more (as in partition)
        far = model.new_int_var(0, total, f"far{li}")
        model.add(far >= size - inner_hi)
        model.add(far >= inner_lo - size).only_enforce_if(used)
        phase2.append(int(INNER_COST) * far)


def _repair_model(sub: SubProblem, labels: np.ndarray, window: np.ndarray, max_pairs: int) -> WindowModel:
    """The shared window model with the repair's assignment: small windows may take any
    label, larger ones labels within two touching steps (one for the largest), pairs
    no closer neighbour can ever support dropped; each atom in one grid."""
    wm = WindowModel(sub, labels, window)
    m, K = wm.m, wm.k
    touch = wm.touching()
    # small windows: any label reachable; large ones: labels within two steps
    reach = touch if m * K > max_pairs else (touch.astype(int) @ touch.astype(int) > 0) if K > 1 else touch
    if m * K <= max_pairs // 4:
        reach = np.ones((K, K), bool)
    wm.add_assignment(reach[wm.cur] & np.isfinite(wm.dist.T))
    wm.drop_unreachable()
    wm.add_exactly_one()
    return wm


def _solve_window(sub: SubProblem, labels: np.ndarray, owner: np.ndarray, window: np.ndarray,
                  stay: dict[tuple[int, int], int], *, seed: int, deterministic_time: float,
                  time_limit: float, max_pairs: int = 8000) -> _Window:
    """Re-solve the labels of ``window`` (local atoms, whole labels) with the move-aware model:
    :class:`~gridpart.solvers.cpsat.WindowModel` with the repair's band terms and its moves."""
    wm = _repair_model(sub, labels, window, max_pairs)
    W, L, x, model = wm.atoms, wm.grids, wm.x, wm.model
    ga = sub.atoms[W]  # global atom ids: ``stay`` is keyed by them
    w = sub.weight[W].astype(np.int64)
    total = int(w.sum())
    forced = np.zeros(sub.n, bool)
    forced[sub.forced] = True
    b = sub.band
    # persons (as solve_window): a deviation cost always; with persons_hard,
    # grids out of the persons band count right after the households band and
    # before the moves, and persons outside it first in phase 2.  Unlike
    # solve_window, the two bands do not weigh the same: a repair can empty a
    # grid (partition keeps the count the households ask for), and would merge
    # grids out of the households band to bring their persons into theirs; and
    # persons outside the band do not outweigh moves: where the band cannot
    # hold, hundreds of households would move to bring a grid a few persons nearer
    p = np.round(sub.persons[W]).astype(np.int64) if sub.has_persons else None
    wt = _repair_weights(sub, wm, total, math.ceil(b.lo - 1e-9), math.floor(b.hi + 1e-9), int(round(b.centre)),
                         int(p.sum()) if p is not None else 0,
                         int(round(cast(float, b.persons_centre))) if p is not None else 0)
    phase1: list[Any] = []
    phase2: list[Any] = []
    for li in range(wm.k):
        wm.add_contiguity(li, optional=True)
        _repair_band(wm, li, w, forced[W], wt, phase1, phase2)
        if p is not None:
            _repair_persons(wm, li, p, wt, phase1, phase2)
        own = int(owner[L[li]])
        if own >= 0:  # the moves: households staying with their old grid
            gains = [(stay.get((int(ga[i]), own), 0), x[i, li]) for i in wm.members(li)]
            phase1 += [-s * v for s, v in gains if s]
    phase2 += wm.cut_terms()
    wm.hint(wm.cur)

    def run(budget: float) -> tuple[Status, cp_model.CpSolver]:
        solver = window_solver(seed=seed, deterministic_time=budget, time_limit=max(time_limit, 0.5))
        return CP_STATUS.get(solver.solve(model), Status.UNKNOWN), solver

    def labels_from(solver: cp_model.CpSolver) -> np.ndarray:
        new = labels.copy()
        new[W] = L[wm.chosen(solver)]
        return new

    obj1 = sum(phase1)
    model.minimize(obj1)
    status1, solver = run(deterministic_time)
    if status1 not in SOLVED:
        return _Window(labels, status1, float("nan"), float("nan"))
    best1 = int(round(solver.objective_value))
    first = labels_from(solver)
    # phase 2: balance and compactness without giving up any of phase 1
    model.clear_hints()
    wm.hint(wm.chosen(solver))
    model.add(obj1 <= best1)
    model.minimize(sum(phase2))
    status2, solver2 = run(deterministic_time / 2)
    new = labels_from(solver2) if status2 in SOLVED else first
    status = status1 if STATUS_RANK[status1] >= STATUS_RANK.get(status2, 4) else status2
    moved_atoms = sum(int(w[i]) - stay.get((int(ga[i]), int(owner[new[W[i]]])), 0)
                      for i in range(wm.m) if w[i])
    return _Window(new, status, float(best1), float(moved_atoms))


class _Repair:
    """State shared by the ``on_atoms`` hook and the strategy :func:`partition` calls."""

    def __init__(self, old_grids: gpd.GeoDataFrame, *, locked: set[int], rebalance: bool,
                 window_time: float, max_rings: int, scope: str = "changed",
                 old_band: tuple[float, float] | None = None, old_persons: tuple | None = None):
        self.old_grids = old_grids
        self.old_community = (pd.Series(old_grids["community_id"].astype(str).to_numpy(), index=old_grids["grid_id"])
                              if "community_id" in old_grids.columns else pd.Series(dtype=object))
        self.locked = locked
        self.rebalance = rebalance
        self.window_time = window_time
        self.max_rings = max_rings
        self.scope = scope
        self.old_band = old_band
        self.old_persons = old_persons
        self.band: Band | None = None  # the band of the sub-problems, once one is solved

    # -- called once by partition with the atoms in the working CRS
    def on_atoms(self, atoms: gpd.GeoDataFrame, edges: pd.DataFrame, hh: gpd.GeoDataFrame) -> None:
        n = len(atoms)
        if not np.array_equal(atoms["atom_id"].to_numpy(), np.arange(n)):
            raise AssertionError("atoms are expected in atom_id order")
        old = self.old_grids.to_crs(atoms.crs)
        gid = old["grid_id"].to_numpy(np.int64)
        ogeom = shapely.make_valid(old.geometry.values)
        tree = shapely.STRtree(ogeom)
        # atom -> old grid holding most of its area
        ag = atoms.geometry.values
        a, g = tree.query(ag, predicate="intersects")
        area = shapely.area(shapely.intersection(ag[a], ogeom[g])) if len(a) else np.zeros(0)
        by_area = (pd.DataFrame({"a": a, "g": gid[g], "area": area})
                   .sort_values(["a", "area", "g"], ascending=[True, False, True]).drop_duplicates("a"))
        ref = np.full(n, -1, dtype=np.int64)
        big = by_area["area"].to_numpy() > 0.5 * shapely.area(ag[by_area["a"].to_numpy()])
        ref[by_area["a"].to_numpy()[big]] = by_area["g"].to_numpy()[big]
        # households -> old grid holding their point (ties: smallest id); a point
        # outside its atom (snapped onto it from a road) takes its atom's old grid
        p, g = tree.query(hh.geometry.values, predicate="intersects")
        first = pd.DataFrame({"p": p, "g": gid[g]}).sort_values(["p", "g"]).drop_duplicates("p")
        hh_old = np.full(len(hh), -1, dtype=np.int64)
        hh_old[first["p"].to_numpy()] = first["g"].to_numpy()
        aid = hh["atom_id"]
        has = aid.notna().to_numpy()
        ai = aid.to_numpy()[has].astype(np.int64)
        inside = shapely.contains(ag[ai], hh.geometry.values[has])
        snapped = np.flatnonzero(has)[~inside]
        hh_old[snapped] = ref[ai[~inside]]
        self.hh_old = pd.Series(hh_old, index=hh.index)
        w = hh["households"].to_numpy(dtype=float)
        ok = has & (hh_old >= 0)
        st = (pd.DataFrame({"atom": aid.to_numpy()[ok].astype(np.int64), "old": hh_old[ok], "w": w[ok]})
              .groupby(["atom", "old"], sort=True)["w"].sum().round().astype(np.int64))
        self.stay = cast(dict[tuple[int, int], int], {k: int(v) for k, v in st.items() if v})  # keys (atom, old)
        # atom -> old grid of most of its households, where it has some
        by_hh = (st.reset_index().sort_values(["atom", "w", "old"], ascending=[True, False, True])
                 .drop_duplicates("atom"))
        ref[by_hh["atom"].to_numpy()] = by_hh["old"].to_numpy()
        self.ref = ref
        # pieces: atoms of one old grid, one community, connected
        comm = atoms["community_id"].astype(str).to_numpy()
        ea, eb = edges["a"].to_numpy(), edges["b"].to_numpy()
        e = np.column_stack([ea, eb])
        piece = _components(n, e, (ref[ea] == ref[eb]) & (comm[ea] == comm[eb]))
        weight = atoms["households"].to_numpy(dtype=float)
        pw = np.bincount(piece, weights=weight)
        pn = np.bincount(piece)
        pieces = pd.DataFrame({"piece": np.arange(len(pw)), "w": pw, "n": pn})
        pieces["old"] = pd.Series(ref).groupby(piece).first().reindex(pieces["piece"]).to_numpy()
        held = pieces[pieces["old"] >= 0].sort_values(["old", "w", "n", "piece"], ascending=[True, False, False, True])
        owner = np.full(len(pw), -1, dtype=np.int64)
        heads = held.drop_duplicates("old")
        owner[heads["piece"].to_numpy()] = heads["old"].to_numpy()
        n_pieces = held.groupby("old").size()
        self.intact = set(n_pieces.index[n_pieces == 1].tolist())
        self.piece = piece
        self.piece_owner = owner
        self.atom_owner = np.full(n, -1, dtype=np.int64)
        problems = Problems()
        split_locked = sorted(g for g in self.locked if g in set(n_pieces.index) and g not in self.intact)
        if split_locked:
            problems.add("locked", "these grids no longer fit whole in one new community (or in one piece)",
                         rows=split_locked, fix="unlock them, or move the community boundary around them")
        gone = sorted(self.locked - set(n_pieces.index.tolist()))
        if gone:
            problems.add("locked", "these grids hold no atom of the new area", rows=gone,
                         fix="unlock them, or extend the study area to cover them")
        problems.raise_if_any()

    # -- the strategy: one community component
    def __call__(self, sub: SubProblem, *, seed: int = 0, time_limit: float = 60.0) -> SubResult:
        t0 = time.perf_counter()
        self.band = sub.band
        _, labels = np.unique(self.piece[sub.atoms], return_inverse=True)
        labels = labels.astype(np.int64)
        uniq = np.unique(self.piece[sub.atoms])
        owner = self.piece_owner[uniq].copy()
        locked = np.isin(owner, list(self.locked))
        bad = self._invalid(sub, labels, owner) & ~locked
        if self.scope == "changed" and not self._band_changed(sub.band) and self._untouched(owner):
            bad[:] = False  # the change did not reach this community: keep it as it was
        windows = improved = 0
        status, objective = None, 0.0
        if bad.any():
            labels, owner, locked, bad = self._split_big(sub, labels, owner, locked, bad, seed)
            win = bad.copy()
            for ring in range(self.max_rings + 2):
                if ring > self.max_rings:  # last resort: the whole component
                    win = np.ones(len(owner), bool)
                elif ring:
                    win = win | self._touching(sub, labels, win | bad)
                win &= ~locked
                atoms = np.flatnonzero(win[labels])
                left = time_limit - (time.perf_counter() - t0)
                res = _solve_window(sub, labels, owner, atoms, self.stay, seed=seed,
                                    deterministic_time=self.window_time, time_limit=left)
                windows += 1
                if res.status in SOLVED:
                    improved += int(not np.array_equal(res.labels, labels))
                    labels = res.labels
                status = res.status if status is None or STATUS_RANK[res.status] > STATUS_RANK[status] else status
                bad = _out_of_band(sub, labels)
                bad = np.r_[bad, np.zeros(len(owner) - len(bad), bool)] & ~locked
                if not bad.any() or win[~locked].all() or time.perf_counter() - t0 > time_limit:
                    break
        if self.rebalance:
            labels, w2 = self._rebalance(sub, labels, locked, seed, time_limit - (time.perf_counter() - t0))
            windows += w2
        # drop emptied labels
        used, labels = np.unique(labels, return_inverse=True)
        owner = owner[used]
        if windows:  # households moved from their old grid in this component
            mine = owner[labels]
            objective = float(sum(int(w) - self.stay.get((int(a), int(o)), 0)
                                  for a, o, w in zip(sub.atoms.tolist(), mine.tolist(), sub.weight.tolist()) if w))
        self.atom_owner[sub.atoms] = owner[labels]
        method = METHOD_REPAIR if windows else METHOD_KEPT
        if windows and sub.has_persons:
            method += ("; persons band hard (grids out of it after the households', before the moves)"
                       if _persons_hard(sub) else "; persons deviation in the balance")
        if self.rebalance:
            method += "; rebalanced by LNS windows"
        return SubResult(labels.astype(np.int64), status or Status.FEASIBLE, method, objective, float("nan"),
                         time.perf_counter() - t0, windows, improved)

    def _band_changed(self, band) -> bool:
        """Whether grids are now judged by another band than the old plan was drawn with.

        The households bands differ, or persons are now hard (``persons_hard``)
        and the old plan did not have this same hard persons band.  A soft
        persons band never makes a grid invalid, so it never counts; when the
        old plan's bands are not known (bare grids), nothing counts as changed.
        """
        if self.old_band is None:
            return False
        if not np.allclose(self.old_band, (band.lo, band.hi)):
            return True
        if band.persons_lo is None or not band.persons_hard or self.old_persons is None:
            return False
        lo, hi, hard = self.old_persons
        return not (hard and lo is not None and np.allclose((lo, hi), (band.persons_lo, band.persons_hi)))

    def _untouched(self, owner: np.ndarray) -> bool:
        """Every label is a whole old grid, and all come from one old community."""
        if (owner < 0).any() or not np.isin(owner, list(self.intact)).all():
            return False
        comms = self.old_community.reindex(owner).dropna().unique()
        return len(comms) <= 1

    def _invalid(self, sub: SubProblem, labels: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """Per label: a piece of a cut grid, atoms no old grid held, or out of the band."""
        bad = (owner < 0) | ~np.isin(owner, list(self.intact))
        return bad | _out_of_band(sub, labels)

    def _touching(self, sub: SubProblem, labels: np.ndarray, of: np.ndarray) -> np.ndarray:
        e = sub.edges
        la, lb = labels[e[:, 0]], labels[e[:, 1]]
        out = np.zeros(len(of), bool)
        out[lb[of[la]]] = True
        out[la[of[lb]]] = True
        return out

    def _split_big(self, sub, labels, owner, locked, bad, seed):
        """Invalid labels too big for one grid (:func:`_split_count`: for their households and,
        when hard, their persons) are cut by tree bisection first; the piece with most
        households keeps the old grid."""

        labels = labels.copy()
        owner, locked, bad = list(owner), list(locked), list(bad)
        for li in range(len(owner)):
            if not bad[li]:
                continue
            idx = np.flatnonzero(labels == li)
            w = sub.weight[idx]
            k = min(len(idx), _split_count(sub, idx))
            if k <= 1:
                continue
            part = sub.restrict(idx, k)
            lab = seed_plan(part, seed=seed)
            sizes = np.bincount(lab, weights=w)
            head = int(np.argmax(sizes))
            for j in range(int(lab.max()) + 1):
                if j == head:
                    continue
                labels[idx[lab == j]] = len(owner)
                owner.append(-1)
                locked.append(False)
                bad.append(True)
        return labels, np.array(owner, dtype=np.int64), np.array(locked, bool), np.array(bad, bool)

    def _rebalance(self, sub, labels, locked, seed, time_left):
        """One pass of the windowed search over the unlocked grids (moves not minimised)."""

        t0 = time.perf_counter()
        free = np.flatnonzero(~locked[: int(labels.max()) + 1])
        windows = 0
        for g in free.tolist():
            if time.perf_counter() - t0 > time_left:
                break
            if not (labels == g).any():
                continue
            of = np.zeros(int(labels.max()) + 1, bool)
            of[g] = True
            near = np.flatnonzero(self._touching(sub, labels, of) & ~locked[: len(of)])
            group = [g] + [h for h in near.tolist() if h != g][:2]
            if len(group) < 2:
                continue
            atoms = np.flatnonzero(np.isin(labels, group))
            res = solve_window(sub, labels, atoms, seed=seed, deterministic_time=self.window_time,
                               time_limit=max(0.5, time_left - (time.perf_counter() - t0)))
            labels = labels.copy()
            labels[atoms] = res.labels
            windows += 1
        return labels, windows


# --------------------------------------------------------------------------- codes


def recode_grids(grids: pd.DataFrame, *, old_codes: pd.Series | None,
                 community_codes: pd.Series | None, width: int | None = None, used=()) -> pd.Series | None:
    """Grid codes after a change, by the rule of DESIGN §4 (codes are stable).

    A grid that carries on an old grid and stays in a community of the same
    code keeps its code; every other grid of a community (new, moved in from
    another community, or every grid of a community with a new code, such as
    a merged one) takes the next free number of its community in reading
    order (:func:`gridpart.rules.codes.carry_grid_codes`): numbers used by old grids,
    carried or not, and by ``used`` codes are never given again.  Without
    community codes, old codes are carried and new grids get none.

    Parameters
    ----------
    grids : DataFrame
        ``grid_id``, ``community_id`` and ``carried`` (the grid carries on
        the old grid of the same id), in reading order.
    old_codes : Series or None
        Old grid codes by old ``grid_id``.
    community_codes : Series or None
        New community codes by ``community_id``.
    width : int, optional
        Digits of the sequence number; default: as in the old codes, else 2
        (3 when a community has more than 99 grids).
    used : iterable of str
        Grid codes retired before (see ``params["retired_codes"]``).

    Returns
    -------
    Series of str (aligned with ``grids``) or None when there is nothing to code from.

    Raises
    ------
    InputError
        When a community has more grids than ``width`` digits can number.

    Examples
    --------
    >>> g = pd.DataFrame({"grid_id": [1, 2, 9], "community_id": ["A", "A", "B"], "carried": [True, False, True]})
    >>> recode_grids(g, old_codes=pd.Series({1: "11010800100101", 9: "11010800100201"}),
    ...              community_codes=pd.Series({"A": "110108001001", "B": "110108001099"})).tolist()
    ['11010800100101', '11010800100102', '11010800109901']
    """

    if old_codes is None and community_codes is None:
        return None
    old_codes = None if old_codes is None else old_codes.dropna().astype(str)
    if width is None:  # as the old codes have it, else 2 (3 past 99 grids in a community)
        width = 2 if grids.groupby("community_id").size().max() <= 99 else 3
        if old_codes is not None and community_codes is not None and len(old_codes):
            lens = old_codes.str.len() - community_codes.dropna().astype(str).str.len().max()
            if lens.between(1, 6).all() and lens.nunique() == 1:
                width = int(lens.iloc[0])
    carried = grids["carried"].to_numpy(bool)
    prev = (old_codes.reindex(grids["grid_id"]).to_numpy() if old_codes is not None
            else np.full(len(grids), None, dtype=object))
    prev = np.where(carried, prev, None)  # type: ignore[call-overload]  # numpy's stubs take no None here
    cc = pd.Series(dtype=object) if community_codes is None else community_codes
    taken = [*([] if old_codes is None else old_codes.tolist()), *used]
    out = carry_grid_codes(pd.DataFrame({"community_id": grids["community_id"].to_numpy(), "previous": prev},
                                        index=grids.index), cc, width=width, used=taken)
    return out.where(out.notna(), pd.NA)


# --------------------------------------------------------------------------- front door


def repartition(
    old_grids,
    roads,
    households,
    *,
    communities,
    target=300,
    tolerance: float = 0.2,
    locked=None,
    rebalance: bool = False,
    roads_are: str = "auto",
    barriers=None,
    study_area=None,
    parcels=None,
    time_limit: float = 60.0,
    window_time: float = 2.0,
    max_rings: int = 3,
    scope: str = "changed",
    code_width: int | None = None,
    seed: int = 0,
) -> GridPlan:
    """Re-draw grids after communities merge or move, changing as little as possible.

    Parameters
    ----------
    old_grids : GridPlan, GeoDataFrame or path
        The old plan, its ``grids`` (``grid_id``, optional ``code`` and
        ``community_id``) or the file :meth:`GridPlan.to_file` wrote.
    roads, households
        As for :func:`gridpart.partition` (today's data).
    communities : GeoDataFrame or path
        The new community boundaries (``community_id``, optional ``code``).
    target, tolerance, roads_are, barriers, study_area, parcels
        As for :func:`gridpart.partition`.  With a persons band
        (``gp.Target(households=300, persons=1000)``, households with a
        ``persons`` column) and ``persons_hard=True``, a grid out of the
        persons band is invalid, and repaired where some plan can avoid it
        (not when one atom alone is above the band or the component's
        persons fall short of it) without taking any grid out of the
        households band; with a soft persons band, persons only weigh in
        the balance of the grids a repair redraws (see the module notes).
    locked : iterable of int, optional
        Old grid ids that must not change at all (an error names those that
        no longer fit in one new community).
    rebalance : bool
        Also re-balance the grids that are still valid (a pass of the
        windowed search of :func:`gridpart.partition` over every unlocked
        grid); households moved for balance are then not minimised.
    time_limit : float
        Wall-clock safety cap per community component, in seconds.
    window_time : float
        CP-SAT deterministic time per repair window (decides the search).
    max_rings : int
        How many rings of neighbouring valid grids a repair may draw in when
        the broken grids alone cannot reach the band (then, as a last
        resort, the whole community component).
    scope : {"changed", "all"}
        ``"changed"``: grids out of the band are repaired only in communities
        the change reached (cut, merged, grown or shrunk) or everywhere when
        the band differs from the old plan's (its ``params["band"]``);
        elsewhere old grids stay as they were even out of the band.  For
        persons, the band differs when it is hard now and the old plan was
        not drawn with the same hard persons band (read from its
        ``params["target"]``): an old plan without persons, or with a soft
        persons band, is then repaired everywhere a grid is out of the
        persons band.  A soft persons band never counts, and when the old
        plan's bands are not known (bare grids) nothing counts as changed.
        ``"all"``: repaired wherever they are.
    code_width : int, optional
        Digits of the grid sequence number in codes (see :func:`recode_grids`).
    seed : int

    Returns
    -------
    GridPlan
        Grids carrying on an old grid keep its ``grid_id``; new grids get ids
        above the old ones.  ``plan.changes`` is a :class:`Changes`.
        ``plan.params`` records ``old_band`` and ``old_persons_band``
        (``[low, high, hard]``, as read from the old plan, or None) and,
        with a persons band, ``persons_out_of_band`` (grids outside it).

    Raises
    ------
    InputError
        Listing every problem with the inputs, ``old_grids`` and ``locked``
        (also when the target asks for a persons band and the households
        have no ``persons`` column).

    Examples
    --------
    >>> import gridpart as gp
    >>> from gridpart.datasets.synthetic import synthetic_city
    >>> roads, hh, comm = synthetic_city(2_000, seed=1, communities=2)
    >>> old = gp.partition(roads, hh, communities=comm, time_limit=10)
    >>> merged = comm.dissolve().assign(community_id="C12", code="110108001012")
    >>> plan = gp.repartition(old, roads, hh, communities=merged, time_limit=10)
    >>> int(plan.changes.summary["households"]) == int(hh["households"].sum())
    True

    A hard persons band is repaired too (``hh`` has a ``persons`` column):

    >>> hard = gp.Target(households=300, persons=800, persons_hard=True)
    >>> again = gp.repartition(old, roads, hh, communities=merged, target=hard, time_limit=10)
    >>> bool(again.grids["persons"].between(640, 960).all()), again.params["persons_out_of_band"]
    (True, 0)
    """

    t0 = time.perf_counter()
    problems = Problems()
    old = read_old_grids(old_grids, problems=problems)
    if communities is None:
        problems.add("communities", "is required: the new community boundaries",
                     fix="pass the communities as they are after the merger")
    locked_ids: set[int] = set()
    if locked is not None:
        vals = [locked] if isinstance(locked, (int, np.integer)) else list(locked)
        try:
            locked_ids = {int(v) for v in vals}
        except (TypeError, ValueError):
            problems.add("locked", f"must be old grid ids (integers), got {vals[:5]!r}", fix="e.g. locked=[3, 7]")
        if old is not None:
            unknown = sorted(locked_ids - set(old["grid_id"].tolist()))
            if unknown:
                problems.add("locked", "these ids are not grids of the old plan", rows=unknown,
                             fix="pass ids from old_grids['grid_id']")
    if scope not in ("changed", "all"):
        problems.add("scope", f"must be 'changed' or 'all', got {scope!r}", fix="scope='changed'")
    if not isinstance(max_rings, (int, np.integer)) or max_rings < 0:
        problems.add("max_rings", f"must be a non-negative integer, got {max_rings!r}", fix="e.g. max_rings=3")
    if not isinstance(window_time, (int, float)) or not window_time > 0:
        problems.add("window_time", f"must be a positive number of seconds, got {window_time!r}",
                     fix="e.g. window_time=2")
    problems.raise_if_any()
    assert old is not None  # read_old_grids returns None only with a problem, raised above

    record = RunRecord()
    if isinstance(old_grids, GridPlan):
        record = old_grids.record
    elif isinstance(old_grids, (str, os.PathLike)):
        record = read_record(old_grids) or RunRecord()
    old_band = None
    if record.band is not None and len(record.band) == 2:
        old_band = (float(record.band[0]), float(record.band[1]))
    old_persons = _persons_band_of(record)
    rep = _Repair(old, locked=locked_ids, rebalance=bool(rebalance), window_time=float(window_time),
                  max_rings=int(max_rings), scope=scope, old_band=old_band, old_persons=old_persons)
    plan = partition(roads, households, communities=communities, parcels=parcels, target=target,
                     tolerance=tolerance, roads_are=roads_are, barriers=barriers, study_area=study_area,
                     strategy=rep, time_limit=time_limit, seed=seed, on_atoms=rep.on_atoms)
    plan = _carry_ids(plan, rep, old, communities, code_width, record)
    plan.record = dataclasses.replace(
        plan.record, strategy="repartition", repartition=RepartitionRecord(
            rebalance=bool(rebalance), locked=tuple(sorted(locked_ids)), scope=scope, old_band=old_band,
            old_persons_band=old_persons, old_grids=len(old), window_time=float(window_time),
            max_rings=int(max_rings)),
    )
    _report_persons(plan, rep.band)
    plan.record = dataclasses.replace(
        plan.record, timings={**plan.record.timings, "repartition_s": time.perf_counter() - t0})
    return plan


def _report_persons(plan: GridPlan, band) -> None:
    """Count the grids outside the persons band (``params["persons_out_of_band"]``) and,
    when that band is soft, say so in a warning: minimal change came first."""
    if band is None or band.persons_lo is None or "persons" not in plan.grids:
        return
    p = plan.grids["persons"].astype(float)
    lo, hi = math.ceil(band.persons_lo - 1e-9), math.floor(band.persons_hi + 1e-9)
    outside = p.notna() & ((p < lo) | (p > hi))
    plan.record = dataclasses.replace(plan.record, persons_out_of_band=int(outside.sum()))
    if outside.any() and not band.persons_hard:
        ids = plan.grids.loc[outside, "grid_id"].tolist()
        log.warning("%d of %d grids hold persons outside the band %g-%g (grid_id %s%s): a soft persons band "
                    "only balances the grids a repair redraws, after as few households as possible move; "
                    "pass gp.Target(..., persons_hard=True) to repair them too",
                    len(ids), len(plan.grids), band.persons_lo, band.persons_hi,
                    ", ".join(str(g) for g in ids[:8]), ", ..." if len(ids) > 8 else "")


def _persons_band_of(record: RunRecord) -> tuple | None:
    """The persons band an old plan was drawn with: its ``persons_band``, else
    its target's (the target is always recorded with it, so the two agree).

    Returns
    -------
    tuple or None
        ``(low, high, hard)``; ``(None, None, False)`` when the old plan had
        no persons target; ``None`` when it is not known (no target recorded,
        or one this version cannot read).

    Examples
    --------
    >>> from gridpart.inputs.schema import Target
    >>> _persons_band_of(RunRecord(target=Target(300, persons=1000, persons_hard=True)))
    (800.0, 1200.0, True)
    >>> _persons_band_of(RunRecord(target=Target(300)))
    (None, None, False)
    >>> _persons_band_of(RunRecord(persons_band=(800.0, 1200.0, True)))
    (800.0, 1200.0, True)
    >>> _persons_band_of(RunRecord()) is None
    True
    """
    band: tuple[Any, ...] | None = record.persons_band
    if band is not None and len(band) == 3:
        return (float(band[0]), float(band[1]), bool(band[2]))
    target = record.target
    if target is None:
        return None
    band = target.persons_band
    return (None, None, False) if band is None else (float(band[0]), float(band[1]), bool(target.persons_hard))


def _old_community_codes(old: gpd.GeoDataFrame, old_record: RunRecord) -> tuple[dict, dict]:
    """Old community codes (and their sources): from the old plan's record, else read off
    its grid codes (the first 12 digits of the codes of each old community's grids)."""

    known = old_record.community_codes
    if isinstance(known, dict) and known:
        codes = {str(k): v["code"] for k, v in known.items() if isinstance(v, dict) and v.get("code")}
        sources = {str(k): v.get("code_source", "given") for k, v in known.items() if isinstance(v, dict)}
        return codes, sources
    if "code" not in old.columns or "community_id" not in old.columns:
        return {}, {}
    g = old[old["code"].notna() & old["community_id"].notna()]
    text = g["code"].astype(str)
    ok = (text.str.len() > CODE_DIGITS) & text.str.fullmatch(r"\d+")
    heads = pd.DataFrame({"cid": g["community_id"].astype(str)[ok], "head": text[ok].str[:CODE_DIGITS]})
    one = heads.groupby("cid")["head"].nunique() == 1
    codes = cast(dict[str, Any], heads.drop_duplicates("cid").set_index("cid")["head"][one].to_dict())
    return codes, {}


def _carry_codes(plan: GridPlan, grids: pd.DataFrame, old: gpd.GeoDataFrame, communities, old_record: RunRecord,
                 code_width) -> tuple[pd.Series | None, pd.Series | None]:
    """Community and grid codes carried from the old plan; ``plan.record`` updated with the
    community codes and the codes retired (old ones no longer in use)."""

    old_cc, old_src = _old_community_codes(old, old_record)
    retired = [str(c) for c in (old_record.retired_codes or [])]
    fresh: Mapping[Any, Any] = plan.record.community_codes or {}
    comm_codes = None
    if communities is not None:

        comm = read_layer(communities, argument="communities")
        assert comm is not None  # communities were given; problems raise in read_layer
        comm = comm[comm["community_id"].astype(str).isin(set(grids["community_id"].astype(str)))]
        has_given = "code" in comm.columns and comm["code"].notna().any()
        if has_given or old_cc or fresh:
            cc = carry_community_codes(comm, old_cc, old_sources=old_src, used=retired)
            comm_codes = cc["code"]
            plan.record = dataclasses.replace(plan.record, community_codes={
                cast(str, cid): {"code": r["code"], "code_source": r["code_source"],
                      "name": (fresh.get(cid) or {}).get("name")} for cid, r in cc.iterrows()})
    old_codes = (pd.Series(old["code"].to_numpy(), index=old["grid_id"].to_numpy())
                 if "code" in old.columns else None)
    codes = recode_grids(grids[["grid_id", "community_id", "carried"]], old_codes=old_codes,
                         community_codes=comm_codes, width=code_width, used=retired)
    live = set() if codes is None else {c for c in codes.dropna()}
    live |= set() if comm_codes is None else set(comm_codes.dropna())
    gone = set(retired) | set(old_cc.values()) | (set() if old_codes is None else set(old_codes.dropna().astype(str)))
    plan.record = dataclasses.replace(plan.record, retired_codes=tuple(sorted(gone - live)))
    return codes, comm_codes


def _carry_ids(plan: GridPlan, rep: _Repair, old: gpd.GeoDataFrame, communities, code_width,
               old_record: RunRecord | None = None) -> GridPlan:
    """Old ids for grids that carry on an old grid, new ids above them, codes and the change table."""
    old_record = old_record or RunRecord()
    atoms = plan.blocks
    aid = atoms["atom_id"].to_numpy(np.int64)
    first = atoms.drop_duplicates("grid_id")
    owner = pd.Series(rep.atom_owner[first["atom_id"].to_numpy(np.int64)], index=first["grid_id"].to_numpy())
    owner = owner.reindex(plan.grids["grid_id"].to_numpy())  # reading order
    fresh = owner.to_numpy() < 0
    if owner[~fresh].duplicated().any():
        raise AssertionError("two new grids carry on the same old grid")
    start = int(old["grid_id"].max()) + 1 if len(old) else 1
    new_id = owner.to_numpy().copy()
    new_id[fresh] = start + np.arange(int(fresh.sum()))
    remap = pd.Series(new_id, index=owner.index)

    grids = plan.grids.copy()
    grids["grid_id"] = remap.reindex(grids["grid_id"]).to_numpy()
    grids["carried"] = ~fresh
    # codes (DESIGN §4: codes are stable)
    codes, _ = _carry_codes(plan, grids, old, communities, old_record, code_width)
    if codes is not None and "code" in grids.columns:
        grids["code"] = codes.to_numpy()
    elif codes is not None:
        grids.insert(1, "code", codes.to_numpy())
    grids = grids.drop(columns="carried").sort_values("grid_id").reset_index(drop=True)
    blocks = plan.blocks.copy()
    blocks["grid_id"] = remap.reindex(blocks["grid_id"]).to_numpy()
    hh = plan.households.copy()
    placed = hh["grid_id"].notna()
    vals = pd.array(np.full(len(hh), pd.NA), dtype="Int64")
    vals[placed.to_numpy()] = remap.reindex(hh.loc[placed, "grid_id"].astype(np.int64)).to_numpy()
    hh["grid_id"] = vals
    plan.grids, plan.blocks, plan.households = grids, blocks, hh
    plan.changes = _changes(plan, rep, old, aid)
    return plan


def _changes(plan: GridPlan, rep: _Repair, old: gpd.GeoDataFrame, aid: np.ndarray) -> Changes:
    hh = plan.households
    w = hh["households"].to_numpy(dtype=float)
    old_id = pd.array(rep.hh_old.reindex(hh.index).to_numpy(), dtype="Int64")
    old_id[np.asarray(old_id == -1, dtype=bool)] = pd.NA
    new_id = hh["grid_id"].array
    no_old = np.asarray(pd.isna(old_id))
    no_new = np.asarray(pd.isna(new_id))
    same = ~no_old & ~no_new & (np.asarray(old_id.fillna(-1)) == np.asarray(new_id.fillna(-2)))
    change = np.where(no_new, "unplaced", np.where(no_old, "new", np.where(same, "kept", "moved")))
    mates = grid_mates_kept(old_id, new_id, w)
    per_hh = pd.DataFrame({"households": w, "old_grid_id": old_id, "new_grid_id": new_id,
                           "change": change, "keeps_mates": mates}, index=hh.index)
    # per old grid: household flows, atom sets, successors
    ids = old["grid_id"].to_numpy(np.int64)
    new_grids = plan.grids.set_index("grid_id")
    atom_new = pd.Series(plan.blocks["grid_id"].to_numpy(), index=aid)
    ref = pd.Series(rep.ref, index=np.arange(len(rep.ref)))
    a_old = ref[ref >= 0]
    flows_hh = per_hh[~no_old & ~no_new].groupby(["old_grid_id", "new_grid_id"])["households"].sum()
    flows_at = pd.Series(1, index=pd.MultiIndex.from_arrays(
        [a_old.to_numpy(), atom_new.reindex(a_old.index).to_numpy()], names=["old_grid_id", "new_grid_id"]))
    flows_at = flows_at.groupby(level=[0, 1]).sum()
    carried = set(new_grids.index.tolist()) & set(ids.tolist())
    # grids that took in atoms or households of another old grid (or of none)
    a_new = atom_new.to_numpy()
    took = a_new[ref.reindex(atom_new.index).to_numpy() != a_new]
    hh_in = per_hh["new_grid_id"].notna() & (per_hh["old_grid_id"].fillna(-1) != per_hh["new_grid_id"].fillna(-1))
    gained = set(took.tolist()) | set(per_hh.loc[hh_in, "new_grid_id"].astype(np.int64).tolist())
    fresh_source = (flows_hh.reset_index().sort_values(["new_grid_id", "households", "old_grid_id"],
                                                        ascending=[True, False, True])
                    .drop_duplicates("new_grid_id"))
    fresh_source = fresh_source[~fresh_source["new_grid_id"].isin(list(carried))]
    split_from = set(fresh_source["old_grid_id"].tolist())
    old_code = old["code"] if "code" in old.columns else pd.Series(pd.NA, index=old.index)
    old_comm = old["community_id"].astype(str) if "community_id" in old.columns else pd.Series(pd.NA, index=old.index)
    # per old grid, looked up in O(1): where its households and atoms went
    pairs = pd.concat([flows_hh.index.to_frame(index=False), flows_at.index.to_frame(index=False)])
    pairs = pairs.astype(np.int64).drop_duplicates().sort_values(["old_grid_id", "new_grid_id"])
    dests = pairs.groupby("old_grid_id")["new_grid_id"].agg(list).to_dict()
    totals = flows_hh.groupby(level=0).sum().to_dict()
    fl = flows_hh.reset_index()
    stayed = fl[fl["old_grid_id"] == fl["new_grid_id"]].set_index("old_grid_id")["households"].to_dict()
    rows = []
    for g, ocode, ocomm in zip(ids.tolist(), old_code.tolist(), old_comm.tolist()):
        dest = dests.get(g, [])
        total = float(totals.get(g, 0.0))
        succ = g if g in carried else None
        kept_hh = float(stayed.get(g, 0.0)) if succ is not None else 0.0
        if succ is not None:
            ncode = new_grids.at[g, "code"] if "code" in new_grids.columns else pd.NA
            ncomm: Any = str(new_grids.at[g, "community_id"])  # pd.NA without a successor
            if dest == [g] and kept_hh == total and g not in gained:
                recoded = (isinstance(ocode, str) and ncode != ocode) or (isinstance(ocomm, str) and ocomm != ncomm)
                fate = "re-coded" if recoded else "kept"
            else:
                fate = "split" if g in split_from else "resized"
        else:
            ncode, ncomm = pd.NA, pd.NA
            fate = "merged" if len(dest) == 1 else "dissolved"
        rows.append({
            "old_grid_id": g, "old_code": ocode, "old_community_id": ocomm, "fate": fate,
            "new_grid_id": succ if succ is not None else pd.NA, "new_grids": ";".join(str(d) for d in dest),
            "new_code": ncode, "new_community_id": ncomm, "households": total,
            "households_kept": kept_hh, "households_moved": total - kept_hh,
        })
    per_grid = pd.DataFrame(rows)
    per_grid["new_grid_id"] = per_grid["new_grid_id"].astype("Int64")
    counts = per_grid["fate"].value_counts().reindex(list(FATES), fill_value=0)
    n_old = float(w[~no_old].sum())
    summary = pd.Series({
        "households": float(w.sum()),
        "kept": float(w[change == "kept"].sum()),
        "moved": float(w[change == "moved"].sum()),
        "new": float(w[change == "new"].sum()),
        "unplaced": float(w[change == "unplaced"].sum()),
        "share_kept": float(w[change == "kept"].sum() / n_old) if n_old else float("nan"),
        "share_mates_kept": float(w[mates].sum() / n_old) if n_old else float("nan"),
        "grids_old": float(len(old)),
        "grids_new": float(len(plan.grids)),
        "grids_touched": float(counts[["resized", "split", "merged", "dissolved"]].sum()),
        **{f"grids_{cast(str, k).replace('-', '_')}": float(v) for k, v in counts.items()},
    })
    return Changes(grids=per_grid, households=per_hh, summary=summary)
