"""The balance phase of the windowed search (:func:`gridpart.solvers.lns._balance`).

With few atoms per grid (street blocks of 40-200 households, grids of about
300) the repair windows, which keep each grid's root and its order, can leave
a grid out of the band that windows re-solved with free roots bring in.
"""

import numpy as np
import pytest

from gridpart.solvers.exact_cut import plan_is_valid
from gridpart.solvers.lns import _badness, solve_subproblem
from gridpart.testing import grid_subproblem


def _coarse_lattice() -> "object":
    """6 × 8 blocks of 40-200 households, 19 grids of about 300 (band 240-360)."""
    rng = np.random.default_rng(9)
    w = rng.choice([40, 80, 120, 160, 200], size=48, p=[0.3, 0.2, 0.2, 0.2, 0.1])
    return grid_subproblem(6, 8, k=int(round(w.sum() / 300)), households=w, target=300)


def _out(sub, labels) -> tuple[int, int]:
    """Grids out of the band, and outside ±10 % of the target."""
    k = int(labels.max()) + 1
    bad = _badness(sub, labels, k)
    return int((bad >= 1e6).sum()), int((bad >= 1e3).sum())


def test_balance_brings_every_grid_into_the_band():
    sub = _coarse_lattice()
    res = solve_subproblem(sub, strategy="lns", seed=0)
    # the repairs and the polish alone leave one grid out of the band here
    assert plan_is_valid(sub, res.labels)
    assert _out(sub, res.labels)[0] == 0


def test_balance_phase_never_worsens_the_objective():
    sub = _coarse_lattice()
    without = solve_subproblem(sub, strategy="lns", seed=0, balance_passes=0)
    with_ = solve_subproblem(sub, strategy="lns", seed=0)
    assert with_.objective <= without.objective
    assert _out(sub, with_.labels) <= _out(sub, without.labels)


@pytest.mark.parametrize("seed", [0, 1])
def test_balance_is_deterministic(seed):
    sub = _coarse_lattice()
    a = solve_subproblem(sub, strategy="lns", seed=seed)
    b = solve_subproblem(sub, strategy="lns", seed=seed)
    np.testing.assert_array_equal(a.labels, b.labels)
