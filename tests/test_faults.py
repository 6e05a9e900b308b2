"""Faults: time limits, interrupted runs and interrupted writes lose nothing.

* The solver's time limit returns the best plan found, with its status
  (simulated by making CP-SAT give up before any solution, so no test depends
  on the machine's speed).
* A ``KeyboardInterrupt`` inside ``partition`` propagates and writes nothing;
  one inside ``to_file`` (raised from the GeoPackage writer) leaves neither a
  half-written plan nor temporary files, and an older plan at the same path
  survives byte for byte.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pyogrio
import pytest
from edge_cases import base

import gridpart as gp
import gridpart.cli as cli
import gridpart.outputs.io as gio
import gridpart.solvers.lns as lns
from gridpart.datasets.synthetic import synthetic_city
from gridpart.solvers.cpsat import WindowResult
from gridpart.testing import assert_valid_plan


@pytest.fixture(scope="module")
def plan():
    return gp.partition(**base())


def _files(folder) -> set[str]:
    return set(os.listdir(folder))


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# --------------------------------------------------------------------------- time limit


def test_exact_strategy_out_of_time_returns_the_best_plan_with_its_status(monkeypatch):
    def gave_up(sub, hint, **kwargs):  # CP-SAT hit its limit before a first solution
        return WindowResult(np.zeros(0, np.int64), "UNKNOWN", float("nan"), float("nan"), float("nan"), 0.0)

    monkeypatch.setattr(lns, "solve_exact", gave_up)
    roads, hh, comm = synthetic_city(1_500, seed=4, communities=2)
    plan = gp.partition(roads, hh, communities=comm, strategy="exact", time_limit=2)
    assert_valid_plan(plan, hh)
    assert set(plan.status["status"]) <= {"UNKNOWN", "OPTIMAL"}  # OPTIMAL only for single-grid components
    assert (plan.status["status"] == "UNKNOWN").any()
    assert plan.status["method"].str.contains("no solution in budget").any()
    assert plan.grids["households"].sum() + plan.unplaced["households"].sum() == pytest.approx(hh["households"].sum())


def test_a_tiny_time_limit_still_gives_a_valid_plan():
    roads, hh, comm = synthetic_city(1_500, seed=4, communities=2)
    plan = gp.partition(roads, hh, communities=comm, strategy="exact", time_limit=0.01)
    assert_valid_plan(plan, hh)
    assert plan.status["status"].isin(["OPTIMAL", "FEASIBLE", "UNKNOWN", "INFEASIBLE"]).all()
    assert {"status", "objective", "bound", "gap", "method"} <= set(plan.status.columns)


# --------------------------------------------------------------------------- interrupted partition


def test_an_interrupted_partition_propagates_and_writes_nothing(monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lns, "seed_plan", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gp.partition(**base())
    # the command line reports it with exit code 130 and leaves no output file
    roads, hh = tmp_path / "roads.gpkg", tmp_path / "hh.gpkg"
    kw = base()
    kw["roads"].to_file(roads)
    kw["households"].to_file(hh)
    out = tmp_path / "grids.gpkg"
    before = _files(tmp_path)
    assert cli.main(["partition", str(roads), str(hh), "-o", str(out), "--strategy", "seed"]) == 130
    assert _files(tmp_path) == before


# --------------------------------------------------------------------------- interrupted writes


def _interrupt_on_call(monkeypatch, n: int):
    """Make the n-th GeoPackage layer write (1-based) raise KeyboardInterrupt."""
    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def writer(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(gio.pyogrio, "write_dataframe", writer)
    return calls


@pytest.mark.parametrize("layer", [1, 3, 8])
def test_an_interrupted_write_leaves_no_file(plan, tmp_path, monkeypatch, layer):
    path = tmp_path / "plan.gpkg"
    calls = _interrupt_on_call(monkeypatch, layer)
    with pytest.raises(KeyboardInterrupt):
        plan.to_file(path)
    assert calls["n"] == layer
    assert _files(tmp_path) == set(), "a half-written plan or a temporary file was left behind"


def test_an_interrupted_overwrite_keeps_the_old_plan(plan, tmp_path, monkeypatch):
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    digest = _digest(path)
    _interrupt_on_call(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        plan.to_file(path)
    assert _files(tmp_path) == {"plan.gpkg"}
    assert _digest(path) == digest
    monkeypatch.undo()
    assert len(gp.read_plan(path).grids) == len(plan.grids)


def test_a_failed_write_cleans_up_sqlite_side_files(tmp_path):
    path = tmp_path / "out.gpkg"
    with pytest.raises(RuntimeError):
        with gio.atomic_path(path) as tmp:
            for suffix in ("", "-journal", "-wal", "-shm"):
                open(tmp + suffix, "w").close()
            raise RuntimeError("disk full")
    assert _files(tmp_path) == set()


def test_an_interrupted_png_leaves_no_file(plan, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def savefig(self, fname, *args, **kwargs):
        open(fname, "wb").write(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", savefig)
    with pytest.raises(KeyboardInterrupt):
        cli._write_png(plan, tmp_path / "map.png")
    assert _files(tmp_path) == set()
