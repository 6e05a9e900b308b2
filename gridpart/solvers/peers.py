"""Peer strategies: spopt, METIS (pymetis) and GerryChain on gridpart's sub-problems.

Each adapter is a strategy in the sense of :func:`gridpart.register_strategy`:
``fn(sub: SubProblem, *, seed, time_limit) -> SubResult``.  It sees exactly
what gridpart's own solvers see — the sub-problem's atoms (street blocks and
the building cells of big blocks), their households, centroids and adjacency,
the band and the grid count ``sub.k`` — and returns an atom → grid labelling.
Nothing gridpart-specific is added: the peers are called as their users would
call them, with the settings named below, so a comparison isolates the
strategy.

=================  =============================================================
name               what runs
=================  =============================================================
``metis``          ``pymetis.part_graph(k)``: vertex weights = households,
                   imbalance (``ufactor``) from the band's upper limit
``metis_contig``   the same with METIS's ``contiguous`` option
``maxp``           ``spopt.region.MaxPHeuristic``: floor = the band's lower
                   limit (households), similarity on centroids; it chooses the
                   number of grids itself
``skater``         ``spopt.region.Skater`` with ``k`` grids, centroids
``azp``            ``spopt.region.AZP`` with ``k`` grids, centroids
``regionkmeans``   ``spopt.region.RegionKMeansHeuristic`` with ``k`` grids
``gerrychain``     GerryChain: ``recursive_tree_part`` seed plan balanced to
                   the band, then ReCom steps; the best plan met (fewest
                   households outside the band, then outside ±10 %) is kept
=================  =============================================================

Every adapter carries ``contiguous_labels = False``: a peer's plan is scored
as the peer made it, so grids in pieces (``metis`` without its contiguous
option may split one) stay in pieces and the scorecard's contiguity figure
measures them, instead of :func:`gridpart.partition` rejecting the plan.

The peer packages are optional (``pip install gridpart[bench]``); each adapter
imports its package when called, so a missing one fails only that strategy,
with an :class:`ImportError` naming the package.

spopt's MaxP heuristic draws from NumPy's global random generator and has no
seed argument: the adapter seeds ``numpy.random`` with ``seed`` before the
call (the benchmark runner calls it in a process of its own).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from gridpart.model.problem import SubProblem
from gridpart.model.result import Status, SubResult

__all__ = ["PEERS", "PEER_PACKAGES", "metis", "maxp", "skater", "azp", "regionkmeans", "gerrychain_recom"]


def _dense(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..k-1 in order of first appearance (atoms in canonical order)."""
    labels = np.asarray(labels)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def _result(labels, method: str, t0: float) -> SubResult:
    return SubResult(labels=_dense(labels), status=Status.FEASIBLE, method=method, objective=float("nan"),
                     bound=float("nan"), wall_s=time.perf_counter() - t0, windows=0, improved=0)


def _trivial(sub: SubProblem, method: str, t0: float) -> SubResult | None:
    """One grid, or one grid per atom, when there is nothing to choose."""
    if sub.k <= 1 or sub.n <= 1:
        return _result(np.zeros(sub.n, dtype=np.int64), method, t0)
    if sub.n <= sub.k:
        return _result(np.arange(sub.n), method, t0)
    return None


def _neighbours(sub: SubProblem) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(sub.n)]
    for a, b in sub.edges.tolist():
        if a != b:
            adj[a].append(b)
            adj[b].append(a)
    return [sorted(set(x)) for x in adj]


def _weights(sub: SubProblem):
    """A libpysal ``W`` of the atom adjacency (ids 0..n-1)."""
    import libpysal

    adj = _neighbours(sub)
    return libpysal.weights.W({i: adj[i] for i in range(sub.n)}, silence_warnings=True)


def _frame(sub: SubProblem):
    import pandas as pd

    return pd.DataFrame({"x": sub.xy[:, 0], "y": sub.xy[:, 1], "households": sub.weight.astype(float)})


# --------------------------------------------------------------------------- METIS


