"""CP-SAT model for a window of grids (or a whole small component).

Model (for the grids ``G`` of a window and their atoms ``W``):

* ``x[i, g]`` — atom ``i`` belongs to grid ``g``; each atom in exactly one grid.
* Contiguity: each grid has a root atom ``r_g`` (its heaviest atom above the
  band if it has one, else the atom nearest its weighted centre) and an order
  ``d_g`` (shortest-path distance from the root, walking inside the current
  grid first).  An atom may join ``g`` only next to an atom of ``g`` that is
  closer to ``r_g`` — a sufficient condition for contiguity (Hess-style, as
  DESIGN §5 records), which the current plan satisfies by construction, so
  the warm start is always feasible.
* Lexicographic objective, by dominating weights: grids out of the band,
  then households outside the band, then size deviation from the target
  (plus a surcharge per household beyond ±10 % of it, and persons
  deviation) plus the cut cost by road class (:mod:`gridpart.model.problem`).

``OPTIMAL`` means proven optimal for this model: these roots, this order.

:class:`WindowModel` builds the window's indexing, roots, distances,
assignment literals, contiguity and weighted sums once; :func:`solve_window`
adds the objective above, and :func:`gridpart.repartition`'s repair model its
own band and move terms (``tests/test_window_model.py`` pins both models).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model
from scipy.sparse.csgraph import dijkstra

from gridpart.model.problem import DEVIATION_COST, INNER_COST, PERSONS_DEVIATION_COST, SubProblem
from gridpart.model.result import CP_STATUS

__all__ = ["WindowResult", "WindowModel", "window_solver", "solve_window", "labels_objective", "pruned_pairs"]

_STATUS = CP_STATUS


@dataclass(frozen=True)
class WindowResult:
    labels: np.ndarray  # new labels for the window atoms (same grid ids)
    status: str
    objective: float
    bound: float
    start_objective: float
    wall_s: float
    #: the wall-clock cap, not the deterministic budget, ended an unfinished search
    time_capped: bool = False
    #: CP-SAT's deterministic seconds spent (NaN where not recorded)
    deterministic_s: float = float("nan")


def _wall_capped(solver: cp_model.CpSolver, status: str) -> bool:
    """Whether the wall-clock cap (``max_time_in_seconds``) ended a search that was
    neither proven nor stopped by its deterministic budget.

    Such a result depends on machine speed and load; one stopped by
    ``max_deterministic_time`` does not (CP-SAT reports the deterministic time
    spent, at least the budget when that limit ended the search).
    """
    if status not in ("FEASIBLE", "UNKNOWN"):
        return False
    return solver.response_proto.deterministic_time < solver.parameters.max_deterministic_time


def _weights(sub: SubProblem, total: int) -> tuple[int, int]:
    """(per household outside the band, per grid out of the band): dominating weights."""
    rest = (int(np.abs(sub.cut_cost).sum()) + int((DEVIATION_COST + INNER_COST) * (total + sub.band.centre * sub.k))
            + 1)
    if sub.has_persons:
        rest += int(PERSONS_DEVIATION_COST * (sub.persons.sum() + (sub.band.persons_centre or 0) * sub.k))
    if sub.area is not None and sub.compactness > 0 and sub.n:
        # every atom at most the diameter from its root: compactness × k × diameter in all
        span = float(np.hypot(*np.ptp(sub.xy, axis=0))) + 1.0
        rest += int(np.ceil(sub.compactness * max(sub.k, 1) * span * 1.01)) + sub.n
    per_hh = rest
    per_grid = per_hh * (total + int(sub.band.hi) + 1)
    return per_hh, per_grid


def _grid_terms(sub: SubProblem, sizes: np.ndarray, psizes: np.ndarray):
    b = sub.band
    excess = np.maximum(0, np.maximum(np.ceil(b.lo) - sizes, sizes - np.floor(b.hi)))
    out = excess > 0
    ilo, ihi = sub.inner_band()
    dev = np.abs(sizes - round(b.centre)) * DEVIATION_COST + INNER_COST * np.maximum(
        0, np.maximum(ilo - sizes, sizes - ihi))
    pdev = np.zeros_like(sizes, dtype=float)
    if sub.has_persons:
        pdev = np.abs(psizes - round(b.persons_centre))
        if b.persons_hard:
            pexc = np.maximum(0, np.maximum(np.ceil(b.persons_lo) - psizes, psizes - np.floor(b.persons_hi)))
            out = out | (pexc > 0)
            excess = excess + pexc
    return out, excess, dev, pdev


def compact_costs(sub: SubProblem, atoms: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """Integer compactness cost of each of ``atoms`` (rows) in the grid of each root
    (columns): ``compactness × area × distance to the root / mean grid area``.

    Zero when the sub-problem has no areas or no weight.
    """
    if sub.area is None or sub.compactness <= 0 or not len(atoms):
        return np.zeros((len(atoms), len(roots)), dtype=np.int64)
    mean_area = max(float(sub.area.sum()) / max(sub.k, 1), 1.0)
    d = np.hypot(sub.xy[atoms, None, 0] - sub.xy[None, roots, 0], sub.xy[atoms, None, 1] - sub.xy[None, roots, 1])
    # empty land only: where it goes never moves the balance, so the term shapes
    # grids without trading households against metres
    area = np.where(sub.weight[atoms] > 0, 0.0, sub.area[atoms])
    return np.round(sub.compactness * area[:, None] * d / mean_area).astype(np.int64)


def labels_objective(sub: SubProblem, labels: np.ndarray, *, atoms: np.ndarray | None = None) -> float:
    """The model's objective for a labelling, over the window ``atoms`` (default: all).

    Only grids present among ``atoms`` and edges with both ends among them count;
    the compactness term measures each atom from its grid's root
    (:func:`grid_roots` of this labelling).
    """
    atoms = np.arange(sub.n) if atoms is None else atoms
    per_hh, per_grid = _weights(sub, int(sub.weight.sum()))
    grids, inv = np.unique(labels[atoms], return_inverse=True)
    sizes = np.bincount(inv, weights=sub.weight[atoms]).round()
    psizes = np.bincount(inv, weights=np.round(sub.persons[atoms]))
    out, excess, dev, pdev = _grid_terms(sub, sizes, psizes)
    inside = np.zeros(sub.n, bool)
    inside[atoms] = True
    e = sub.edges
    ew = inside[e[:, 0]] & inside[e[:, 1]]
    cut = labels[e[ew, 0]] != labels[e[ew, 1]]
    compact = 0.0
    if sub.area is not None and sub.compactness > 0:
        roots = grid_roots(sub, atoms, labels, grids)
        compact = float(compact_costs(sub, atoms, roots)[np.arange(len(atoms)), inv].sum())
    # in floats: the dominating weights times counts can exceed int64
    return (float(per_grid) * float(out.sum()) + float(per_hh) * float(excess.sum()) + float(dev.sum())
            + PERSONS_DEVIATION_COST * float(pdev.sum()) + float(sub.cut_cost[ew][cut].sum()) + compact)


def grid_roots(sub: SubProblem, atoms: np.ndarray, labels: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Root per grid of ``grids`` among ``atoms``: its heaviest atom above the band
    (ties to the lower id), else the atom nearest its weighted centre."""
    roots = np.empty(len(grids), dtype=np.int64)
    forced = np.zeros(sub.n, bool)
    forced[sub.forced] = True
    for gi, g in enumerate(grids):
        members = atoms[labels[atoms] == g]
        heavy = members[forced[members]]
        if len(heavy):
            roots[gi] = heavy[np.lexsort((heavy, -sub.weight[heavy]))[0]]
            continue
        w = sub.weight[members].astype(float) + 1e-3
        c = (sub.xy[members] * w[:, None]).sum(axis=0) / w.sum()
        d = np.hypot(*(sub.xy[members] - c).T)
        roots[gi] = members[np.lexsort((members, d))[0]]
    return roots


