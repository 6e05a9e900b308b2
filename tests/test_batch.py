"""gridpart.pipeline.batch: many areas, any executor, atomic files, restart after a kill gives the same results."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

import gridpart as gp
from gridpart.datasets.synthetic import synthetic_city
from gridpart.errors import InputError
from gridpart.pipeline.batch import Area, dask_executor, find_areas, run_batch

ROOT = Path(__file__).resolve().parents[1]
N_AREAS = 20
OPTS = {"target": 80.0, "time_limit": 60.0, "seed": 0}  # as the CLI passes them


@pytest.fixture(scope="module")
def areas(tmp_path_factory) -> Path:
    """20 area GeoPackages and 2 re-partition area folders (old plan + merged communities)."""
    root = tmp_path_factory.mktemp("areas")
    for i in range(N_AREAS):
        roads, hh, comm = synthetic_city(150 + 12 * i, seed=i, communities=2 if i % 2 else 0)
        path = root / f"area{i:02d}.gpkg"
        roads.to_file(path, layer="roads")
        hh.to_file(path, layer="households")
        if comm is not None:
            comm.to_file(path, layer="communities")
    for j in range(2):
        roads, hh, comm = synthetic_city(500, seed=40 + j, communities=3)
        folder = root / f"merged{j}"
        folder.mkdir()
        old = gp.partition(roads, hh, communities=comm, target=OPTS["target"], seed=0)
        old.to_file(folder / "old.gpkg")
        merged = comm[comm["community_id"].isin(["C1", "C2"])].dissolve().assign(community_id="C12")
        new = pd.concat([comm[comm["community_id"] == "C3"], merged], ignore_index=True)
        roads.to_file(folder / "roads.gpkg")
        hh.to_file(folder / "households.gpkg")
        new.to_file(folder / "communities.gpkg")
    return root


@pytest.fixture(scope="module")
def reference(areas, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """An uninterrupted run on the default process pool."""
    out = tmp_path_factory.mktemp("reference")
    table = run_batch(areas, out, n_jobs=2, progress=False, **OPTS)
    return out, table


def _plans(folder: Path) -> list[Path]:
    """Finished plan files (not the temporary ``.NAME-*.gpkg`` of a write in progress)."""
    return sorted(p for p in folder.glob("*.gpkg") if not p.name.startswith("."))


def _results(folder: Path) -> dict[str, tuple]:
    out = {}
    for path in _plans(folder):
        plan = gp.read_plan(path)
        params = {k: v for k, v in plan.params.items() if k != "timings"}
        changes = None if plan.changes is None else plan.changes.households
        out[path.stem] = (plan.grids, plan.households["grid_id"], plan.blocks[["atom_id", "grid_id"]], params, changes)
    return out


def _assert_same(a: Path, b: Path, names: list[str] | None = None) -> None:
    ra, rb = _results(a), _results(b)
    if names is not None:
        ra = {k: v for k, v in ra.items() if k in names}
    assert sorted(ra) == sorted(rb)
    for name in ra:
        ga, ha, ba, pa, ca = ra[name]
        gb, hb, bb, pb, cb = rb[name]
        assert_geodataframe_equal(ga, gb, check_less_precise=False)
        pd.testing.assert_series_equal(ha, hb)
        pd.testing.assert_frame_equal(ba, bb)
        assert pa == pb, name
        if ca is not None or cb is not None:
            pd.testing.assert_frame_equal(ca, cb)


def test_find_areas(areas):
    found = find_areas(areas)
    assert len(found) == N_AREAS + 2
    assert [a.name for a in found] == sorted(a.name for a in found)
    rep = {a.name: a for a in found}["merged0"]
    assert rep.old_grids.endswith("old.gpkg") and rep.communities.endswith("communities.gpkg")
    assert {a.name: a for a in found}["area01"].communities.endswith("::communities")
    assert {a.name: a for a in found}["area00"].communities is None
    with pytest.raises(InputError, match="sources"):
        find_areas(areas / "nope")


def test_reference_run(reference, areas):
    out, table = reference
    assert (table["status"] == "done").all(), table["error"].dropna().tolist()
    assert len(_plans(out)) == N_AREAS + 2
    rep = table.set_index("name").loc[["merged0", "merged1"]]
    assert rep["share_kept"].notna().all() and (rep["share_kept"] > 0.5).all()
    assert (out / "batch_summary.csv").exists()
    assert json.loads((out / "batch.json").read_text())["options"]["target"] == OPTS["target"]
    # a second run with the same options skips everything
    again = run_batch(areas, out, n_jobs=2, progress=False, **OPTS)
    assert (again["status"] == "skipped").all()


@pytest.mark.slow
def test_killed_and_restarted_gives_identical_results(areas, reference, tmp_path):
    ref, _ = reference
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "gridpart", "batch", str(areas), "-o", str(out), "--n-jobs", "2",
           "--target", str(OPTS["target"]), "--time-limit", str(OPTS["time_limit"]), "--seed", "0", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    guard = time.monotonic() + 300  # a guard against hanging, not a timing assertion
    while (not out.exists() or len(_plans(out)) < 3) and proc.poll() is None and time.monotonic() < guard:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes
    proc.wait()
    done = [p.stem for p in _plans(out)]
    assert 0 < len(done) < N_AREAS + 2, "the run was not interrupted mid-way"
    restart = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert restart.returncode == 0, restart.stderr
    table = pd.read_csv(out / "batch_summary.csv")
    assert sorted(table.loc[table["status"] == "skipped", "name"]) == done
    assert not list(out.glob(".*.gpkg")), "temporary files left behind"
    _assert_same(ref, out)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_results(areas, reference, tmp_path):
    pytest.importorskip("distributed")
    ref, _ = reference
    # a third of the areas (partitions and a re-partition) keeps the test short
    subset = [a for a in find_areas(areas) if a.name in {"area00", "area03", "area07", "area10", "area15",
                                                          "area19", "merged1"}]
    with dask_executor(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as ex:
        table = run_batch(subset, tmp_path / "dask", executor=ex, progress=False, **OPTS)
    assert (table["status"] == "done").all(), table["error"].dropna().tolist()
    _assert_same(ref, tmp_path / "dask", names=[a.name for a in subset])


def test_any_executor_and_failures_reported(areas, tmp_path):
    broken = tmp_path / "broken.gpkg"
    roads, hh, _ = synthetic_city(200, seed=1)
    roads.to_file(broken, layer="roads")
    hh.assign(households=-5).to_file(broken, layer="households")
    subset = [a for a in find_areas(areas) if a.name in ("area00", "area03")] + find_areas(broken)
    with cf.ThreadPoolExecutor(2) as ex:
        table = run_batch(subset, tmp_path / "out", executor=ex, progress=False, **OPTS)
    status = table.set_index("name")["status"]
    assert status["broken"] == "failed" and status[["area00", "area03"]].eq("done").all()
    assert "households" in table.set_index("name").at["broken", "error"]
    assert not (tmp_path / "out" / "broken.gpkg").exists()


def test_restart_with_other_options_refused(areas, tmp_path):
    subset = [a for a in find_areas(areas) if a.name == "area00"]
    run_batch(subset, tmp_path, executor=cf.ThreadPoolExecutor(1), progress=False, **OPTS)
    with pytest.raises(InputError, match="output_dir"):
        run_batch(subset, tmp_path, executor=cf.ThreadPoolExecutor(1), progress=False, **{**OPTS, "target": 90})
    with pytest.raises(InputError, match="options"):
        run_batch(subset, tmp_path, progress=False, tragert=80)


def test_area_paths():
    a = Area("x", roads="x.gpkg::roads", households="x.gpkg::households")
    assert a.old_grids is None


def test_a_registered_strategy_runs_in_spawned_batch_workers(areas, tmp_path, monkeypatch):
    import multiprocessing

    sys.path.insert(0, str(Path(__file__).parent))
    import custom_strategies

    monkeypatch.setitem(gp.pipeline.partition.STRATEGIES, "seed_in_worker", custom_strategies.seed_with_pid)
    subset = [a for a in find_areas(areas) if a.name in ("area00", "area03")]
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        table = run_batch(subset, tmp_path / "out", executor=ex, progress=False, strategy="seed_in_worker", **OPTS)
    assert (table["status"] == "done").all(), table["error"].tolist()
    plan = gp.read_plan(table["path"].iloc[0])
    assert set(plan.status["method"].str.startswith("seed in process")) == {True}
    # the options recorded are the name the user gave
    assert json.loads((tmp_path / "out" / "batch.json").read_text())["options"]["strategy"] == "seed_in_worker"
