"""The CP-SAT window models are pinned: the same variables and constraints, in the same order.

:func:`gridpart.solvers.cpsat.solve_window` (LNS windows) and repartition's
repair model both build on :class:`gridpart.solvers.cpsat.WindowModel`.  Each
case below hashes the text form of every CP-SAT model solved (variables,
constraints, objective and hints, in order), so any drift of either model
(a variable more, a constraint reordered, a weight changed) shows here with
the case that built it, before it moves a plan.

The digests hold for the OR-Tools pinned in ``.ci/constraints.txt`` (the
text form is OR-Tools'); a change that means to change a model re-pins them
(``python tests/test_window_model.py`` prints them) and says why.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from ortools.sat.python import cp_model

from gridpart.model.problem import Band
from gridpart.pipeline.repartition import _solve_window
from gridpart.solvers.cpsat import solve_window
from gridpart.solvers.lns import solve_subproblem
from gridpart.solvers.seed import seed_plan
from gridpart.testing import grid_subproblem


def _weighted(rows: int, cols: int, k: int, seed: int, *, persons_hard: bool | None = None, compact: bool = False):
    """A lattice with uneven households, cut costs (some negative) and, optionally, persons and areas."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    sub = grid_subproblem(rows, cols, k=k, households=rng.integers(20, 180, n))
    sub = dataclasses.replace(sub, cut_cost=rng.integers(-40, 200, len(sub.edges)))
    if persons_hard is not None:
        b = sub.band
        band = Band(lo=b.lo, hi=b.hi, centre=b.centre, persons_lo=b.centre * 2.0, persons_hi=b.centre * 3.2,
                    persons_centre=b.centre * 2.6, persons_hard=persons_hard)
        sub = dataclasses.replace(sub, band=band, persons=rng.integers(30, 600, n).astype(float))
    if compact:
        w = np.where(rng.random(n) < 0.25, 0, sub.weight)
        sub = dataclasses.replace(sub, weight=w, area=rng.uniform(500, 5000, n), compactness=1.0,
                                  band=dataclasses.replace(sub.band, centre=w.sum() / k, lo=w.sum() / k * 0.8,
                                                           hi=w.sum() / k * 1.2))
    return sub


def _window_cases():
    sub = _weighted(6, 8, 4, 3)
    labels = seed_plan(sub, seed=0)
    yield "whole", lambda: solve_window(sub, labels, np.arange(sub.n), deterministic_time=0.2)
    two = np.flatnonzero(np.isin(labels, [0, 1]))
    yield "two-reach2", lambda: solve_window(sub, labels, two, deterministic_time=0.2, reach=2)
    for ph in (False, True):
        sp = _weighted(6, 8, 4, 5, persons_hard=ph)
        lp = seed_plan(sp, seed=0)
        yield f"persons-hard{ph}", lambda sp=sp, lp=lp: solve_window(sp, lp, np.arange(sp.n), deterministic_time=0.2,
                                                                     reach=2)
    sc = _weighted(6, 6, 3, 7, compact=True)
    lc = seed_plan(sc, seed=0)
    yield "compact", lambda: solve_window(sc, lc, np.arange(sc.n), deterministic_time=0.2)
    lat = grid_subproblem(8, 10, k=6)
    yield "lns", lambda: solve_subproblem(lat, strategy="lns", seed=0, time_limit=30)


def _repair_case(persons_hard: bool | None, max_pairs: int, heavy: bool = False, size: tuple = (6, 6, 4)):
    """Old grids of a lattice, the last two merged into one grid out of the band, the
    second new (owner -1): the repair model over the whole window."""
    rows, cols, k = size
    sub = _weighted(rows, cols, k, 11, persons_hard=persons_hard)
    if heavy:
        w = sub.weight.copy()
        w[14] = int(sub.band.hi) + 40
        sub = dataclasses.replace(sub, weight=w, forced=np.flatnonzero(w > sub.band.hi))
    labels = seed_plan(sub, seed=0)
    labels = np.where(labels == k - 1, k - 2, labels)
    owner = np.array([10, -1, *range(30, 30 + k - 2)])
    stay = {(i, int(owner[g])): int(sub.weight[i]) for i, g in enumerate(labels) if owner[g] >= 0}
    return lambda: _solve_window(sub, labels, owner, np.arange(sub.n), stay, seed=0, deterministic_time=0.5,
                                 time_limit=30, max_pairs=max_pairs)


def _repair_cases():
    for ph in (None, False, True):
        yield f"repair-persons{ph}", _repair_case(ph, 8000)
    # 8 x 10 atoms, 7 labels: 560 pairs; labels that touch (> max_pairs), within two steps
    # (> max_pairs / 4), or all
    yield "repair-touching", _repair_case(None, 500, size=(8, 10, 8))
    yield "repair-two-steps", _repair_case(True, 1000, size=(8, 10, 8))
    yield "repair-any", _repair_case(False, 8000, size=(8, 10, 8))
    yield "repair-heavy", _repair_case(None, 8000, heavy=True)


PINNED = {
    'compact': '1:5a8d391f2a00de79',
    'lns': '7:7f034c7aaec7ae8c',
    'persons-hardFalse': '1:d9561418c8f136ab',
    'persons-hardTrue': '1:bc8b990069dfef49',
    'repair-any': '2:c39a72bc15793e79',
    'repair-heavy': '2:4d526c91af819c3b',
    'repair-personsFalse': '2:55b09e8ab06a49c3',
    'repair-personsNone': '2:1a1a062fc2ec2bcf',
    'repair-personsTrue': '2:537d3ad2e6202993',
    'repair-touching': '2:be64d590112e9891',
    'repair-two-steps': '2:02d69fa76f307153',
    'two-reach2': '1:5a07580b228e78c3',
    'whole': '1:9aca184c60704142',
}


def _digests(run) -> str:
    """Digest of the models solved by ``run()``, in order."""
    seen = []
    orig = cp_model.CpSolver.solve

    def record(self, model, *args, **kwargs):
        seen.append(hashlib.sha256(str(model.Proto()).encode()).hexdigest())
        return orig(self, model, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cp_model.CpSolver, "solve", record)
        run()
    return f"{len(seen)}:" + hashlib.sha256(" ".join(seen).encode()).hexdigest()[:16]


CASES = dict([*_window_cases(), *_repair_cases()])


@pytest.mark.parametrize("case", sorted(CASES))
def test_window_models_pinned(case):
    assert _digests(CASES[case]) == PINNED[case]


if __name__ == "__main__":
    for name in sorted(CASES):
        print(f"    {name!r}: {_digests(CASES[name])!r},")