class WindowModel:
    """The CP-SAT model of a window: its indexing, assignment literals, contiguity and sums.

    Shared by :func:`solve_window` (LNS windows) and the repair model of
    :func:`gridpart.repartition`, which add their own objective terms on top.
    Built from the sub-problem, the current ``labels`` of all its atoms and the
    window's (local) ``atoms``; the attributes index the window:

    * ``atoms`` (sorted), ``m``; ``grids`` (the labels in the window), ``k``;
      ``cur``: the index in ``grids`` of each window atom's current label;
    * ``edges`` (window indices, both ends inside) and their ``costs``;
    * ``roots`` (window index of each grid's root, :func:`grid_roots`) and
      ``dist``: ``(k, m)`` distances from each root, walking inside the current
      grid first (each step out of it costs ``big``); ``nbrs``: neighbours;
    * ``model`` and ``x[i, g]``: atom ``i`` joins grid ``g`` (absent: it cannot).

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> sub = grid_subproblem(2, 3, k=2)
    >>> wm = WindowModel(sub, np.array([0, 0, 1, 0, 1, 1]), np.arange(6))
    >>> wm.k, wm.cur.tolist(), wm.roots.tolist()
    (2, [0, 0, 1, 0, 1, 1], [0, 5])
    >>> wm.add_assignment(np.isfinite(wm.dist.T))
    >>> len(wm.x)
    12
    """

    def __init__(self, sub: SubProblem, labels: np.ndarray, atoms: np.ndarray):
        self.sub = sub
        self.atoms = np.sort(atoms)
        m = self.m = len(self.atoms)
        local = np.full(sub.n, -1)
        local[self.atoms] = np.arange(m)
        self.grids = np.unique(labels[self.atoms])
        k = self.k = len(self.grids)
        self.cur = np.searchsorted(self.grids, labels[self.atoms])
        e = sub.edges
        inside = (local[e[:, 0]] >= 0) & (local[e[:, 1]] >= 0)
        we = self.edges = np.column_stack([local[e[inside, 0]], local[e[inside, 1]]])
        self.costs = sub.cut_cost[inside]
        # order for contiguity: distance from each root, inside the current grid first
        xy = sub.xy[self.atoms]
        elen = np.hypot(*(xy[we[:, 0]] - xy[we[:, 1]]).T) + 1e-3
        self.big = float(elen.sum()) + 1.0
        self.roots = local[grid_roots(sub, self.atoms, labels, self.grids)]
        self.dist = np.full((k, m), np.inf)
        for g in range(k):
            same = (self.cur[we[:, 0]] == g) & (self.cur[we[:, 1]] == g)
            wgt = elen + np.where(same, 0.0, self.big)
            graph = sp.coo_matrix((np.r_[wgt, wgt], (np.r_[we[:, 0], we[:, 1]], np.r_[we[:, 1], we[:, 0]])),
                                  shape=(m, m)).tocsr()
            self.dist[g] = dijkstra(graph, indices=self.roots[g])
        self.nbrs: list[list[int]] = [[] for _ in range(m)]
        for a, c in we.tolist():
            self.nbrs[a].append(c)
            self.nbrs[c].append(a)
        self.model = cp_model.CpModel()
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}

    def touching(self) -> np.ndarray:
        """``(k, k)``: the grids that touch inside the window (and each grid itself)."""
        touch = np.eye(self.k, dtype=bool)
        a, c = self.cur[self.edges[:, 0]], self.cur[self.edges[:, 1]]
        touch[a, c] = True
        touch[c, a] = True
        return touch

    def add_assignment(self, allowed: np.ndarray) -> None:
        """A literal ``x[i, g]`` for each ``allowed[i, g]`` (``(m, k)``), atom by atom."""
        for i in range(self.m):
            for g in np.flatnonzero(allowed[i]).tolist():
                self.x[i, g] = self.model.new_bool_var(f"x{i}_{g}")

    def closer(self, i: int, g: int) -> list:
        """The literals of ``i``'s neighbours in grid ``g`` that are closer to its root."""
        d = self.dist[g]
        return [self.x[j, g] for j in self.nbrs[i] if (j, g) in self.x and d[j] < d[i]]

    def drop_unreachable(self) -> None:
        """Forget the pairs no neighbour closer to the root can ever support (their
        variables stay in the model, unconstrained), until none is left."""
        changed = True
        while changed:
            changed = False
            for (i, g) in list(self.x):
                if i != self.roots[g] and not self.closer(i, g):
                    del self.x[i, g]
                    changed = True

    def members(self, g: int) -> list[int]:
        """The window atoms that may join grid ``g``."""
        return [i for i in range(self.m) if (i, g) in self.x]

    def add_exactly_one(self) -> None:
        """Each atom in exactly one grid."""
        for i in range(self.m):
            self.model.add_exactly_one([self.x[i, g] for g in range(self.k) if (i, g) in self.x])

    def add_contiguity(self, g: int, *, optional: bool = False) -> None:
        """Rooted-order contiguity of grid ``g``: an atom joins it only next to a closer
        atom of it.  ``optional``: the grid may empty (its atoms imply its root) instead
        of holding its root."""
        r = self.roots[g]
        if not optional:
            self.model.add(self.x[r, g] == 1)
        for i in self.members(g):
            if i == r:
                continue
            if optional:
                self.model.add_implication(self.x[i, g], self.x[r, g])
            closer = self.closer(i, g)
            if closer:
                self.model.add_bool_or(closer).only_enforce_if(self.x[i, g])
            else:
                self.model.add(self.x[i, g] == 0)

    def add_sum(self, name: str, g: int, weights: np.ndarray, lb: int, ub: int) -> cp_model.IntVar:
        """A new variable ``name`` in ``[lb, ub]`` equal to the ``weights`` grid ``g`` takes."""
        var = self.model.new_int_var(lb, ub, name)
        self.model.add(var == sum(int(weights[i]) * self.x[i, g] for i in self.members(g) if weights[i]))
        return var

    def cut_terms(self) -> list:
        """:func:`cut_terms` of the window's edges."""
        return cut_terms(self.model, self.x, self.edges, self.costs, self.k)

    def hint(self, chosen: np.ndarray) -> None:
        """Hint grid ``chosen[i]`` (an index in ``grids``) for each window atom."""
        for (i, g), var in self.x.items():
            self.model.add_hint(var, int(chosen[i] == g))

    def chosen(self, solver: cp_model.CpSolver) -> np.ndarray:
        """The index in ``grids`` each window atom takes in the solver's solution."""
        out = np.empty(self.m, dtype=np.int64)
        for (i, g), var in self.x.items():
            if solver.boolean_value(var):
                out[i] = g
        return out