def metis(sub: SubProblem, *, seed: int = 0, time_limit: float = 60.0, contiguous: bool = False) -> SubResult:
    """METIS k-way partition (pymetis) with households as vertex weights.

    Parameters
    ----------
    sub : SubProblem
    seed : int
        METIS's ``seed`` option.
    time_limit : float
        Not used (METIS runs in well under a second here); the runner's
        per-run limit applies.
    contiguous : bool
        METIS's ``contiguous`` option (parts are connected subgraphs).

    Returns
    -------
    SubResult

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> res = metis(grid_subproblem(6, 6, k=4), contiguous=True)  # doctest: +SKIP
    >>> int(res.labels.max())  # doctest: +SKIP
    3
    """
    t0 = time.perf_counter()
    method = "metis_contig" if contiguous else "metis"
    done = _trivial(sub, method, t0)
    if done is not None:
        return done
    import pymetis

    adj = _neighbours(sub)
    xadj = np.cumsum([0] + [len(a) for a in adj])
    adjncy = np.array([j for a in adj for j in a], dtype=np.int64)
    mean = sub.total / sub.k if sub.k else 1.0
    # METIS's imbalance: the heaviest part may be (1 + ufactor/1000) × the mean
    ufactor = int(np.clip(round((sub.band.hi / max(mean, 1e-9) - 1) * 1000), 1, 1000))
    opts = pymetis.Options(seed=int(seed), ufactor=ufactor, contig=1 if contiguous else 0)
    # METIS needs at least one positive weight
    vw = sub.weight.astype(np.int64) if sub.total > 0 else np.ones(sub.n, dtype=np.int64)
    graph = pymetis.CSRAdjacency(xadj.tolist(), adjncy.tolist())
    res = pymetis.part_graph(int(sub.k), adjacency=graph, vweights=vw.tolist(), options=opts)
    return _result(np.asarray(res.vertex_part), method, t0)


# --------------------------------------------------------------------------- spopt

#: MaxP iterations (spopt's defaults are 99 and 10: about 90 s on a lattice of
#: 64 atoms here, so every real instance would time out; these keep the
#: heuristic's structure and let it finish on a few hundred atoms).
MAXP_CONSTRUCTION = 10
MAXP_SA = 2


def maxp(sub: SubProblem, *, seed: int = 0, time_limit: float = 60.0) -> SubResult:
    """spopt's max-p heuristic: as many regions as possible with at least ``band.lo`` households each.

    Similarity is on atom centroids (compact regions); spopt chooses the
    number of grids, not ``sub.k``.

    Examples
    --------
    >>> import gridpart as gp  # doctest: +SKIP
    >>> # after gridpart.bench.register_peers():
    >>> plan = gp.partition(roads, households, strategy="maxp")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if sub.n <= 1 or sub.total < sub.band.lo:
        return _result(np.zeros(sub.n, dtype=np.int64), "maxp", t0)
    from spopt.region import MaxPHeuristic

    np.random.seed(int(seed))
    random.seed(int(seed))
    model = MaxPHeuristic(_frame(sub), _weights(sub), ["x", "y"], "households", float(sub.band.lo), top_n=2,
                          max_iterations_construction=MAXP_CONSTRUCTION, max_iterations_sa=MAXP_SA)
    model.solve()
    return _result(np.asarray(model.labels_), "maxp", t0)


def skater(sub: SubProblem, *, seed: int = 0, time_limit: float = 60.0) -> SubResult:
    """spopt's SKATER (spanning-tree pruning) with ``sub.k`` regions on atom centroids.

    Examples
    --------
    >>> plan = gp.partition(roads, households, strategy="skater")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    done = _trivial(sub, "skater", t0)
    if done is not None:
        return done
    from spopt.region import Skater

    np.random.seed(int(seed))
    model = Skater(_frame(sub), _weights(sub), ["x", "y"], n_clusters=int(sub.k))
    model.solve()
    return _result(np.asarray(model.labels_), "skater", t0)


def azp(sub: SubProblem, *, seed: int = 0, time_limit: float = 60.0) -> SubResult:
    """spopt's AZP (automatic zoning) with ``sub.k`` regions on atom centroids.

    Examples
    --------
    >>> plan = gp.partition(roads, households, strategy="azp")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    done = _trivial(sub, "azp", t0)
    if done is not None:
        return done
    from spopt.region import AZP

    model = AZP(_frame(sub), _weights(sub), ["x", "y"], n_clusters=int(sub.k), random_state=int(seed))
    model.solve()
    return _result(np.asarray(model.labels_).astype(np.int64), "azp", t0)


def regionkmeans(sub: SubProblem, *, seed: int = 0, time_limit: float = 60.0) -> SubResult:
    """spopt's region k-means heuristic with ``sub.k`` regions on atom centroids.

    Examples
    --------
    >>> plan = gp.partition(roads, households, strategy="regionkmeans")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    done = _trivial(sub, "regionkmeans", t0)
    if done is not None:
        return done
    from spopt.region import RegionKMeansHeuristic

    model = RegionKMeansHeuristic(np.asarray(sub.xy, dtype=float), int(sub.k), _weights(sub), seed=int(seed))
    model.solve()
    return _result(np.asarray(model.labels_), "regionkmeans", t0)


# --------------------------------------------------------------------------- GerryChain


def _badness(sizes: np.ndarray, sub: SubProblem) -> tuple[float, float, float]:
    lo, hi = math.ceil(sub.band.lo - 1e-9), math.floor(sub.band.hi + 1e-9)
    ilo, ihi = sub.inner_band()
    out = np.maximum(0, np.maximum(lo - sizes, sizes - hi)).sum()
    inner = np.maximum(0, np.maximum(ilo - sizes, sizes - ihi)).sum()
    return float(out), float(inner), float(np.abs(sizes - sub.band.centre).sum())


