"""The exact minimum-cut model (``objective="cut"``, issue 17 item 2).

Small sub-problems whose optimum is known by brute force (every labelling of
up to 10 atoms into ``k`` contiguous grids, atoms above the band heading grids
of their own, the others in the band): the model proves the same optimum, or
proves that no plan fits the band.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gridpart as gp
from gridpart.errors import InputError
from gridpart.model.problem import Band, SubProblem
from gridpart.solvers.exact_cut import (
    CONTIGUITY,
    cut_objective,
    plan_is_valid,
    solve_exact_cut,
)
from gridpart.solvers.lns import solve_subproblem
from gridpart.testing import grid_subproblem


def make_sub(n: int, edges, weight, cost, k: int, lo: float, hi: float) -> SubProblem:
    edges = np.array(sorted({(min(a, b), max(a, b)) for a, b in edges}), dtype=np.int64).reshape(-1, 2)
    cost_of = dict(cost) if isinstance(cost, dict) else None
    c = np.array([cost_of[tuple(e)] for e in edges.tolist()] if cost_of else cost[:len(edges)], dtype=np.int64)
    weight = np.asarray(weight, dtype=np.int64)
    band = Band(lo=lo, hi=hi, centre=(lo + hi) / 2)
    xy = np.column_stack([np.arange(n) * 100.0, np.zeros(n)])
    return SubProblem(community_id="t", component=0, atoms=np.arange(n), weight=weight, persons=np.zeros(n), xy=xy,
                      edges=edges, cut_cost=c, length=np.full(len(edges), 100.0), band=band, k=k,
                      forced=np.flatnonzero(weight > hi))


def brute_force(sub: SubProblem) -> float | None:
    """Least cut cost over every valid plan (None: no plan fits)."""
    best = None
    n, k = sub.n, sub.k

    def growth(i, labels, used):  # restricted growth strings: each partition once
        if i == n:
            if used == k:
                yield labels
            return
        for g in range(min(used + 1, k)):
            labels[i] = g
            yield from growth(i + 1, labels, max(used, g + 1))

    for labels in growth(1, np.zeros(n, np.int64), 1):
        if plan_is_valid(sub, labels):
            c = cut_objective(sub, labels)
            best = c if best is None or c < best else best
    return best


def lattice_edges(rows: int, cols: int):
    idx = np.arange(rows * cols).reshape(rows, cols)
    return ([(int(a), int(b)) for a, b in zip(idx[:, :-1].ravel(), idx[:, 1:].ravel())]
            + [(int(a), int(b)) for a, b in zip(idx[:-1, :].ravel(), idx[1:, :].ravel())])


@pytest.mark.parametrize("contiguity", CONTIGUITY)
def test_lattice_optimum_matches_brute_force(contiguity):
    # 3 x 3 lattice, mixed costs (an arterial down the middle column is worth cutting)
    rng = np.random.default_rng(3)
    edges = lattice_edges(3, 3)
    cost = rng.integers(-60, 120, len(edges))
    weight = rng.integers(50, 150, 9)
    total = int(weight.sum())
    sub = make_sub(9, edges, weight, cost, 3, total / 3 * 0.75, total / 3 * 1.25)
    want = brute_force(sub)
    assert want is not None
    res = solve_exact_cut(sub, seed=0, effort=10, contiguity=contiguity)
    assert res.status == "OPTIMAL"
    assert res.objective == res.bound == want
    assert plan_is_valid(sub, res.labels)
    assert cut_objective(sub, res.labels) == want


def test_a_ring_needs_exact_contiguity():
    """A ring of 8 where the cheapest balanced cut would split a grid in two: the
    model must not take it (a closer-neighbour or no-contiguity model would)."""
    n = 8
    edges = [(i, (i + 1) % n) for i in range(n)]
    # cuts are free on edges (0,1), (2,3), (4,5), (6,7): alternate pairs {1,2}, {3,4}, ...
    # with k=2 grids of 4 atoms, a grid {1,2,5,6} would cut 4 free edges but is in two pieces
    cost = {tuple(sorted(e)): (0 if min(e) % 2 == 0 and max(e) - min(e) == 1 else 10) for e in edges}
    sub = make_sub(n, edges, np.full(n, 100), cost, 2, 400, 400)
    want = brute_force(sub)
    for contiguity in CONTIGUITY:
        res = solve_exact_cut(sub, seed=0, effort=10, contiguity=contiguity)
        assert res.status == "OPTIMAL" and res.objective == want == 0, contiguity
        assert plan_is_valid(sub, res.labels)


def test_forced_atom_heads_its_own_grid():
    # atom 0 is above the band: its grid is out of the band, the other two are in it
    edges = lattice_edges(2, 4)
    weight = [900, 100, 100, 100, 100, 100, 100, 100]
    sub = make_sub(8, edges, weight, np.full(len(edges), 30), 3, 250, 400)
    assert sub.forced.tolist() == [0]
    want = brute_force(sub)
    res = solve_exact_cut(sub, seed=0, effort=10)
    assert res.status == "OPTIMAL" and res.objective == want
    assert plan_is_valid(sub, res.labels)


def test_no_plan_fits_the_band_is_proven():
    # a path 100 - 150 - 160: neither 2-grid plan (100 | 310, 250 | 160) fits 180-220
    sub = make_sub(3, [(0, 1), (1, 2)], [100, 150, 160], [10, 10], 2, 180, 220)
    assert brute_force(sub) is None
    assert solve_exact_cut(sub, seed=0, effort=5).status == "INFEASIBLE"


def test_soft_band_through_the_exact_strategy():
    sub = make_sub(3, [(0, 1), (1, 2)], [100, 150, 160], [10, 10], 2, 180, 220)
    res = solve_subproblem(sub, strategy="exact", objective="cut", time_limit=20)
    assert res.status == "OPTIMAL"
    assert "band soft" in res.method and "cut cost" in res.method
    assert len(res.labels) == 3


def test_valid_hint_is_kept_and_proven():
    sub = grid_subproblem(3, 4, k=3)
    rows = np.repeat(np.arange(3), 4)  # three strips: 8 cut streets
    assert plan_is_valid(sub, rows)
    res = solve_exact_cut(sub, rows, seed=0, effort=5)
    assert res.status == "OPTIMAL" and res.objective == 300 < cut_objective(sub, rows)


@st.composite
def small_problems(draw):
    rows = draw(st.integers(2, 3))
    cols = draw(st.integers(2, 3))
    n = rows * cols
    edges = lattice_edges(rows, cols)
    drop = draw(st.lists(st.booleans(), min_size=len(edges), max_size=len(edges)))
    kept = [e for e, d in zip(edges, drop) if not d] or edges
    # keep the graph connected: add back a spanning path
    path = {(i, i + 1) for i in range(n - 1) if (i + 1) % cols} | {(r * cols, (r + 1) * cols) for r in range(rows - 1)}
    kept = sorted(set(kept) | path)
    cost = draw(st.lists(st.integers(-50, 100), min_size=len(kept), max_size=len(kept)))
    weight = draw(st.lists(st.integers(0, 120), min_size=n, max_size=n))
    k = draw(st.integers(2, min(4, n)))
    total = max(1, sum(weight))
    tol = draw(st.sampled_from([0.05, 0.2, 0.5]))
    return make_sub(n, kept, weight, cost, k, total / k * (1 - tol), total / k * (1 + tol))


@given(small_problems())
def test_property_exact_cut_matches_brute_force(sub):
    want = brute_force(sub)
    res = solve_exact_cut(sub, seed=0, effort=10)
    if want is None:
        assert res.status == "INFEASIBLE"
    else:
        assert res.status == "OPTIMAL"
        assert res.objective == res.bound == want
        assert plan_is_valid(sub, res.labels)


def test_partition_objective_cut_names_it():
    from gridpart.datasets.synthetic import synthetic_city

    roads, hh, _ = synthetic_city(900, seed=1, block_households=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cut = gp.partition(roads, hh, strategy="exact", objective="cut", time_limit=30)
        compact = gp.partition(roads, hh, strategy="exact", time_limit=30)
    main = cut.status.sort_values("n_atoms").iloc[-1]
    assert "objective: cut cost" in main["method"]
    assert main["status"] == "OPTIMAL"
    assert main["proof"] == "problem"  # no restriction: the bound is the problem's own
    assert main["bound"] == main["objective"] and main["effort"] > 0
    assert "moment of inertia" in compact.status.sort_values("n_atoms").iloc[-1]["method"]
    assert cut.params["objective"] == "cut"
    gp.testing.assert_valid_plan(cut, hh)


def test_partition_rejects_unknown_objective():
    from gridpart.datasets.synthetic import synthetic_city

    roads, hh, _ = synthetic_city(300, seed=1)
    with pytest.raises(InputError, match="objective"):
        gp.partition(roads, hh, strategy="exact", objective="area")
