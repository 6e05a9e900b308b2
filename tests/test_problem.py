"""Tests for gridpart.model.problem: grid counts, cut costs and sub-problems."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridpart.errors import GridCountWarning
from gridpart.model.problem import (
    CUT_COST_PER_M,
    INSIDE_COST_PER_M,
    Band,
    build_subproblems,
    edge_costs,
    grid_count,
    share_grids,
)

BAND = Band(lo=240.0, hi=360.0, centre=300.0)


def _feasible_counts(rest: float, band: Band) -> range:
    return range(max(1, math.ceil(rest / band.hi)), math.floor(rest / band.lo) + 1)


@st.composite
def bands(draw):
    centre = draw(st.integers(10, 1_000))
    tol = draw(st.integers(5, 50)) / 100
    return Band(lo=centre * (1 - tol), hi=centre * (1 + tol), centre=float(centre))


@given(st.integers(1, 100_000), bands())
def test_grid_count_respects_the_band(total, band):
    k = grid_count(total, band)
    assert k >= 1
    feasible = _feasible_counts(total, band)
    if len(feasible):
        # every grid can be in the band, and k is the feasible count nearest the ideal
        assert band.lo - 1e-9 <= total / k <= band.hi + 1e-9
        ideal = total / band.centre
        assert all(abs(k - ideal) <= abs(j - ideal) + 1e-9 for j in feasible)
    else:
        assert k == max(1, round(total / band.centre))  # no count fits: the nearest to the ideal


@given(st.integers(1, 5), st.integers(0, 20_000), bands())
def test_grid_count_gives_forced_atoms_grids_of_their_own(n_forced, rest, band):
    forced_w = n_forced * (band.hi + 1)
    k = grid_count(forced_w + rest, band, (n_forced, forced_w))
    assert k >= n_forced
    free = k - n_forced
    feasible = _feasible_counts(rest, band)
    if rest >= band.lo and len(feasible):
        assert free >= 1 and band.lo - 1e-9 <= rest / free <= band.hi + 1e-9
    if rest < band.lo / 2:
        assert free == 0  # a few leftover households join the forced grids


def test_grid_count_small_totals_get_one_grid():
    assert grid_count(0, BAND) == 1
    assert grid_count(100, BAND) == 1
    assert grid_count(300, BAND) == 1
    assert grid_count(600, BAND) == 2
    assert grid_count(1_000, BAND) in (3, 4)


def test_edge_costs_prefer_cutting_along_arterials():
    edges = pd.DataFrame({f"{k}_m": [0.0] * 6 for k in CUT_COST_PER_M})
    for i, kind in enumerate(CUT_COST_PER_M):
        edges.loc[i, f"{kind}_m"] = 100.0
    cost = dict(zip(CUT_COST_PER_M, edge_costs(edges)))
    for kind in CUT_COST_PER_M:
        assert cost[kind] == round(100 * (CUT_COST_PER_M[kind] - INSIDE_COST_PER_M[kind]))
    assert cost["road"] < 0 < cost["lane"]  # an arterial is better cut than kept inside
    assert cost["non_road"] > max(cost["road"], cost["street"], cost["lane"])  # cutting buildings apart is dear
    assert edge_costs(edges).dtype.kind == "i"


def _lattice_atoms(weights, rows, cols, community=None):
    n = rows * cols
    idx = np.arange(n).reshape(rows, cols)
    pairs = np.vstack([np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
                       np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()])])
    atoms = pd.DataFrame({
        "atom_id": np.arange(n),
        "community_id": community if community is not None else ["1"] * n,
        "households": np.asarray(weights, dtype=float),
        "persons": np.asarray(weights, dtype=float) * 2.6,
        "x": np.tile(np.arange(cols), rows) * 100.0,
        "y": np.repeat(np.arange(rows), cols) * 100.0,
    })
    edges = pd.DataFrame({"a": pairs.min(axis=1), "b": pairs.max(axis=1), "length_m": 100.0, "street_m": 100.0})
    for k in ("road", "lane", "barrier", "non_road", "other"):
        edges[f"{k}_m"] = 0.0
    return atoms, edges


def test_forced_atoms_are_noted_and_counted():
    atoms, edges = _lattice_atoms([50, 500, 60, 70, 80, 900, 100, 90], 2, 4)
    (sub,) = build_subproblems(atoms, edges, BAND)
    assert sorted(sub.atoms[sub.forced].tolist()) == [1, 5]
    assert sub.k >= 2
    assert any("atom 1" in note and "500" in note and "above" in note for note in sub.notes)
    assert any("atom 5" in note and "900" in note for note in sub.notes)
    assert sub.total == 1_850


def test_small_components_and_communities_are_noted():
    # two communities; the second holds 100 households, below the band
    atoms, edges = _lattice_atoms([150, 150, 150, 150, 50, 50], 1, 6, community=["A"] * 4 + ["B"] * 2)
    subs = build_subproblems(atoms, edges, BAND)
    assert [(s.community_id, s.component) for s in subs] == [("A", 0), ("B", 0)]
    a, b = subs
    assert a.k == 2 and not a.notes
    assert b.k == 1 and b.total == 100
    assert any("below the band" in note for note in b.notes)
    # the edge between the communities is in neither sub-problem
    assert len(a.edges) == 3 and len(b.edges) == 1


def test_disconnected_parts_of_a_community_are_separate_components():
    atoms, edges = _lattice_atoms([100] * 6, 1, 6)
    edges = edges[~((edges["a"] == 2) & (edges["b"] == 3))]
    subs = build_subproblems(atoms, edges, BAND)
    assert [(s.community_id, s.component) for s in subs] == [("1", 0), ("1", 1)]
    assert [s.atoms.tolist() for s in subs] == [[0, 1, 2], [3, 4, 5]]
    assert all(s.k == 1 for s in subs)


@given(st.integers(2, 6), st.integers(2, 6), st.data())
def test_subproblems_are_local_and_consistent(rows, cols, data):
    n = rows * cols
    weights = data.draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    community = data.draw(st.lists(st.sampled_from(["A", "B"]), min_size=n, max_size=n))
    atoms, edges = _lattice_atoms(weights, rows, cols, community=community)
    subs = build_subproblems(atoms, edges, BAND)
    covered = np.concatenate([s.atoms for s in subs])
    assert sorted(covered.tolist()) == list(range(n))
    for s in subs:
        assert (np.diff(s.atoms) > 0).all()
        assert (s.edges[:, 0] < s.edges[:, 1]).all() if len(s.edges) else True
        assert s.edges.max(initial=-1) < s.n
        assert len(s.cut_cost) == len(s.edges) == len(s.length)
        assert s.weight.tolist() == [weights[a] for a in s.atoms]
        assert 1 <= s.k <= s.n
        assert np.array_equal(s.forced, np.flatnonzero(s.weight > BAND.hi))
        assert s.xy.shape == (s.n, 2)


def test_n_grids_overrides_the_count():
    atoms, edges = _lattice_atoms([100] * 12, 3, 4)
    (sub,) = build_subproblems(atoms, edges, BAND, n_grids=6)
    assert sub.k == 6
    (sub,) = build_subproblems(atoms, edges, BAND, n_grids={"1": 2})
    assert sub.k == 2
    with pytest.warns(GridCountWarning, match="only 12 atoms"):
        (sub,) = build_subproblems(atoms, edges, BAND, n_grids=50)
    assert sub.k == 12  # never more grids than atoms


def test_band_from_target():
    from gridpart.inputs.schema import Target

    band = Band.from_target(Target(households=300, persons=1000, tolerance=0.1))
    assert (band.lo, band.hi, band.centre) == pytest.approx((270, 330, 300))
    assert (band.persons_lo, band.persons_hi, band.persons_centre) == pytest.approx((900, 1100, 1000))
    assert not band.persons_hard
    band = Band.from_target(Target(households=(300, 500)))
    assert (band.lo, band.hi, band.centre) == (300, 500, 400)
    assert band.persons_lo is None


@given(st.integers(2, 5), st.integers(2, 5), st.data())
def test_contracting_glued_atoms_keeps_totals_and_adjacency(rows, cols, data):
    from gridpart.testing import grid_subproblem

    n = rows * cols
    w = np.array(data.draw(st.lists(st.integers(0, 50), min_size=n, max_size=n), label="w"))
    sub = grid_subproblem(rows, cols, k=2, households=w)
    # glue a horizontal run of atoms in the first row (connected)
    run = data.draw(st.integers(2, cols), label="run")
    glue = np.full(n, -1)
    glue[:run] = 7
    small, index = sub.contract(glue)
    assert small.n == n - run + 1 and small.total == sub.total
    assert len(set(index[:run].tolist())) == 1
    np.testing.assert_array_equal(np.bincount(index, weights=sub.weight), small.weight)
    # an edge between two merged atoms exists iff some pair of their members touched
    pairs = {tuple(sorted((int(index[a]), int(index[b])))) for a, b in sub.edges if index[a] != index[b]}
    assert pairs == set(map(tuple, small.edges.tolist()))
    assert (small.edges[:, 0] < small.edges[:, 1]).all()


def _three_components(weights):
    """One community of 1 x 9 atoms cut into three components of three atoms."""
    atoms, edges = _lattice_atoms(weights, 1, 9)
    cut = ((edges["a"] == 2) & (edges["b"] == 3)) | ((edges["a"] == 5) & (edges["b"] == 6))
    return atoms, edges[~cut]


def test_n_grids_is_met_over_several_components():
    # 600, 0 and 300 households: the empty component still needs a grid of its own
    atoms, edges = _three_components([200] * 3 + [0] * 3 + [100] * 3)
    subs = build_subproblems(atoms, edges, BAND, n_grids=5)
    assert [s.k for s in subs] == [3, 1, 1]
    subs = build_subproblems(atoms, edges, BAND, n_grids={"1": 3})
    assert [s.k for s in subs] == [1, 1, 1]
    assert not any("n_grids" in note for s in subs for note in s.notes)


def test_an_n_grids_below_the_components_is_raised_to_them_with_a_warning():
    atoms, edges = _three_components([200] * 3 + [0] * 3 + [100] * 3)
    with pytest.warns(GridCountWarning, match=r"asks for 2 grids in community '1'.*3 is the fewest possible"):
        subs = build_subproblems(atoms, edges, BAND, n_grids=2)
    assert [s.k for s in subs] == [1, 1, 1]
    assert all(any("n_grids asks for 2" in note for note in s.notes) for s in subs)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_subproblems(atoms, edges, BAND, n_grids=2, warn=False)  # the notes still say it


def test_share_grids_gives_the_largest_remainders_the_grids_left():
    # quotas 3.15, 2.1 and 1.75: whole parts 3, 2, 1, and the seventh grid to the largest remainder
    assert share_grids(7, np.array([450, 300, 250]), np.array([10, 10, 10])).tolist() == [3, 2, 2]
    # a community without households: shared by atoms
    assert share_grids(4, np.zeros(2), np.array([6, 2])).tolist() == [3, 1]


@given(st.integers(1, 60), st.lists(st.tuples(st.integers(0, 2_000), st.integers(1, 12)), min_size=1, max_size=8))
def test_share_grids_meets_the_count_within_one_per_component_and_one_per_atom(requested, comps):
    households = np.array([h for h, _ in comps])
    n_atoms = np.array([n for _, n in comps])
    k = share_grids(requested, households, n_atoms)
    assert k.sum() == min(max(requested, len(comps)), n_atoms.sum())
    assert (k >= 1).all() and (k <= n_atoms).all()
    np.testing.assert_array_equal(k, share_grids(requested, households, n_atoms))
