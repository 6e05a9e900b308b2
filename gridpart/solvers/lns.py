"""Solve one sub-problem: seed plan, then exact windows (large-neighbourhood search).

A component small enough is solved as one window (every grid at once).
Larger ones are improved window by window: a grid (worst first) and up to
three neighbouring grids are freed and re-solved exactly with CP-SAT; an
improvement is kept, and the search goes on until a pass over all grids
improves nothing or the budget is spent.  A last balance phase re-solves
windows around the grids still outside ±10 % with free roots and exact
contiguity (:func:`_balance`).  Windows are visited in a fixed
order and each CP-SAT call has a deterministic budget, so the same seed gives
the same plan — unless the wall-clock ``time_limit`` stops the search first:
the result then says so (:attr:`SubResult.time_capped`), because it depends on
the machine's speed and load.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from ortools.sat.python import cp_model

from gridpart.model.problem import DEVIATION_COST, INNER_COST, SubProblem
from gridpart.model.result import SubResult
from gridpart.solvers.cpsat import (
    labels_objective,
    pruned_pairs,
    solve_exact,
    solve_window,
)
from gridpart.solvers.exact_cut import CutModel, cut_objective, cut_solver, plan_is_valid, solve_exact_cut
from gridpart.solvers.seed import seed_plan

__all__ = ["EXACT_TIME_SHARE", "MODEL_NAME", "PROOF_PROBLEM", "RADIUS_STEPS",
    "SOFT_BAND", "SubResult", "solve_subproblem"]

log = logging.getLogger(__name__)

MODEL_NAME = "rooted-order contiguity; objective: out-of-band, excess, deviation, cut cost"
EXACT_NAME = "exact: free centres, closer-neighbour contiguity; objective: households' moment of inertia"

#: The exact model's default deterministic budget (``effort``), per second of
#: ``time_limit``: ``effort = EXACT_TIME_SHARE × time_limit`` (24 deterministic
#: seconds for the default 60 s).  Calibrated so that a search that finds no
#: proof uses most of ``time_limit`` on an ordinary 2-core machine: one
#: deterministic second of that model took 1.6-2.2 wall seconds on the 2 shared
#: cores it was measured on (about 0.5 deterministic seconds per wall second;
#: issue 17).  The budget, not the wall clock, ends the search, so the plan is
#: reproducible; on a machine more than about 20 % slower the wall clock binds
#: first and the result is marked ``time_capped``.
EXACT_TIME_SHARE = 0.4

#: The exact model's candidate pairs (atom, centre), step by step: first those
#: within 1.5 grid radii along the atom graph, then 3, then every pair.  A
#: step is taken only when the one before proves that no plan of its model
#: puts every grid in the band.
RADIUS_STEPS: tuple[float | None, ...] = (1.5, 3.0, None)

#: ``SubResult.proof`` when nothing in the model solved cuts off a plan the
#: user's problem allows: the status and bound are then the problem's own.
PROOF_PROBLEM = "problem"

_CONTIGUITY = "closer-neighbour contiguity (sufficient only)"
#: How ``SubResult.proof`` names a softened band.
SOFT_BAND = "softened band"
_WINDOW = "window model (roots fixed from the current plan, rooted-order contiguity)"
_LNS = "none: windowed search, no bound (each window: " + _WINDOW.removeprefix("window model (")


def _badness(sub: SubProblem, labels: np.ndarray, k: int) -> np.ndarray:
    """Per grid: households outside the band (×1e6), beyond ±10 % (×1e3), then deviation."""
    sizes = np.bincount(labels, weights=sub.weight, minlength=k)
    b = sub.band
    # whole households, as the model counts them: a band of 18.13-27.2 holds 19-27
    excess = np.maximum(0, np.maximum(np.ceil(b.lo - 1e-9) - sizes, sizes - np.floor(b.hi + 1e-9)))
    ilo, ihi = sub.inner_band()
    inner = np.maximum(0, np.maximum(ilo - sizes, sizes - ihi))
    bad = excess * 1e6 + inner * 1e3 + np.abs(sizes - b.centre)
    # a grid headed by an atom above the band cannot do better
    bad[np.unique(labels[sub.forced])] = 0.0
    return bad


def _grid_neighbours(sub: SubProblem, labels: np.ndarray, k: int) -> list[np.ndarray]:
    """Neighbouring grids of each grid, ascending."""
    e = sub.edges
    la, lb = labels[e[:, 0]], labels[e[:, 1]]
    diff = la != lb
    pairs = np.unique(np.r_[la[diff] * k + lb[diff], lb[diff] * k + la[diff]])
    src, dst = pairs // k, pairs % k
    cuts = np.searchsorted(src, np.arange(k + 1))
    return [dst[cuts[g]:cuts[g + 1]] for g in range(k)]


def _windows(sub: SubProblem, labels: np.ndarray, k: int, candidates: np.ndarray, bad: np.ndarray,
             max_grids: int, max_atoms: int) -> list[list[int]]:
    """Disjoint windows around ``candidates`` (worst first): each a grid and its
    neighbours, breadth first; out-of-band grids get twice the grids and 1.5×
    the atoms, so a deficit can be spread over several grids."""
    nbrs = _grid_neighbours(sub, labels, k)
    counts = np.bincount(labels, minlength=k)
    used = np.zeros(k, bool)
    out: list[list[int]] = []
    for g in candidates.tolist():
        if used[g]:
            continue
        far = bad[g] >= 1e6
        grid_cap = max_grids + 2 if far else max_grids
        atom_cap = max_atoms * 3 // 2 if far else max_atoms
        window, count, frontier = [g], int(counts[g]), [g]
        used[g] = True
        while frontier and len(window) < grid_cap:
            nxt = []
            for f in frontier:
                cand = nbrs[f][~used[nbrs[f]]]
                for h in cand[np.lexsort((cand, -bad[cand]))].tolist():
                    if len(window) >= grid_cap or count + counts[h] > atom_cap:
                        continue
                    window.append(h)
                    used[h] = True
                    count += int(counts[h])
                    nxt.append(h)
            frontier = nxt if far else []
        if len(window) >= 2:
            out.append(window)
        else:
            used[g] = False
    return out


def _solve_window_task(args) -> tuple[np.ndarray, float, float, bool]:
    """Worker: one window as its own small sub-problem (picklable, no shared state)."""
    wsub, wlabels, seed, budget, cap, reach = args
    res = solve_window(wsub, wlabels, np.arange(wsub.n), seed=seed, deterministic_time=budget, time_limit=cap,
                       reach=reach)
    return res.labels, res.objective, res.start_objective, res.time_capped


def solve_subproblem(
    sub: SubProblem,
    *,
    strategy: str = "auto",
    seed: int = 0,
    time_limit: float = 60.0,
    window_time: float = 0.5,
    max_window_atoms: int = 160,
    max_window_grids: int = 5,
    whole_atoms: int = 150,
    whole_grids: int = 3,
    max_passes: int = 8,
    polish_passes: int | None = None,
    balance_passes: int = 2,
    effort: float | None = None,
    n_jobs: int = 1,
    reach: int | None = 2,
    objective: str = "compact",
) -> SubResult:
    """Grid labels for one sub-problem.

    Parameters
    ----------
    sub : SubProblem
    strategy : {"auto", "exact", "lns", "seed"}
        ``seed``: the tree-bisection seed only.  ``lns``: seed, then windows.
        ``exact``: one free-centre CP-SAT model over the whole component
        (:func:`gridpart.solvers.cpsat.solve_exact`, objective: moment of
        inertia, band hard) with ``effort`` deterministic seconds, proving
        optimality for that model where it can.  When the model proves that
        none of its plans fits the band, its candidate centres are widened
        (:data:`RADIUS_STEPS`, up to every pair) within the same ``effort``;
        then the ``lns`` plan is taken when every grid of it is in the band;
        only then is the band softened (``proof`` and the ``method`` say so).
        ``auto``: the whole
        component as one window when it has at most ``whole_atoms`` atoms and
        ``whole_grids`` grids, falling back to windows, else ``lns``.
    seed : int
    time_limit : float
        Wall-clock safety cap in seconds for this sub-problem.  Deterministic
        budgets end the search; when this cap ends it first, the result has
        ``time_capped=True`` and depends on the machine's speed.
    window_time : float
        CP-SAT deterministic time per window.
    balance_passes : int
        Passes of the balance phase (:func:`_balance`: windows around the
        grids outside ±10 % re-solved with free roots and exact contiguity)
        after the polish; 0 turns it off.
    effort : float, optional
        CP-SAT deterministic seconds for the sub-problem: the budget that
        decides the search, reproducibly.  ``exact``: for the exact model
        (all its radius steps together); default ``EXACT_TIME_SHARE ×
        time_limit`` (24 for 60 s), which uses most of ``time_limit`` on an
        ordinary 2-core machine when no proof comes sooner.  ``auto`` and
        ``lns``: a cap on the sum of the windows' budgets (the search stops
        before a window that would exceed it); default none: the search ends
        when a pass improves nothing.
    objective : {"compact", "cut"}
        The exact model's objective: ``"compact"`` the households' moment of
        inertia (above); ``"cut"`` the cut cost by road class that ``lns``
        minimises, with exact contiguity and the band hard
        (:func:`gridpart.solvers.exact_cut.solve_exact_cut`, warm-started
        and cut off by a plan in the band; ``n_jobs`` CP-SAT workers, with
        ``interleave_search`` so the result stays reproducible).  Other
        strategies ignore it.

    Returns
    -------
    SubResult

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> res = solve_subproblem(grid_subproblem(4, 4, k=2), strategy="exact", time_limit=30)
    >>> str(res.status), int(res.labels.max()) + 1, res.time_capped, res.effort
    ('OPTIMAL', 2, False, 12.0)
    >>> res.proof.split("; ")  # what the status covers: the model's restrictions
    ['closer-neighbour contiguity (sufficient only)', 'pruned centres (pairs within 1.5 grid radii)']
    """
    t0 = time.perf_counter()
    labels = seed_plan(sub, seed=seed)
    k = int(labels.max()) + 1 if sub.n else 0
    if k <= 1:
        obj = labels_objective(sub, labels) if sub.n else 0.0
        return SubResult(labels, "OPTIMAL", "single grid", obj, obj, time.perf_counter() - t0, 0, 0,
                         proof=PROOF_PROBLEM, effort=0.0)
    if strategy == "seed":
        obj = labels_objective(sub, labels)
        return SubResult(labels, "FEASIBLE", "seed", obj, float("nan"), time.perf_counter() - t0, 0, 0,
                         proof="none: seed plan, no search", effort=0.0)
    if strategy == "exact":
        budget = EXACT_TIME_SHARE * time_limit if effort is None else float(effort)
        if objective == "cut":
            return _exact_cut(sub, seed=seed, time_limit=time_limit, t0=t0, budget=budget, num_workers=n_jobs)
        return _exact(sub, labels, seed=seed, time_limit=time_limit, t0=t0, budget=budget)
    capped = False
    spent = 0.0
    if strategy == "auto" and sub.n <= whole_atoms and k <= whole_grids:
        whole_budget = window_time * 5 if effort is None else min(window_time * 5, float(effort))
        res = solve_window(sub, labels, np.arange(sub.n), seed=seed, deterministic_time=whole_budget,
                           time_limit=max(1.0, time_limit - (time.perf_counter() - t0)))
        spent = whole_budget
        capped = res.time_capped
        labels = res.labels.copy()
        obj = labels_objective(sub, labels)
        in_band = _badness(sub, labels, k) < 1e6
        in_band[np.unique(labels[sub.forced])] = True
        # the whole model fixes roots and orders from the seed; when it leaves a
        # grid out of the band that need not be, windows re-rooted may do better
        if res.status == "OPTIMAL" and in_band.all():
            return SubResult(labels, res.status, "whole component: " + MODEL_NAME, obj, res.bound,
                             time.perf_counter() - t0, 1, int(res.objective < res.start_objective), capped,
                             proof=_WINDOW, effort=spent)
    labels, windows, improved, search_capped, handed = _search(
        sub, labels, k, seed=seed, t0=t0, time_limit=time_limit, window_time=window_time,
        max_window_grids=max_window_grids, max_window_atoms=max_window_atoms, max_passes=max_passes,
        polish_passes=(polish_passes if polish_passes is not None else _default_polish(k)), n_jobs=n_jobs,
        reach=reach, effort=None if effort is None else float(effort) - spent, balance_passes=balance_passes)
    obj = labels_objective(sub, labels)
    log.debug("community %s component %d: %d windows, %d improved", sub.community_id, sub.component, windows, improved)
    return SubResult(labels, "FEASIBLE", "lns: " + MODEL_NAME, obj, float("nan"),
                     time.perf_counter() - t0, windows, improved, capped or search_capped,
                     proof=_LNS, effort=spent + handed)


def _in_band(sub: SubProblem, labels: np.ndarray) -> bool:
    """Every grid inside the band, or headed by an atom above it."""
    k = int(labels.max()) + 1
    ok = _badness(sub, labels, k) < 1e6
    ok[np.unique(labels[sub.forced])] = True
    return bool(ok.all())


def _exact(sub: SubProblem, hint: np.ndarray, *, seed: int, time_limit: float, t0: float, budget: float) -> SubResult:
    """The free-centre model, its candidate centres widened step by step while
    it proves the band out of its reach; then the windowed search's plan when
    it fits the band; only then a softened band.

    ``budget`` (deterministic seconds) is shared by the exact models in turn;
    the windowed search keeps its own budgets.
    """
    spent, capped, tried = 0.0, False, []
    factor_done = False
    last_factor: float | None = RADIUS_STEPS[0]
    status = "UNKNOWN"
    for factor in RADIUS_STEPS:
        pruned = factor is not None and pruned_pairs(sub, factor) > 0
        if not pruned:
            if factor_done:
                break  # every pair was already in the last model
            factor = None
        left = budget - spent
        if left <= 1e-3:
            break
        last_factor = factor
        res = solve_exact(sub, hint, seed=seed, deterministic_time=left,
                          time_limit=max(1.0, time_limit - (time.perf_counter() - t0)),
                          cut_cost=False, deviation=False, radius_factor=factor)
        spent += res.deterministic_s if np.isfinite(res.deterministic_s) else left
        capped |= res.time_capped
        status = res.status
        scope = "every pair" if factor is None else f"pairs within {factor:g} grid radii"
        restrictions = [_CONTIGUITY] + ([f"pruned centres ({scope})"] if factor is not None else [])
        if res.status in ("OPTIMAL", "FEASIBLE"):
            method = f"{EXACT_NAME}; {scope}; band hard"
            if tried:
                method += f" (no in-band plan with {', '.join(tried)})"
            return SubResult(res.labels, res.status, method, res.objective, res.bound,
                             time.perf_counter() - t0, 1, 0, capped, proof="; ".join(restrictions), effort=budget)
        if res.status != "INFEASIBLE":
            break  # nothing found in the budget, nothing proven: to the windowed search
        tried.append(scope)
        factor_done = factor is None
        if factor is None:
            break
    fallback = solve_subproblem(sub, strategy="lns", seed=seed,
                                time_limit=max(1.0, time_limit - (time.perf_counter() - t0)))
    capped |= fallback.time_capped
    if status != "INFEASIBLE":
        # the exact model found no plan and proved nothing: its status stays, the plan is the windows'
        proof = fallback.proof + ("" if _in_band(sub, fallback.labels) else f"; {SOFT_BAND}")
        return SubResult(fallback.labels, status, f"{EXACT_NAME} (no solution in budget: lns plan)",
                         float("nan"), float("nan"), time.perf_counter() - t0, fallback.windows,
                         fallback.improved, capped, proof=proof, effort=budget)
    why = f"no in-band plan with {', '.join(tried)}"
    if _in_band(sub, fallback.labels):
        return SubResult(fallback.labels, fallback.status, f"{EXACT_NAME} ({why}): lns plan",
                         fallback.objective, fallback.bound, time.perf_counter() - t0, fallback.windows,
                         fallback.improved, capped, proof=fallback.proof, effort=budget)
    # neither the exact models nor the windows fit the band: soften it
    res = solve_exact(sub, hint, seed=seed, deterministic_time=max(budget - spent, 1e-3),
                      time_limit=max(1.0, time_limit - (time.perf_counter() - t0)),
                      cut_cost=False, deviation=False, soft=True, radius_factor=last_factor)
    capped |= res.time_capped
    scope = "every pair" if last_factor is None else f"pairs within {last_factor:g} grid radii"
    if res.status in ("OPTIMAL", "FEASIBLE") and _excess(sub, res.labels) <= _excess(sub, fallback.labels):
        restrictions = [_CONTIGUITY] + ([f"pruned centres ({scope})"] if last_factor is not None else []) + [SOFT_BAND]
        return SubResult(res.labels, res.status, f"{EXACT_NAME}; {scope}; band soft ({why}; lns plan out of band too)",
                         res.objective, res.bound, time.perf_counter() - t0, 1 + fallback.windows,
                         fallback.improved, capped, proof="; ".join(restrictions), effort=budget)
    return SubResult(fallback.labels, fallback.status, f"{EXACT_NAME} ({why}): lns plan, out of band",
                     fallback.objective, fallback.bound, time.perf_counter() - t0, fallback.windows,
                     fallback.improved, capped, proof=f"{fallback.proof}; {SOFT_BAND}", effort=budget)


def _excess(sub: SubProblem, labels: np.ndarray) -> float:
    """Households outside the band, over the grids not headed by an atom above it."""
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, weights=sub.weight, minlength=k)
    b = sub.band
    excess = np.maximum(0, np.maximum(np.ceil(b.lo - 1e-9) - sizes, sizes - np.floor(b.hi + 1e-9)))
    excess[np.unique(labels[sub.forced])] = 0.0
    return float(excess.sum())


def _exact_cut(sub: SubProblem, *, seed: int, time_limit: float, t0: float, budget: float,
               num_workers: int = 1) -> SubResult:
    """The minimum-cut model, warm-started by a plan in the band; soft band when no
    plan fits the band (proven); the ``lns`` plan (status of the exact model kept)
    when it finds none.

    The warm start is the ``lns`` plan when it is in the band (the windowed
    search treats the band as soft, and a tight band, ±0.5 %, is where the
    exact model needs a start most).  Else the exact model with the band soft
    and the households outside it as the only objective, started from the
    ``lns`` plan, looks for a plan in the band (a quarter of the budget; its
    optimum above zero proves that none exists), and then the compact model's
    first plan in the band (:func:`~gridpart.solvers.cpsat.solve_exact`).
    """
    start = solve_subproblem(sub, strategy="lns", seed=seed, time_limit=time_limit)
    hint = start.labels
    proven_out = False
    budgeted = budget  # deterministic seconds of every CP-SAT model below, for SubResult.effort
    if not plan_is_valid(sub, hint):
        budgeted += budget / 4
        left = max(1.0, time_limit - (time.perf_counter() - t0))
        find = solve_exact_cut(sub, hint, seed=seed, time_limit=left, effort=budget / 4, num_workers=num_workers,
                               soft=True, band_only=True)
        if len(find.labels) and plan_is_valid(sub, find.labels):
            hint = find.labels
        elif find.status == "OPTIMAL" and find.objective > 0:
            proven_out = True
    if not proven_out and not plan_is_valid(sub, hint):
        budgeted += budget / 4
        left = max(1.0, time_limit - (time.perf_counter() - t0))
        warm = solve_exact(sub, hint, seed=seed, deterministic_time=budget / 4, time_limit=left,
                           num_workers=num_workers, cut_cost=True, deviation=False, inertia_scale=1e9,
                           parameters={"stop_after_first_solution": True})
        if len(warm.labels) and plan_is_valid(sub, warm.labels):
            hint = warm.labels
    left = max(1.0, time_limit - (time.perf_counter() - t0))
    res = None if proven_out else solve_exact_cut(sub, hint, seed=seed, time_limit=left, effort=budget,
                                                  num_workers=num_workers)
    if res is None or res.status == "INFEASIBLE":
        budgeted += 0 if res is None else budget
        left = max(1.0, time_limit - (time.perf_counter() - t0))
        res = solve_exact_cut(sub, hint, seed=seed, time_limit=left, effort=budget, soft=True,
                              num_workers=num_workers)
    capped = res.time_capped or start.time_capped
    if res.status in ("OPTIMAL", "FEASIBLE"):
        # no restriction: the fixings and the symmetry breaking keep every plan of the problem,
        # and the band is soft only where no plan fits it (proven)
        return dataclasses.replace(res, wall_s=time.perf_counter() - t0, time_capped=capped, proof=PROOF_PROBLEM,
                                   effort=budgeted)
    proof = start.proof + ("" if plan_is_valid(sub, start.labels) else f"; {SOFT_BAND}")
    return SubResult(start.labels, res.status, res.method + " (no solution in budget: lns plan)",
                     float(cut_objective(sub, start.labels)), res.bound, time.perf_counter() - t0,
                     start.windows, start.improved, capped, proof=proof, effort=budgeted)


#: Balance windows (:func:`_balance`; free roots, exact contiguity): at most this
#: many grids and atoms around a grid out of the band, and around one outside
#: ±10 %; a window's CP-SAT budget is ``BALANCE_TIME × window_time``
#: deterministic seconds (twice that around a grid out of the band).
BALANCE_GRIDS = 12
BALANCE_ATOMS = 60
BALANCE_INNER_GRIDS = 6
BALANCE_INNER_ATOMS = 30
BALANCE_TIME = 0.5

#: Up to this many grids, polish windows let atoms move anywhere in the window.
SMALL_GRIDS = 400


def _default_polish(k: int) -> int:
    """Passes over every grid after the repairs: all for a district, none at city scale."""
    return 4 if k <= 150 else 2 if k <= 400 else 1 if k <= 1000 else 0


def _search(sub: SubProblem, labels: np.ndarray, k: int, *, seed: int, t0: float, time_limit: float,
            window_time: float, max_window_grids: int, max_window_atoms: int, max_passes: int,
            polish_passes: int, n_jobs: int, reach: int | None,
            effort: float | None = None, balance_passes: int = 2) -> tuple[np.ndarray, int, int, bool, float]:
    """Large-neighbourhood search in rounds of disjoint windows.

    Repair passes free the grids outside ±10 % (worst first) with their
    neighbours, first letting atoms move one step at most (small models,
    solved fast), then ``reach`` steps; polish passes then free every grid,
    with atoms free to move anywhere in their window up to ``SMALL_GRIDS``
    grids.  Each pass is one round of windows that share no grid, solved in
    parallel with ``n_jobs`` (disjoint windows do not interact, so the plan
    does not depend on ``n_jobs``); every improvement is kept.  A phase ends
    after its passes or at the first pass that improves nothing.  The balance
    phase (:func:`_balance`, ``balance_passes``) comes last, one window at a time.

    ``effort`` (deterministic seconds, optional) caps the sum of the windows'
    budgets: the search ends before the first window that would exceed it.

    Returns the labels, the windows solved and improved, whether the
    wall-clock ``time_limit`` ended the search (a pass with windows left to
    try, or a window's CP-SAT call, stopped by the wall clock), and the
    deterministic seconds handed out to windows.
    """
    labels = labels.copy()
    windows = improved = 0
    handed = 0.0
    spent_out = False
    capped = False
    tried: set[tuple] = set()
    version = np.zeros(k, dtype=np.int64)
    # repairs with small models first (atoms move one step, then ``reach``);
    # a district then polishes with atoms free to move anywhere in the window
    # the balance phase (:func:`_balance`) comes after these, unless the effort ran out
    phases = [("repair", 1, max_passes), ("repair", reach, max_passes),
              ("polish", None if k <= SMALL_GRIDS else reach, polish_passes)]
    pool = None
    try:
        for phase, rch, passes in phases:
            for _ in range(passes):
                bad = _badness(sub, labels, k)
                todo = np.lexsort((np.arange(k), -bad))
                if phase == "repair":
                    todo = todo[bad[todo] >= 1e3]
                if len(todo) == 0:
                    break
                batch = _windows(sub, labels, k, todo, bad, max_window_grids, max_window_atoms)
                tasks, keys, handed, spent_out = _window_tasks(
                    sub, labels, batch, bad, version, tried, rch, seed=seed, window_time=window_time,
                    effort=effort, handed=handed, t0=t0, time_limit=time_limit)
                if tasks and time.perf_counter() - t0 > time_limit:
                    # windows were left to try: the wall clock, not the search, ends here
                    return labels, windows, improved, True, handed
                if n_jobs > 1 and len(tasks) > 1:
                    if pool is None:
                        pool = ProcessPoolExecutor(max_workers=n_jobs)
                    chunk = max(1, len(tasks) // (4 * n_jobs))
                    results = list(pool.map(_solve_window_task, tasks, chunksize=chunk))
                else:
                    results = [_solve_window_task(t) for t in tasks]
                progress = False
                log.debug("%s reach=%s: %d windows, %.1f s", phase, rch, len(tasks), time.perf_counter() - t0)
                for (window, atoms), (new, obj, start, window_capped) in zip(keys, results):
                    windows += 1
                    capped |= window_capped
                    if obj < start:
                        labels[atoms] = new
                        version[window] += 1
                        improved += 1
                        progress = True
                if not progress or spent_out:
                    break
            if spent_out:
                break
        if not spent_out:
            labels, w_, i_, h_, c_ = _balance_phase(sub, labels, k, seed=seed, t0=t0, time_limit=time_limit,
                                                    window_time=window_time, passes=balance_passes,
                                                    effort=effort, handed=handed)
            windows += w_
            improved += i_
            handed += h_
            capped |= c_
    finally:
        if pool is not None:
            pool.shutdown()
    return labels, windows, improved, capped, handed


def _window_tasks(sub: SubProblem, labels: np.ndarray, batch: list, bad: np.ndarray, version: np.ndarray,
                  tried: set, rch: int | None, *, seed: int, window_time: float, effort: float | None,
                  handed: float, t0: float, time_limit: float) -> tuple[list, list, float, bool]:
    """The window solves of one pass of :func:`_search` (windows tried before at the same versions are
    skipped; ``tried`` is updated): tasks, their (window, atoms), the deterministic seconds handed out
    so far, and whether the ``effort`` ran out (the effort, not the clock, then ends the search)."""
    tasks, keys = [], []
    for window in batch:
        key = (rch, *sorted((h, int(version[h])) for h in window))
        if key in tried:
            continue
        budget = window_time * (1.5 if bad[window[0]] >= 1e6 else 1)
        if effort is not None and handed + budget > effort + 1e-9:
            return tasks, keys, handed, True
        handed += budget
        tried.add(key)
        atoms = np.flatnonzero(np.isin(labels, window))
        cap = max(0.5, time_limit - (time.perf_counter() - t0))
        tasks.append((sub.restrict(atoms, len(window)), labels[atoms], seed, budget, cap, rch))
        keys.append((window, atoms))
    return tasks, keys, handed, False


def _balance_phase(sub: SubProblem, labels: np.ndarray, k: int, *, seed: int, t0: float, time_limit: float,
                   window_time: float, passes: int, effort: float | None,
                   handed: float) -> tuple[np.ndarray, int, int, float, bool]:
    """The balance phase of :func:`_search`, when it has passes and the wall clock allows:
    labels, windows solved and improved, deterministic seconds handed out, whether the clock capped it."""
    if not passes or time.perf_counter() - t0 > time_limit:
        return labels, 0, 0, 0.0, False
    return _balance(sub, labels, k, seed=seed, t0=t0, time_limit=time_limit, window_time=window_time,
                    max_grids=BALANCE_GRIDS, max_atoms=BALANCE_ATOMS, passes=passes,
                    effort=None if effort is None else effort - handed)


def _balance_windows(sub: SubProblem, labels: np.ndarray, k: int, bad: np.ndarray, *, max_grids: int,
                     max_atoms: int, min_bad: float = 1e3) -> list[list[int]]:
    """Disjoint windows for the balance phase: each grid outside ±10 % (worst
    first) with its neighbouring grids, breadth first, up to ``max_grids``
    grids and ``max_atoms`` atoms; neighbours furthest from the target first."""
    nbrs = _grid_neighbours(sub, labels, k)
    counts = np.bincount(labels, minlength=k)
    used = np.zeros(k, bool)
    out: list[list[int]] = []
    for g in np.lexsort((np.arange(k), -bad)).tolist():
        if bad[g] < min_bad or used[g]:
            continue
        window, count, frontier = [g], int(counts[g]), [g]
        used[g] = True
        while frontier and len(window) < max_grids:
            nxt = []
            for f in frontier:
                cand = nbrs[f][~used[nbrs[f]]]
                for h in cand[np.lexsort((cand, -bad[cand]))].tolist():
                    if len(window) >= max_grids or count + counts[h] > max_atoms:
                        continue
                    window.append(h)
                    used[h] = True
                    count += int(counts[h])
                    nxt.append(h)
            frontier = nxt
        if len(window) >= 2:
            out.append(window)
        else:
            used[g] = False
    return out


def _balance_task(args) -> tuple[np.ndarray | None, bool]:
    """Worker: a balance window re-solved with free roots and exact contiguity.

    The minimum-cut model of :mod:`~gridpart.solvers.exact_cut` (each grid
    rooted at its first atom, parent-tree contiguity, the band hard, its
    fixing rules) with the size terms of the LNS objective added: households
    beyond ±10 % of the target (``INNER_COST``) and the deviation from it
    (``DEVIATION_COST``), then the cut cost.  The window's current plan is the
    hint when it is in the band.  Returns labels ``0..k-1`` (None when the
    model finds no plan in its budget, or none exists) and whether the
    wall-clock cap, not the deterministic budget, ended the search.
    """
    wsub, wlabels, seed, budget, cap = args
    mdl = CutModel(wsub, contiguity="tree", soft=False, fix=True)
    m, x = mdl.model, mdl.x
    w = wsub.weight.astype(np.int64)
    total = int(w.sum())
    ilo, ihi = wsub.inner_band()
    centre = int(round(wsub.band.centre))
    forced = set(wsub.forced.tolist())
    members: dict[int, list[int]] = {}
    for i, j in x:
        members.setdefault(j, []).append(i)
    terms = []
    for j in mdl.roots:
        if j in forced:
            continue
        size = sum(int(w[i]) * x[i, j] for i in members[j] if w[i])
        inner = m.new_int_var(0, total, f"inner{j}")
        m.add(inner >= ilo - size).only_enforce_if(x[j, j])
        m.add(inner >= size - ihi)
        dev = m.new_int_var(0, total + centre, f"dev{j}")
        m.add(dev >= size - centre)
        m.add(dev >= centre - size).only_enforce_if(x[j, j])
        terms += [int(INNER_COST) * inner, int(DEVIATION_COST) * dev]
    m.minimize(mdl.cut_expr + sum(terms))
    if plan_is_valid(wsub, wlabels):
        for var, val in mdl.plan_values(np.unique(wlabels, return_inverse=True)[1]).items():
            m.add_hint(var, val)
    solver = cut_solver(seed, budget, cap, 1, None)
    status = solver.solve(m)
    capped = (status in (cp_model.FEASIBLE, cp_model.UNKNOWN)
              and solver.response_proto.deterministic_time < solver.parameters.max_deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, capped
    return mdl.labels(solver), capped


def _balance(sub: SubProblem, labels: np.ndarray, k: int, *, seed: int, t0: float, time_limit: float,
             window_time: float, max_grids: int, max_atoms: int, passes: int,
             effort: float | None = None) -> tuple[np.ndarray, int, int, float, bool]:
    """Balance phase: windows around the grids outside ±10 % re-solved with free roots.

    The repair windows keep each grid's root and its order, so an atom can move
    only towards a grid it is already close to; with few atoms per grid (street
    blocks of 100-300 households, a grid of three or four) that leaves grids out
    of the band that a plan with other roots brings in.  Here a window is solved
    again by the exact-contiguity model with free roots (:func:`_balance_task`:
    the band hard, then households beyond ±10 %, deviation and cut cost):
    around a grid out of the band a wide window (``max_grids`` grids,
    ``max_atoms`` atoms, twice the budget), around one outside ±10 % a narrow
    one (:data:`BALANCE_INNER_GRIDS`, :data:`BALANCE_INNER_ATOMS`).  A result
    is kept only when it lowers the LNS objective
    (:func:`~gridpart.solvers.cpsat.labels_objective`, whose weights put
    grids out of the band first).  Windows are solved in a fixed order with
    deterministic budgets.  Returns the labels, windows solved and improved,
    the deterministic seconds handed out, and whether the wall clock cut the
    phase short.

    Measured (seeds 0-3, the Beijing sample's 133-atom, 47-grid component):
    grids out of the band 19 → 14 in all, outside ±10 % 83 → 83; Helsinki's
    399-atom, 106-grid component: 11 → 5 and 149 → 146.
    """
    labels = labels.copy()
    windows = improved = 0
    handed = 0.0
    capped = False
    tried: set[tuple] = set()
    version = np.zeros(k, dtype=np.int64)
    for _ in range(passes):
        bad = _badness(sub, labels, k)
        # grids out of the band in wide windows (the band to meet), then those outside ±10 % in narrow ones
        batch = _balance_windows(sub, labels, k, bad, max_grids=max_grids, max_atoms=max_atoms, min_bad=1e6)
        taken = np.zeros(k, bool)
        for window in batch:
            taken[window] = True
        batch += _balance_windows(sub, labels, k, np.where(taken, 0.0, bad), max_grids=BALANCE_INNER_GRIDS,
                                  max_atoms=BALANCE_INNER_ATOMS, min_bad=1e3)
        progress = False
        for window in batch:
            out_of_band = bool((bad[window] >= 1e6).any())
            key = (out_of_band, *sorted((h, int(version[h])) for h in window))
            if key in tried:
                continue
            if time.perf_counter() - t0 > time_limit:
                return labels, windows, improved, handed, True
            tried.add(key)
            atoms = np.flatnonzero(np.isin(labels, window))
            wsub = sub.restrict(atoms, len(window))
            before = labels_objective(sub, labels, atoms=atoms)
            # a grid out of the band: a wider window, and twice the budget
            budget = window_time * BALANCE_TIME * (2 if out_of_band else 1)
            if effort is not None and handed + budget > effort + 1e-9:
                return labels, windows, improved, handed, capped  # the deterministic effort is spent
            handed += budget
            cap = max(0.5, time_limit - (time.perf_counter() - t0))
            new, window_capped = _balance_task((wsub, labels[atoms], seed, budget, cap))
            capped |= window_capped
            windows += 1
            if new is None:
                continue
            # keep the grid ids of the window, in the order of each new grid's first atom
            _, first = np.unique(new, return_index=True)
            ids = np.empty(len(window), dtype=np.int64)
            ids[np.argsort(first, kind="stable")] = np.sort(window)
            trial = labels.copy()
            trial[atoms] = ids[new]
            if labels_objective(sub, trial, atoms=atoms) < before - 1e-6:
                labels = trial
                version[window] += 1
                improved += 1
                progress = True
        if not progress:
            break
    return labels, windows, improved, handed, capped
