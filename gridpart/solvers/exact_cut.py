"""Exact minimum-cut partition of one sub-problem (``objective="cut"``).

Minimises the cut cost the LNS uses (:attr:`SubProblem.cut_cost`, from
:func:`gridpart.model.problem.edge_costs`: per edge, by road class, the cost of
cutting it minus the cost of leaving it inside a grid; ``non_road`` cuts are
dear, arterials inside a grid cost) subject to ``k`` contiguous grids, each
inside the households band (hard), and proves it where it can.

The model follows Validi & Buchanan, "Political districting to minimize cut
edges" (Math. Prog. Comp. 2022), adapted to CP-SAT:

* **Hess assignment with a vertex order** (their "D-fixing"):
  ``x[i, j] = 1`` when atom ``i`` is in the grid rooted at atom ``j``, where
  the root is the *first* atom of the grid in a fixed order, so
  ``x[i, j]`` exists only for ``i`` at or after ``j``.  A grid is named by its
  root: no two labellings of one plan, which removes the ``k!`` symmetry of
  a plain labelling model.  The order puts atoms above the band first (each
  heads a grid of its own, outside the band), then the heavier atoms first
  (their "decreasing" order), which makes the fixing rules below bite.
* **Fixing rules** (their L- and U-fixing, contiguity-aware): ``j`` can root
  a grid only when the atoms reachable from ``j`` among the atoms from ``j``
  on hold at least the band's lower limit; ``i`` can join ``j`` only when a
  path from ``j`` to ``i`` through atoms from ``j`` on weighs at most the upper
  limit.
* **Extended cut objective** (their ``Z`` variables): for edge ``(a, b)`` and
  root ``j``, ``z[a, b, j] = x[a, j] ∧ ¬x[b, j]`` and ``cut = Σ_j z``: a
  tighter LP relaxation than ``cut ≥ |x[a, j] − x[b, j]|``, and exact for the
  negative costs (arterials) the objective wants cut.
* **Contiguity** (exact, necessary and sufficient), one of
  ``"flow"`` — a single-commodity flow (their SCF): every atom that is not a
  root consumes one unit, roots supply their grid, flow only along uncut
  edges; ``"tree"`` — every non-root atom picks a parent across an uncut edge
  with a smaller depth; ``"cuts"`` — no contiguity in the model, a
  solve–separate–re-solve loop adds the violated *a–b separator* inequalities
  ``x[a, j] ≤ Σ_{v ∈ N(C)} x[v, j]`` for each piece ``C`` of a grid cut off
  from its root (CP-SAT has no lazy constraints).
* **Warm start**: the plan of the windowed search (``lns``), when it is
  contiguous and in the band, is the hint and its cut cost an objective
  cutoff.

Measured (``benchmarks/results/exact_cut.md``, deterministic seconds on one
worker): the parent-tree model proves fastest (0.02–8 s where any variant
proves, 34 atoms or fewer); the flow model is 2–4 times slower and stops with
gaps where the tree proves; the separator loop is slower still (each round
solves a relaxation to optimality: 3–34 rounds).  The fixing rules cut the
assignment variables 2–8 times; the warm start matters most when a plan in
a tight band is hard to find.  From about 60 atoms the bound closes only part of
the distance from the trivial one (every negative-cost edge cut) to the best
plan, so proofs stop there.

``OPTIMAL`` is a proof for the user's problem: every rule above is valid for
every contiguous plan in the band (the fixings are implied, the symmetry
breaking keeps one labelling of each plan).  When no plan fits the band the
model is solved again with the band soft (households outside it paid for
with a dominating weight), and the method says so.
"""

from __future__ import annotations

import heapq
import time
from collections import deque

import numpy as np
from ortools.sat.python import cp_model

from gridpart.model.problem import SubProblem
from gridpart.model.result import CP_STATUS, SubResult

__all__ = ["CONTIGUITY", "CUT_NAME", "CutModel", "cut_objective", "cut_solver", "plan_is_valid", "solve_exact_cut"]

CONTIGUITY = ("flow", "tree", "cuts")

CUT_NAME = ("exact-cut: Hess assignment rooted at each grid's first atom, {contiguity} contiguity (exact), "
            "band {band}; objective: cut cost by road class")

_STATUS = CP_STATUS


