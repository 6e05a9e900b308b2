"""Solve one sub-problem: seed plan, then exact windows (large-neighbourhood search).

A component small enough is solved as one window (every grid at once).
Larger ones are improved window by window: a grid (worst first) and up to
three neighbouring grids are freed and re-solved exactly with CP-SAT; an
improvement is kept, and the search goes on until a pass over all grids
improves nothing or the budget is spent.  Windows are visited in a fixed
order and each CP-SAT call has a deterministic budget, so the same seed gives
the same plan.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from gridpart.problem import SubProblem
from gridpart.solvers.cpsat import labels_objective, solve_exact, solve_window
from gridpart.solvers.seed import seed_plan

__all__ = ["SubResult", "solve_subproblem", "MODEL_NAME"]

log = logging.getLogger(__name__)

MODEL_NAME = "rooted-order contiguity; objective: out-of-band, excess, deviation, cut cost"
EXACT_NAME = ("exact: free centres, closer-neighbour contiguity, pairs within 1.5 grid radii; "
              "band hard; objective: households' moment of inertia")


@dataclass(frozen=True)
class SubResult:
    """Labels for a sub-problem and how they were found."""

    labels: np.ndarray
    status: str
    method: str
    objective: float
    bound: float
    wall_s: float
    windows: int
    improved: int

    @property
    def gap(self) -> float:
        if not np.isfinite(self.bound) or self.objective == 0:
            return 0.0 if self.objective == self.bound else float("nan")
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)


def _badness(sub: SubProblem, labels: np.ndarray, k: int) -> np.ndarray:
    sizes = np.bincount(labels, weights=sub.weight, minlength=k)
    b = sub.band
    # whole households, as the model counts them: a band of 18.13-27.2 holds 19-27
    excess = np.maximum(0, np.maximum(np.ceil(b.lo - 1e-9) - sizes, sizes - np.floor(b.hi + 1e-9)))
    return excess * 1e6 + np.abs(sizes - b.centre)


def _grid_neighbours(sub: SubProblem, labels: np.ndarray) -> dict[int, set[int]]:
    e = sub.edges
    la, lb = labels[e[:, 0]], labels[e[:, 1]]
    diff = la != lb
    out: dict[int, set[int]] = {}
    for a, b in zip(la[diff].tolist(), lb[diff].tolist()):
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def solve_subproblem(
    sub: SubProblem,
    *,
    strategy: str = "auto",
    seed: int = 0,
    time_limit: float = 60.0,
    window_time: float = 0.5,
    max_window_atoms: int = 160,
    max_window_grids: int = 3,
    whole_atoms: int = 150,
    whole_grids: int = 3,
    max_passes: int = 4,
    exact_time: float = 30.0,
) -> SubResult:
    """Grid labels for one sub-problem.

    Parameters
    ----------
    sub : SubProblem
    strategy : {"auto", "exact", "lns", "seed"}
        ``seed``: the tree-bisection seed only.  ``lns``: seed, then windows.
        ``exact``: one free-centre CP-SAT model over the whole component
        (:func:`gridpart.solvers.cpsat.solve_exact`, objective: moment of
        inertia, band hard where feasible) with ``exact_time`` deterministic
        seconds, proving optimality where it can.  ``auto``: the whole
        component as one window when it has at most ``whole_atoms`` atoms and
        ``whole_grids`` grids, falling back to windows, else ``lns``.
    seed : int
    time_limit : float
        Wall-clock safety cap in seconds for this sub-problem.
    window_time : float
        CP-SAT deterministic time per window.

    Returns
    -------
    SubResult
    """
    t0 = time.perf_counter()
    labels = seed_plan(sub, seed=seed)
    k = int(labels.max()) + 1 if sub.n else 0
    if k <= 1:
        obj = labels_objective(sub, labels) if sub.n else 0.0
        return SubResult(labels, "OPTIMAL", "single grid", obj, obj, time.perf_counter() - t0, 0, 0)
    if strategy == "seed":
        obj = labels_objective(sub, labels)
        return SubResult(labels, "FEASIBLE", "seed", obj, float("nan"), time.perf_counter() - t0, 0, 0)
    if strategy == "exact":
        return _exact(sub, labels, seed=seed, time_limit=time_limit, t0=t0, budget=exact_time)
    if strategy == "auto" and sub.n <= whole_atoms and k <= whole_grids:
        res = solve_window(sub, labels, np.arange(sub.n), seed=seed, deterministic_time=window_time * 5,
                           time_limit=max(1.0, time_limit - (time.perf_counter() - t0)))
        labels = res.labels.copy()
        obj = labels_objective(sub, labels)
        in_band = _badness(sub, labels, k) < 1e6
        in_band[np.unique(labels[sub.forced])] = True
        # the whole model fixes roots and orders from the seed; when it leaves a
        # grid out of the band that need not be, windows re-rooted may do better
        if res.status == "OPTIMAL" and in_band.all():
            return SubResult(labels, res.status, "whole component: " + MODEL_NAME, obj, res.bound,
                             time.perf_counter() - t0, 1, int(res.objective < res.start_objective))
    windows = improved = 0
    version = np.zeros(k, dtype=np.int64)
    tried: set[tuple] = set()
    for _ in range(max_passes):
        progress = False
        order = np.lexsort((np.arange(k), -_badness(sub, labels, k)))
        for g in order.tolist():
            if time.perf_counter() - t0 > time_limit:
                break
            bad = _badness(sub, labels, k)
            out = bad[g] >= 1e6
            # an out-of-band grid may need its deficit or surplus spread over
            # several grids: give it a wider window (grids by breadth-first order)
            grid_cap = max_window_grids * 2 if out else max_window_grids
            atom_cap = max_window_atoms * 3 // 2 if out else max_window_atoms
            nbrs = _grid_neighbours(sub, labels)
            counts = np.bincount(labels, minlength=k)
            window, count, frontier = [g], int(counts[g]), [g]
            while frontier and len(window) < grid_cap:
                nxt = []
                for f in frontier:
                    for h in sorted(nbrs.get(f, set()) - set(window), key=lambda h: (-bad[h], h)):
                        if len(window) >= grid_cap or count + counts[h] > atom_cap:
                            continue
                        window.append(h)
                        count += int(counts[h])
                        nxt.append(h)
                frontier = nxt if out else []
            if len(window) < 2:
                continue
            key = tuple(sorted((h, int(version[h])) for h in window))
            if key in tried:
                continue
            tried.add(key)
            atoms = np.flatnonzero(np.isin(labels, window))
            res = solve_window(sub, labels, atoms, seed=seed, deterministic_time=window_time * (2 if out else 1),
                               time_limit=max(0.5, time_limit - (time.perf_counter() - t0)))
            windows += 1
            if res.objective < res.start_objective:
                labels[atoms] = res.labels
                version[window] += 1
                improved += 1
                progress = True
        if not progress or time.perf_counter() - t0 > time_limit:
            break
    obj = labels_objective(sub, labels)
    log.debug("community %s component %d: %d windows, %d improved", sub.community_id, sub.component, windows, improved)
    return SubResult(labels, "FEASIBLE", "lns: " + MODEL_NAME, obj, float("nan"),
                     time.perf_counter() - t0, windows, improved)


def _exact(sub: SubProblem, hint: np.ndarray, *, seed: int, time_limit: float, t0: float, budget: float) -> SubResult:
    """The free-centre model; soft band when the hard band is infeasible; the
    windowed search's plan (status of the exact model kept) when it finds none."""
    left = max(1.0, time_limit - (time.perf_counter() - t0))
    res = solve_exact(sub, hint, seed=seed, deterministic_time=budget, time_limit=left,
                      cut_cost=False, deviation=False)
    method = EXACT_NAME
    if res.status == "INFEASIBLE":
        left = max(1.0, time_limit - (time.perf_counter() - t0))
        res = solve_exact(sub, hint, seed=seed, deterministic_time=budget, time_limit=left,
                          cut_cost=False, deviation=False, soft=True)
        method = EXACT_NAME.replace("band hard", "band soft (no plan of this model fits it)")
    if res.status in ("OPTIMAL", "FEASIBLE"):
        return SubResult(res.labels, res.status, method, res.objective, res.bound,
                         time.perf_counter() - t0, 1, 0)
    fallback = solve_subproblem(sub, strategy="lns", seed=seed,
                                time_limit=max(1.0, time_limit - (time.perf_counter() - t0)))
    return SubResult(fallback.labels, res.status, method + " (no solution in budget: lns plan)",
                     float("nan"), res.bound, time.perf_counter() - t0, fallback.windows, fallback.improved)