def window_solver(*, seed: int, deterministic_time: float, time_limit: float, num_workers: int = 1
                  ) -> cp_model.CpSolver:
    """A CP-SAT solver for a window: seeded, with a deterministic budget and a wall-clock cap."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = num_workers
    prm.random_seed = int(seed)
    prm.max_deterministic_time = float(deterministic_time)
    prm.max_time_in_seconds = float(time_limit)
    return solver


def _in_band(wm: WindowModel, w: np.ndarray, p: np.ndarray | None) -> bool:
    """Whether every grid of the window is in the band now (households, and persons when hard)."""
    b = wm.sub.band
    lo, hi = int(np.ceil(b.lo)), int(np.floor(b.hi))
    cur_sizes = np.bincount(wm.cur, weights=w, minlength=wm.k)
    hard = bool(np.all((cur_sizes >= lo) & (cur_sizes <= hi)))
    if p is not None and b.persons_hard:
        cur_p = np.bincount(wm.cur, weights=p, minlength=wm.k)
        hard = hard and bool(np.all((cur_p >= np.ceil(b.persons_lo)) & (cur_p <= np.floor(b.persons_hi))))
    return hard


def _persons_terms(wm: WindowModel, g: int, p: np.ndarray, hard: bool, out, per_hh: int) -> list:
    """Persons deviation of grid ``g`` and, with a hard persons band, its limits."""
    b, model = wm.sub.band, wm.model
    ptot = int(p.sum())
    psize = wm.add_sum(f"psize{g}", g, p, 0, ptot)
    pc = int(round(b.persons_centre))
    pdev = model.new_int_var(0, ptot + pc, f"pdev{g}")
    model.add_abs_equality(pdev, psize - pc)
    terms = [int(PERSONS_DEVIATION_COST) * pdev]
    if b.persons_hard and hard:
        model.add_linear_constraint(psize, int(np.ceil(b.persons_lo)), int(np.floor(b.persons_hi)))
    elif b.persons_hard:
        pexc = model.new_int_var(0, max(ptot, int(np.ceil(b.persons_lo))), f"pexc{g}")
        model.add(pexc >= int(np.ceil(b.persons_lo)) - psize)
        model.add(pexc >= psize - int(np.floor(b.persons_hi)))
        model.add(pexc == 0).only_enforce_if(out.Not())
        terms.append(per_hh * pexc)
    return terms


def _balance_terms(wm: WindowModel) -> list:
    """solve_window's objective terms of each grid: out of the band and excess
    households (dominating weights; hard limits when every grid is in the band
    now), deviation, the ±10 % surcharge and persons."""
    sub, model = wm.sub, wm.model
    w = sub.weight[wm.atoms].astype(int)
    total = int(w.sum())
    per_hh, per_grid = _weights(sub, int(sub.weight.sum()))
    b = sub.band
    lo, hi, centre = int(np.ceil(b.lo)), int(np.floor(b.hi)), int(round(b.centre))
    ilo, ihi = sub.inner_band()
    terms = []
    # when every grid of the window is in the band, keep it so (hard); else
    # out-of-band grids and excess households are paid for with dominating weights
    p = np.round(sub.persons[wm.atoms]).astype(int) if sub.has_persons else None
    hard = _in_band(wm, w, p)
    for g in range(wm.k):
        size = wm.add_sum(f"size{g}", g, w, lo if hard else 0, hi if hard else total)
        dev = model.new_int_var(0, total + centre, f"dev{g}")
        model.add_abs_equality(dev, size - centre)
        terms.append(int(DEVIATION_COST) * dev)
        inner = model.new_int_var(0, total + centre, f"inner{g}")
        model.add(inner >= ilo - size)
        model.add(inner >= size - ihi)
        terms.append(int(INNER_COST) * inner)
        out = None
        if not hard:
            out = model.new_bool_var(f"out{g}")
            # a grid can miss the lower limit by all of it when the band is above the total
            exc = model.new_int_var(0, max(total, lo), f"exc{g}")
            model.add(exc >= lo - size)
            model.add(exc >= size - hi)
            model.add(exc == 0).only_enforce_if(out.Not())
            terms += [per_grid * out, per_hh * exc]
        if p is not None:
            terms += _persons_terms(wm, g, p, hard, out, per_hh)
    return terms


def solve_window(
    sub: SubProblem,
    labels: np.ndarray,
    atoms: np.ndarray,
    *,
    seed: int = 0,
    deterministic_time: float = 2.0,
    time_limit: float = 10.0,
    num_workers: int = 1,
    reach: int | None = None,
) -> WindowResult:
    """Re-solve the grids of ``atoms`` exactly, keeping their number.

    Parameters
    ----------
    sub : SubProblem
    labels : ndarray
        The current labels of all atoms of ``sub`` (a contiguous plan).
    atoms : ndarray
        Local atom ids of the window: every atom of the grids to re-solve.
    seed : int
        CP-SAT ``random_seed``.
    deterministic_time, time_limit : float
        CP-SAT's deterministic budget (decides the search, reproducibly) and a
        wall-clock safety cap in seconds.
    num_workers : int
        CP-SAT workers (1 keeps the search deterministic).
    reach : int, optional
        An atom may join a grid only within ``reach`` steps of the grid's
        current atoms (``None``: anywhere in the window).  Two steps keep
        every useful exchange between neighbouring grids and make the model
        several times smaller.

    Returns
    -------
    WindowResult
        ``labels`` are the new labels of ``atoms`` (the current ones if the
        solver found nothing better).
    """
    wm = WindowModel(sub, labels, atoms)
    atoms = wm.atoms
    cur = labels[atoms]
    start_obj = labels_objective(sub, labels, atoms=atoms)
    # each step out of the current grid costs ``big``: the number of steps is dist // big
    limit = np.inf if reach is None else (reach + 1) * wm.big
    wm.add_assignment(wm.dist.T < limit)
    wm.add_exactly_one()
    for g in range(wm.k):
        wm.add_contiguity(g)
    terms = _balance_terms(wm)
    terms += wm.cut_terms()
    compact = compact_costs(sub, atoms, atoms[wm.roots])
    if compact.any():
        terms += [int(compact[i, g]) * var for (i, g), var in wm.x.items() if compact[i, g]]
    wm.model.minimize(sum(terms))
    wm.hint(wm.cur)

    solver = window_solver(seed=seed, deterministic_time=deterministic_time, time_limit=time_limit,
                           num_workers=num_workers)
    status = solver.solve(wm.model)
    name = _STATUS.get(status, "UNKNOWN")
    capped = _wall_capped(solver, name)
    if name in ("OPTIMAL", "FEASIBLE"):
        new = wm.grids[wm.chosen(solver)].astype(np.int64)
        trial = labels.copy()
        trial[atoms] = new
        obj = labels_objective(sub, trial, atoms=atoms)
        if obj < start_obj:
            return WindowResult(new, name, obj, solver.best_objective_bound, start_obj, solver.wall_time, capped)
        return WindowResult(cur.copy(), name, start_obj, solver.best_objective_bound, start_obj, solver.wall_time,
                            capped)
    return WindowResult(cur.copy(), name, start_obj, float("nan"), start_obj, solver.wall_time, capped)


def cut_terms(model: cp_model.CpModel, x: dict, edges, costs, n_groups: int) -> list:
    """Objective terms ``cost × cut`` for the edges whose cost is not zero.

    ``x[i, g]`` (absent: atom ``i`` cannot join ``g``) are the assignment
    literals.  For a positive cost ``cut ≥ |x[a, g] − x[c, g]|`` for every
    group, so the solver pays when the ends part; for a negative cost (a cut
    the objective prefers, along an arterial) ``cut ≤ 1 − (x[a, g] ∧ x[c, g])``.
    """
    terms = []
    for (a, c), cost in zip(np.asarray(edges).tolist(), np.asarray(costs).tolist()):
        if cost == 0:
            continue
        cut = model.new_bool_var(f"cut{a}_{c}")
        for g in range(n_groups):
            xa, xc = x.get((a, g)), x.get((c, g))
            if cost > 0:
                if xa is not None and xc is not None:
                    model.add(cut >= xa - xc)
                    model.add(cut >= xc - xa)
                elif xa is not None:
                    model.add(cut >= xa)
                elif xc is not None:
                    model.add(cut >= xc)
            elif xa is not None and xc is not None:
                model.add(cut + xa + xc <= 2)
        terms.append(int(cost) * cut)
    return terms


def _all_pairs_distance(sub: SubProblem) -> np.ndarray:
    e = sub.edges
    elen = np.hypot(*(sub.xy[e[:, 0]] - sub.xy[e[:, 1]]).T) + 1e-3
    graph = sp.coo_matrix((np.r_[elen, elen], (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])),
                          shape=(sub.n, sub.n)).tocsr()
    return dijkstra(graph)


def _pair_distance(sub: SubProblem, radius_factor: float | None) -> tuple[np.ndarray, int]:
    """Distances along the atom graph between the pairs the exact model keeps
    (``inf``: pruned), and how many connected pairs the radius prunes."""
    D = _all_pairs_distance(sub)
    if radius_factor is None or not len(sub.edges):
        return D, 0
    # pairs farther apart than a few grid radii cannot share a grid in any sensible plan
    e = sub.edges
    step = np.median(np.hypot(*(sub.xy[e[:, 0]] - sub.xy[e[:, 1]]).T))
    radius = radius_factor * np.sqrt(sub.n / sub.k) * step
    far = np.isfinite(D) & (D > radius)
    return np.where(far, np.inf, D), int(far.sum())


def pruned_pairs(sub: SubProblem, radius_factor: float | None) -> int:
    """How many pairs of connected atoms ``solve_exact(radius_factor=...)`` keeps
    apart (0: the model keeps every pair, as ``radius_factor=None`` does).

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> sub = grid_subproblem(4, 4, k=2)
    >>> pruned_pairs(sub, None), pruned_pairs(sub, 0.5) > 0
    (0, True)
    """
    return _pair_distance(sub, radius_factor)[1]


def solve_exact(  # noqa: C901 -- one free-centre model built in one pass, as its docstring reads
    sub: SubProblem,
    hint: np.ndarray | None = None,
    *,
    seed: int = 0,
    deterministic_time: float = 30.0,
    time_limit: float = 60.0,
    num_workers: int = 1,
    soft: bool = False,
    cut_cost: bool = True,
    deviation: bool = True,
    inertia_scale: float = 1e4,
    radius_factor: float | None = 1.5,
    parameters: dict | None = None,
) -> WindowResult:
    """One CP-SAT model for a whole component with free centres (Hess-style).

    ``x[i, j]``: atom ``i`` belongs to the grid centred on atom ``j`` (only
    for pairs within ``radius_factor × sqrt(n / k)`` typical edge lengths along
    the graph); exactly ``k`` centres open; an atom joins centre ``j`` only next to an atom of the
    same grid that is closer to ``j`` along the atom graph (a sufficient
    contiguity condition).  The band is hard (``soft=False``) except for
    centres on atoms above the band; the objective is the households' moment
    of inertia about their centres (metres², scaled) plus the size deviation
    and the cut cost of :mod:`gridpart.model.problem`.  Symmetry is broken by the
    centres themselves (a grid is named by its centre).

    Returns
    -------
    WindowResult
        Labels 0..k-1 (by centre order), the solver's status for this model,
        objective and bound, and the deterministic seconds spent.
        ``INFEASIBLE`` with ``soft=False`` means no plan *of this model* puts
        every grid in the band: with pruned pairs (:func:`pruned_pairs`) or
        the closer-neighbour rule, an in-band plan of the real problem may
        still exist, and the bound is a bound for this model only.
    """
    n, k = sub.n, sub.k
    D, _ = _pair_distance(sub, radius_factor)
    forced = np.zeros(n, bool)
    forced[sub.forced] = True
    nbrs = sub.neighbours()
    w = sub.weight.astype(int)
    total = int(w.sum())
    b = sub.band
    lo, hi, centre = int(np.ceil(b.lo)), int(np.floor(b.hi)), int(round(b.centre))
    model = cp_model.CpModel()
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for j in range(n):
        for i in range(n):
            if np.isfinite(D[i, j]):
                x[i, j] = model.new_bool_var(f"x{i}_{j}")
    y = [x[j, j] for j in range(n)]
    model.add(sum(y) == k)
    for j in np.flatnonzero(forced):
        model.add(y[j] == 1)
    by_atom: list[list] = [[] for _ in range(n)]
    by_centre: list[list[int]] = [[] for _ in range(n)]
    for (i, j), var in x.items():
        by_atom[i].append(var)
        by_centre[j].append(i)
    for i in range(n):
        model.add_exactly_one(by_atom[i])
    terms = []
    per_hh, per_grid = _weights(sub, total)
    for j in range(n):
        members = by_centre[j]
        for i in members:
            if i == j:
                continue
            model.add_implication(x[i, j], y[j])
            closer = [x[m, j] for m in nbrs[i] if (m, j) in x and D[m, j] < D[i, j]]
            if closer:
                model.add_bool_or(closer).only_enforce_if(x[i, j])
            else:
                model.add(x[i, j] == 0)
        size = model.new_int_var(0, total, f"size{j}")
        model.add(size == sum(int(w[i]) * x[i, j] for i in members if w[i]))
        if not forced[j]:
            if soft:
                exc = model.new_int_var(0, max(total, lo), f"exc{j}")
                model.add(exc >= lo - size).only_enforce_if(y[j])
                model.add(exc >= size - hi)
                terms.append(per_hh * exc)
            else:  # linear in y (not half-reified): a much tighter LP bound
                model.add(size >= lo * y[j])
                model.add(size <= hi * y[j])
        if deviation:
            dev = model.new_int_var(0, total + centre, f"dev{j}")
            model.add(dev >= size - centre)
            model.add(dev >= centre - size).only_enforce_if(y[j])
            terms.append(int(DEVIATION_COST) * dev)
        for i in members:
            c = int(round(w[i] * D[i, j] ** 2 / inertia_scale))
            if c:
                terms.append(c * x[i, j])
    if cut_cost:
        terms += cut_terms(model, x, sub.edges, sub.cut_cost, n)
    model.minimize(sum(terms))
    if hint is not None:
        for g in np.unique(hint):
            members = np.flatnonzero(hint == g)
            heavy = members[forced[members]]
            if len(heavy):
                c = heavy[0]
            else:
                d = D[np.ix_(members, members)]
                d = np.where(np.isfinite(d), d, 1e12)  # pairs pruned from the model: never a centre
                cost = ((w[members][:, None] + 1e-6) * d ** 2).sum(axis=0)
                c = members[int(np.argmin(cost))]
            for i in members:
                if (i, c) in x:
                    model.add_hint(x[i, c], 1)
    solver = window_solver(seed=seed, deterministic_time=deterministic_time, time_limit=time_limit,
                           num_workers=num_workers)
    prm = solver.parameters
    # no repair_hint: OR-Tools 9.15 aborts the whole process with "Check failed:
    # heuristics.fixed_search != nullptr" when a search with a repaired hint is
    # stopped at some points (measured here: every budget from 0.66 to 0.9
    # deterministic seconds on a 12 x 12 lattice with 10 grids, and at random
    # under a wall-clock cap); the hint is still used as a plain hint
    for key, value in (parameters or {}).items():
        setattr(prm, key, value)
    status = _STATUS.get(solver.solve(model), "UNKNOWN")
    capped = _wall_capped(solver, status)
    spent = float(solver.response_proto.deterministic_time)
    if status not in ("OPTIMAL", "FEASIBLE"):
        return WindowResult(np.zeros(0, np.int64), status, float("nan"), solver.best_objective_bound,
                            float("nan"), solver.wall_time, capped, spent)
    centre_of = np.full(n, -1)
    for (i, j), var in x.items():
        if solver.boolean_value(var):
            centre_of[i] = j
    _, labels = np.unique(centre_of, return_inverse=True)
    return WindowResult(labels.astype(np.int64), status, solver.objective_value, solver.best_objective_bound,
                        float("nan"), solver.wall_time, capped, spent)