def cut_objective(sub: SubProblem, labels: np.ndarray) -> int:
    """The cut cost of a labelling: Σ ``cut_cost`` over edges whose ends differ.

    Examples
    --------
    >>> import numpy as np
    >>> from gridpart.testing import grid_subproblem
    >>> sub = grid_subproblem(2, 2, k=2)      # four atoms, four streets of cost 50
    >>> cut_objective(sub, np.array([0, 0, 1, 1]))
    100
    """
    e = sub.edges
    if len(e) == 0:
        return 0
    return int(sub.cut_cost[labels[e[:, 0]] != labels[e[:, 1]]].sum())


def _bounds(sub: SubProblem) -> tuple[int, int]:
    b = sub.band
    return int(np.ceil(b.lo - 1e-9)), int(np.floor(b.hi + 1e-9))


def plan_is_valid(sub: SubProblem, labels: np.ndarray, *, band: bool = True) -> bool:
    """Whether ``labels`` is a plan of the hard model: ``k`` contiguous grids, each
    atom above the band heading a grid of its own, every other grid in the band
    (with ``band=False``, in the band or not: a plan of the soft model).

    Examples
    --------
    >>> import numpy as np
    >>> from gridpart.testing import grid_subproblem
    >>> sub = grid_subproblem(2, 2, k=2)       # 100 households an atom, band 160-240
    >>> plan_is_valid(sub, np.array([0, 0, 1, 1])), plan_is_valid(sub, np.array([0, 1, 1, 0]))
    (True, False)
    """
    labels = np.asarray(labels)
    if labels is None or len(labels) != sub.n or labels.min() < 0:
        return False
    _, labels = np.unique(labels, return_inverse=True)
    if labels.max() + 1 != sub.k:
        return False
    forced = np.zeros(sub.n, bool)
    forced[sub.forced] = True
    heads = labels[sub.forced]
    if len(np.unique(heads)) != len(heads):
        return False
    lo, hi = _bounds(sub)
    sizes = np.bincount(labels, weights=sub.weight, minlength=sub.k)
    free = np.ones(sub.k, bool)
    free[heads] = False
    if band and np.any((sizes[free] < lo) | (sizes[free] > hi)):
        return False
    nbrs = sub.neighbours()
    for g in range(sub.k):
        members = np.flatnonzero(labels == g)
        seen = {int(members[0])}
        todo = [int(members[0])]
        while todo:
            u = todo.pop()
            for v in nbrs[u]:
                if labels[v] == g and int(v) not in seen:
                    seen.add(int(v))
                    todo.append(int(v))
        if len(seen) != len(members):
            return False
    return True


def _order(sub: SubProblem) -> np.ndarray:
    """Atoms in model order: above the band first, then by decreasing households (ties: id)."""
    forced = np.zeros(sub.n, bool)
    forced[sub.forced] = True
    return np.lexsort((np.arange(sub.n), -sub.weight, ~forced))