def gerrychain_recom(sub: SubProblem, *, seed: int = 0, time_limit: float = 60.0, steps: int = 200) -> SubResult:
    """GerryChain: a recursive spanning-tree seed plan, then ReCom steps.

    The seed plan asks every grid to be within the band of the mean grid
    size (``recursive_tree_part``); where no tree split reaches that (an
    atom above the band, a lumpy component) the balance is relaxed step by
    step (ε × 2, ±100 %, then enough for the heaviest atom).  The ReCom chain then runs ``steps`` steps
    (or until half of ``time_limit`` is used) keeping every grid connected
    and within the ε reached, and the best plan met is returned.

    Parameters
    ----------
    sub : SubProblem
    seed : int
        GerryChain's ``rng`` for the seed plan and the chain.
    time_limit : float
        Seconds; the chain stops at half of it.
    steps : int
        ReCom steps.

    Returns
    -------
    SubResult

    Examples
    --------
    >>> plan = gp.partition(roads, households, strategy="gerrychain")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    done = _trivial(sub, "gerrychain", t0)
    if done is not None:
        return done
    import networkx as nx
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.constraints import contiguous, within_percent_of_ideal_population
    from gerrychain.partition.initial_partition_generators import recursive_tree_part
    from gerrychain.proposals import recom
    from gerrychain.tree import bipartition_tree
    from gerrychain.updaters import Tally

    rng = random.Random(int(seed))
    nxg = nx.Graph()
    nxg.add_nodes_from((i, {"households": int(w)}) for i, w in enumerate(sub.weight))
    nxg.add_edges_from(map(tuple, sub.edges.tolist()))
    graph = Graph.from_networkx(nxg)
    ideal = sub.total / sub.k
    eps = max(min(sub.band.hi / ideal - 1, 1 - sub.band.lo / ideal), 0.01) if ideal > 0 else 1.0
    # no tree split can hold an atom heavier than ideal × (1 + ε): the last try allows it
    heaviest = float(sub.weight.max()) / ideal - 1 + 0.05 if ideal > 0 else 1.0
    tries = sorted({eps, min(eps * 2, 1.0), 1.0, max(heaviest, 1.0)})
    assignment = None
    for k, eps in enumerate(tries):
        try:
            assignment = recursive_tree_part(graph, range(sub.k), ideal, "households", eps,
                                             bipartition_tree_fn=partial(bipartition_tree, max_attempts=500,
                                                                         warn_attempts=10**9),
                                             rng=rng)
            break
        except Exception:  # GerryChain raises RuntimeError / BipartitionWarning subclasses here
            if k == len(tries) - 1:
                raise
    part = Partition(graph, assignment, updaters={"population": Tally("households", alias="population")})

    def sizes_of(p) -> np.ndarray:
        return np.array([p["population"][d] for d in sorted(p.parts)], dtype=float)

    best, best_bad = dict(part.assignment.items()), _badness(sizes_of(part), sub)
    chain = MarkovChain(
        partial(recom, pop_col="households", pop_target=ideal, epsilon=eps,
                bipartition_tree_fn=partial(bipartition_tree, max_attempts=200, warn_attempts=10**9)),
        constraints=[contiguous, within_percent_of_ideal_population(part, eps)],
        total_steps=int(steps), initial_partition=part, rng=rng,
    )
    try:
        for state in chain:
            bad = _badness(sizes_of(state), sub)
            if bad < best_bad:
                best, best_bad = dict(state.assignment.items()), bad
            if time.perf_counter() - t0 > time_limit / 2:
                break
    except Exception:  # a ReCom step that finds no balanced cut ends the chain; the best plan stands
        pass
    labels = np.array([best[i] for i in range(sub.n)], dtype=np.int64)
    return _result(labels, "gerrychain", t0)


#: Strategy name -> adapter.
PEERS: dict[str, Callable[..., SubResult]] = {
    "metis": metis,
    "metis_contig": partial(metis, contiguous=True),
    "maxp": maxp,
    "skater": skater,
    "azp": azp,
    "regionkmeans": regionkmeans,
    "gerrychain": gerrychain_recom,
}
# a peer's plan is scored as the peer made it: METIS without its contiguous option
# may split a grid, and the plan keeps such grids in pieces so that the scorecard's
# contiguity figure measures it (see gridpart.register_strategy: fn.contiguous_labels)
for _peer in PEERS.values():
    _peer.contiguous_labels = False

#: Strategy name -> the PyPI package it needs.
PEER_PACKAGES: dict[str, str] = {
    "metis": "pymetis", "metis_contig": "pymetis", "maxp": "spopt", "skater": "spopt", "azp": "spopt",
    "regionkmeans": "spopt", "gerrychain": "gerrychain",
}