def _allowed(sub: SubProblem, order: np.ndarray, nbrs, *, fix: bool) -> list[dict[int, int]]:
    """Per root ``j`` (atom id): the atoms that may join it, with their path weight from ``j``.

    Only atoms from ``j`` on in ``order`` (and no other atom above the band)
    may join; with ``fix``, also only those reachable from ``j`` through such
    atoms by a path of at most the upper limit (U-fixing), and ``j`` only when
    those reachable hold at least the lower limit (L-fixing).  Atoms above the
    band have no limits (their grids are out of the band anyway).
    """
    n = sub.n
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    forced = np.zeros(n, bool)
    forced[sub.forced] = True
    w = sub.weight.astype(np.int64)
    lo, hi = _bounds(sub)
    out: list[dict[int, int]] = [{} for _ in range(n)]
    for j in order.tolist():
        ok = (pos >= pos[j]) & ~forced
        ok[j] = True
        limit = hi if (fix and not forced[j]) else None
        # vertex-weighted Dijkstra from j inside ``ok``
        dist = {j: int(w[j])}
        heap = [(int(w[j]), j)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist.get(u, 1 << 62):
                continue
            for v in nbrs[u].tolist():
                if not ok[v]:
                    continue
                nd = d + int(w[v])
                if limit is not None and nd > limit:
                    continue
                if nd < dist.get(v, 1 << 62):
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
        if fix and not forced[j] and sum(int(w[i]) for i in dist) < lo:
            # L-fixing: a grid rooted at j lies among the atoms within the upper limit of it
            continue
        out[j] = dist
    return out


def _components(members: list[int], inside: set[int], nbrs) -> list[list[int]]:
    seen: set[int] = set()
    comps = []
    for s in members:
        if s in seen:
            continue
        comp, todo = [s], [s]
        seen.add(s)
        while todo:
            u = todo.pop()
            for v in nbrs[u].tolist():
                if v in inside and v not in seen:
                    seen.add(v)
                    comp.append(v)
                    todo.append(v)
        comps.append(comp)
    return comps


class CutModel:
    """The CP-SAT model (built once; the ``cuts`` loop adds separators to it)."""

    def __init__(self, sub: SubProblem, *, contiguity: str, soft: bool, fix: bool,  # noqa: C901  (the model, read as one sequence)
                 band_only: bool = False):
        self.sub = sub
        n, k = sub.n, sub.k
        self.order = _order(sub)
        self.nbrs = nbrs = sub.neighbours()
        self.allowed = allowed = _allowed(sub, self.order, nbrs, fix=fix and not soft)
        forced = np.zeros(n, bool)
        forced[sub.forced] = True
        w = sub.weight.astype(np.int64)
        lo, hi = _bounds(sub)
        total = int(w.sum())
        m = self.model = cp_model.CpModel()
        x = self.x = {}
        self.by_atom: list[list[int]] = [[] for _ in range(n)]
        for j in range(n):
            for i in allowed[j]:
                x[i, j] = m.new_bool_var(f"x{i}_{j}")
                self.by_atom[i].append(j)
        self.roots = roots = [j for j in range(n) if (j, j) in x]
        for i in range(n):
            m.add_exactly_one([x[i, j] for j in self.by_atom[i]])
        m.add(sum(x[j, j] for j in roots) == k)
        for f in sub.forced.tolist():
            m.add(x[f, f] == 1)
        terms = []
        # a dominating weight per household outside the band (soft band only)
        self.per_hh = int(np.abs(sub.cut_cost).sum()) + 1
        self.size = {}
        for j in roots:
            members = [i for i in allowed[j]]
            for i in members:
                if i != j:
                    m.add_implication(x[i, j], x[j, j])
            size = sum(int(w[i]) * x[i, j] for i in members if w[i])
            if forced[j]:
                continue
            if soft:
                exc = m.new_int_var(0, max(total, lo), f"exc{j}")
                s = m.new_int_var(0, total, f"size{j}")
                m.add(s == size)
                m.add(exc >= lo - s).only_enforce_if(x[j, j])
                m.add(exc >= s - hi)
                terms.append((1 if band_only else self.per_hh) * exc)
            else:
                m.add(size >= lo * x[j, j])
                m.add(size <= hi * x[j, j])
        # extended cut objective: cut[e] = Σ_j x[a, j] ∧ ¬x[b, j], exact for both signs
        self.cut = []
        cost_terms = []
        for (a, b), c in zip(sub.edges.tolist(), sub.cut_cost.tolist()):
            zs = []
            for j in self.by_atom[a]:
                xa, xb = x[a, j], x.get((b, j))
                if xb is None:
                    zs.append(xa)
                    continue
                z = m.new_bool_var(f"z{a}_{b}_{j}")
                m.add(z >= xa - xb)
                m.add_implication(z, xa)
                m.add_implication(z, xb.Not())
                zs.append(z)
            cut = m.new_bool_var(f"cut{a}_{b}")
            m.add(cut == sum(zs))
            self.cut.append(cut)
            if c:
                cost_terms.append(int(c) * cut)
        self.cut_expr = sum(cost_terms)
        # band_only (soft): households outside the band alone, to find a plan in it
        self.objective = sum(terms) if band_only else self.cut_expr + sum(terms)
        m.minimize(self.objective)
        self.contiguity = contiguity
        self.flow = {}
        self.parent = {}
        self.depth = {}
        if contiguity == "flow":
            self._flow(w, hi, soft)
        elif contiguity == "tree":
            self._tree(w, hi, soft)

    def _big_m(self, w, hi, soft) -> int:
        """Most atoms one grid can hold, less one (its root)."""
        n = self.sub.n
        if soft or len(self.sub.forced):
            return n - 1
        ws = np.sort(w)
        return max(1, min(n - 1, int(np.searchsorted(np.cumsum(ws), hi, side="right")) - 1))

    def _flow(self, w, hi, soft) -> None:
        m, x, sub = self.model, self.x, self.sub
        big = self._big_m(w, hi, soft)
        inflow = [[] for _ in range(sub.n)]
        outflow = [[] for _ in range(sub.n)]
        for e, (a, b) in enumerate(sub.edges.tolist()):
            fab = m.new_int_var(0, big, f"f{a}_{b}")
            fba = m.new_int_var(0, big, f"f{b}_{a}")
            self.flow[a, b], self.flow[b, a] = fab, fba
            m.add(fab + fba <= big * (1 - self.cut[e]))
            outflow[a].append(fab)
            inflow[b].append(fab)
            outflow[b].append(fba)
            inflow[a].append(fba)
        for v in range(sub.n):
            # out − in = (atoms of v's grid, when v roots one) − 1
            held = sum(x[i, v] for i in self.allowed[v]) if (v, v) in x else 0
            m.add(sum(outflow[v]) - sum(inflow[v]) == held - 1)
            if (v, v) in x:
                m.add(sum(inflow[v]) <= big * (1 - x[v, v]))

    def _tree(self, w, hi, soft) -> None:
        m, x, sub = self.model, self.x, self.sub
        big = self._big_m(w, hi, soft)
        into = [[] for _ in range(sub.n)]
        for e, (a, b) in enumerate(sub.edges.tolist()):
            for u, v in ((a, b), (b, a)):
                p = m.new_bool_var(f"p{u}_{v}")
                self.parent[u, v] = p
                m.add_implication(p, self.cut[e].Not())
                into[v].append(p)
        for v in range(sub.n):
            self.depth[v] = m.new_int_var(0, big, f"d{v}")
        for v in range(sub.n):
            root = x.get((v, v), 0)
            m.add(sum(into[v]) + root == 1)
        for (u, v), p in self.parent.items():
            m.add(self.depth[v] >= self.depth[u] + 1).only_enforce_if(p)

    # --- hints -------------------------------------------------------------------
    def plan_values(self, labels: np.ndarray) -> dict:
        """Values of every model variable for a valid plan (root = first atom in order)."""
        sub = self.sub
        pos = np.empty(sub.n, np.int64)
        pos[self.order] = np.arange(sub.n)
        root_of = {}
        for g in np.unique(labels):
            members = np.flatnonzero(labels == g)
            root_of[int(g)] = int(members[np.argmin(pos[members])])
        r = np.array([root_of[int(g)] for g in labels])
        vals = {}
        for (i, j), var in self.x.items():
            vals[var] = int(r[i] == j)
        for e, (a, b) in enumerate(sub.edges.tolist()):
            vals[self.cut[e]] = int(labels[a] != labels[b])
        if self.flow or self.parent:
            # BFS tree of each grid from its root: flow = subtree size, parent arcs, depth
            parent = np.full(sub.n, -1)
            depth = np.zeros(sub.n, np.int64)
            bfs = []
            for j in sorted(set(root_of.values())):
                seen = {j}
                q = deque([j])
                while q:
                    u = q.popleft()
                    bfs.append(u)
                    for v in self.nbrs[u].tolist():
                        if labels[v] == labels[j] and v not in seen:
                            seen.add(v)
                            parent[v] = u
                            depth[v] = depth[u] + 1
                            q.append(v)
            sub_size = np.ones(sub.n, np.int64)
            for u in reversed(bfs):
                if parent[u] >= 0:
                    sub_size[parent[u]] += sub_size[u]
            for (u, v), f in self.flow.items():
                vals[f] = int(sub_size[v]) if parent[v] == u else 0
            for (u, v), p in self.parent.items():
                vals[p] = int(parent[v] == u)
            for v, d in self.depth.items():
                vals[d] = int(depth[v])
        return vals

    def labels(self, solver: cp_model.CpSolver) -> np.ndarray:
        root = np.full(self.sub.n, -1)
        for (i, j), var in self.x.items():
            if solver.boolean_value(var):
                root[i] = j
        _, labels = np.unique(root, return_inverse=True)
        return labels.astype(np.int64)


def cut_solver(seed: int, budget: float, cap: float, workers: int, parameters: dict | None) -> cp_model.CpSolver:
    """A CP-SAT solver with a deterministic ``budget`` and a wall-clock ``cap`` (seconds), seeded."""
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = int(workers)
    prm.random_seed = int(seed)
    prm.max_deterministic_time = float(budget)
    prm.max_time_in_seconds = float(cap)
    if workers > 1:
        prm.interleave_search = True  # reproducible with several workers (DESIGN §5)
    for key, value in (parameters or {}).items():
        if isinstance(value, (list, tuple)):  # repeated fields (e.g. subsolvers)
            getattr(prm, key).extend(value)
        else:
            setattr(prm, key, value)
    return solver


def _separate(mdl: CutModel, labels_root: np.ndarray) -> int:
    """Add the a–b separator inequalities violated by a solution; return how many."""
    added = 0
    x, m = mdl.x, mdl.model
    for j in np.unique(labels_root).tolist():
        members = np.flatnonzero(labels_root == j).tolist()
        inside = set(members)
        for comp in _components(members, inside, mdl.nbrs):
            if j in comp:
                continue
            cset = set(comp)
            boundary = sorted({v for u in comp for v in mdl.nbrs[u].tolist() if v not in cset})
            rhs = [x[v, j] for v in boundary if (v, j) in x]
            for a in comp:
                if rhs:
                    m.add_bool_or(rhs).only_enforce_if(x[a, j])
                    m.add(x[a, j] <= sum(rhs))  # the linear form, for the LP relaxation
                else:
                    m.add(x[a, j] == 0)
                added += 1
    return added


def _warm_start(mdl: CutModel, sub: SubProblem, hint: np.ndarray | None, *, soft: bool, band_only: bool,
                cutoff: bool) -> tuple[np.ndarray | None, float]:
    """Hint the model with ``hint`` where it is a plan of it; returns the hint's labels and objective when valid.

    A hint valid for the hard model also bounds the objective (``cutoff``); a plan of
    the soft model only is a hint alone, and ``(None, inf)`` is returned.
    """
    best_labels, best_obj = None, float("inf")
    if hint is not None and plan_is_valid(sub, hint):
        best_labels = np.unique(hint, return_inverse=True)[1].astype(np.int64)
        best_obj = 0.0 if soft and band_only else float(cut_objective(sub, best_labels))
        for var, val in mdl.plan_values(best_labels).items():
            mdl.model.add_hint(var, val)
        if cutoff:
            mdl.model.add(mdl.objective <= int(best_obj))
    elif hint is not None and soft and plan_is_valid(sub, hint, band=False):
        # a plan of the soft model: the hint only (its objective is not computed here)
        for var, val in mdl.plan_values(np.unique(hint, return_inverse=True)[1]).items():
            mdl.model.add_hint(var, val)
    return best_labels, best_obj


def _roots(mdl: CutModel, solver, n: int) -> np.ndarray:
    """The root each atom is assigned to in the solver's solution (-1 for none)."""
    root = np.full(n, -1)
    for (i, j), var in mdl.x.items():
        if solver.boolean_value(var):
            root[i] = j
    return root


def solve_exact_cut(
    sub: SubProblem,
    hint: np.ndarray | None = None,
    *,
    seed: int = 0,
    time_limit: float = 60.0,
    effort: float = 10.0,
    num_workers: int = 1,
    contiguity: str = "tree",
    soft: bool = False,
    band_only: bool = False,
    fix: bool = True,
    cutoff: bool = True,
    parameters: dict | None = None,
    stats: dict | None = None,
):
    """Minimum cut cost plan of ``sub`` with ``k`` contiguous grids in the band, proven where possible.

    Parameters
    ----------
    sub : SubProblem
    hint : ndarray, optional
        A plan (one label per atom).  When it is valid for the hard model
        (:func:`plan_is_valid`), it is the solver's hint and its cut cost an
        objective cutoff (``cutoff=True``).
    seed : int
        CP-SAT ``random_seed``.
    time_limit : float
        Wall-clock cap in seconds (a guard; ``effort`` decides the search).
    effort : float
        CP-SAT deterministic time budget (summed over the rounds of
        ``contiguity="cuts"``).
    num_workers : int
        CP-SAT workers; more than one runs with ``interleave_search``, so the
        result stays reproducible.
    contiguity : {"flow", "tree", "cuts"}
        The contiguity model (module docstring).
    soft : bool
        The band soft (for sub-problems where no plan fits it); the fixing
        rules, which assume the band, are then off.
    band_only : bool
        With ``soft``: minimise the households outside the band only (a
        search for a plan in the band, from a hint that misses it); the
        objective then counts households, not cut cost.
    fix : bool
        Apply the L- and U-fixing rules.
    cutoff : bool
        Bound the objective by the hint's cut cost.
    parameters : dict, optional
        Extra CP-SAT parameters.
    stats : dict, optional
        Filled with ``deterministic_s`` (CP-SAT's deterministic time, all
        rounds), ``rounds``, ``x_vars`` (assignment variables left after
        the fixings) and ``hinted`` (a valid warm start was given).

    Returns
    -------
    SubResult
        ``objective`` and ``bound`` are cut costs (plus, with ``soft``, the
        dominating weight per household outside the band); labels 0..k-1;
        empty labels when no plan was found.

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> res = solve_exact_cut(grid_subproblem(3, 4, k=3), seed=0, effort=5)
    >>> str(res.status), res.objective, res.bound     # a strip of 4 and two 2x2 squares: 6 streets of cost 50
    ('OPTIMAL', 300.0, 300.0)
    """
    if contiguity not in CONTIGUITY:
        raise ValueError(f"contiguity must be one of {CONTIGUITY}, got {contiguity!r}")
    t0 = time.perf_counter()
    mdl = CutModel(sub, contiguity=contiguity, soft=soft, fix=fix, band_only=soft and band_only)
    method = CUT_NAME.format(contiguity={"flow": "single-commodity flow", "tree": "parent-tree",
                                         "cuts": "separator cuts (re-solve loop)"}[contiguity],
                             band="soft (no plan fits it)" if soft else "hard")
    best_labels, best_obj = _warm_start(mdl, sub, hint, soft=soft, band_only=band_only, cutoff=cutoff)
    spent = 0.0
    rounds = 0
    bound = float("-inf")
    status = "UNKNOWN"
    capped = False
    while True:
        rounds += 1
        left_wall = max(0.5, time_limit - (time.perf_counter() - t0))
        solver = cut_solver(seed, max(0.05, effort - spent), left_wall, num_workers, parameters)
        code = solver.solve(mdl.model)
        name = _STATUS.get(code, "UNKNOWN")
        spent += solver.response_proto.deterministic_time
        ran = solver.response_proto.deterministic_time
        if name in ("FEASIBLE", "UNKNOWN") and ran < solver.parameters.max_deterministic_time:
            capped = True
        if name == "INFEASIBLE":
            # a valid hint satisfies the model (its cutoff included), so this cannot
            # happen with one; were it to, the hint stands, unproven
            status = "FEASIBLE" if best_labels is not None else "INFEASIBLE"
            break
        if name not in ("OPTIMAL", "FEASIBLE"):
            # CP-SAT's bound of an UNKNOWN search may be the unset default (0): keep the
            # trivial one, every edge that pays for being inside cut and no other
            status = "UNKNOWN" if best_labels is None else "FEASIBLE"
            bound = max(bound, float(np.minimum(sub.cut_cost, 0).sum())) if not (soft and band_only) else bound
            break
        if contiguity != "cuts":
            labels = mdl.labels(solver)
            obj = float(solver.objective_value)
            if obj <= best_obj:
                best_labels, best_obj = labels, obj
            bound = float(solver.best_objective_bound)
            status = name
            break
        # cuts: the model is a relaxation; its bound is valid for the real problem
        root = _roots(mdl, solver, sub.n)
        bound = max(bound, float(solver.best_objective_bound))
        if _separate(mdl, root) == 0:
            labels = np.unique(root, return_inverse=True)[1].astype(np.int64)
            obj = float(solver.objective_value)
            if obj <= best_obj:
                best_labels, best_obj = labels, obj
            status = name
            if name == "OPTIMAL":
                bound = best_obj
            break
        if spent >= effort or time.perf_counter() - t0 >= time_limit:
            status = "FEASIBLE" if best_labels is not None else "UNKNOWN"
            capped = capped or time.perf_counter() - t0 >= time_limit
            break
    if status == "OPTIMAL":
        bound = best_obj
    if stats is not None:
        stats.update(deterministic_s=spent, rounds=rounds, x_vars=len(mdl.x),
                     hinted=hint is not None and plan_is_valid(sub, hint, band=not soft))
    wall = time.perf_counter() - t0
    return _result(best_labels, status, method, best_obj, bound, wall, rounds, capped)


def _result(best_labels: np.ndarray | None, status: str, method: str, best_obj: float, bound: float, wall: float,
            rounds: int, capped: bool) -> SubResult:
    """The SubResult of a search: empty labels when it found no plan, NaN for an unknown bound."""
    if best_labels is None:
        return SubResult(np.zeros(0, np.int64), status, method, float("nan"),
                         bound if np.isfinite(bound) else float("nan"), wall, rounds, 0, capped)
    if not np.isfinite(bound):
        bound = float("nan")
    return SubResult(best_labels, status, method, best_obj, bound, wall, rounds, 0, capped)
