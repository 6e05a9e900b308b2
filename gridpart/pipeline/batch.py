"""Batch runs: many areas, each solved on its own, on one laptop or a cluster.

An *area* is a district or a community with its own inputs: roads,
households, optional communities, parcels and barriers, and optionally the
old plan to re-partition (:func:`gridpart.repartition`) instead of
partitioning afresh.  :func:`find_areas` collects areas from GeoPackages
(one per area, with layers ``roads``, ``households``, ``communities``,
``old_grids``) or folders (one per area, with files ``roads.*``,
``households.*``, ``communities.*``, ``old.gpkg``...).

:func:`run_batch` solves every area with any :class:`concurrent.futures.Executor`
(a process pool by default; ``dask.distributed``'s ``Client.get_executor()``
for a cluster, see :func:`dask_executor`) and writes one plan file per area,
atomically (a temporary name, then a rename).  An interrupted run restarted
with the same arguments skips the areas already written and, since every
area is solved deterministically from its own inputs and seed, ends with the
same results as a run that was never interrupted.  A ``batch.json`` in the
output folder records the options, so a restart with other options is
refused instead of mixing results.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import logging
import os
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import gridpart as gp
from gridpart.errors import GridpartError, InputError, Problem, Problems
from gridpart.outputs.io import atomic_path
from gridpart.pipeline.partition import STRATEGIES

__all__ = ["Area", "find_areas", "run_batch", "dask_executor", "LAYERS"]

log = logging.getLogger(__name__)

#: Inputs an area may have: file stems in an area folder, layer names in an area GeoPackage.
LAYERS = ("roads", "households", "communities", "parcels", "barriers", "study_area", "old_grids")
_OLD_STEMS = ("old_grids", "old", "old_plan")
_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".parquet", ".fgb", ".osm", ".pbf")
_MANIFEST = "batch.json"
_SUMMARY = "batch_summary.csv"


@dataclass(frozen=True)
class Area:
    """One area's inputs: paths (a GeoPackage layer is written ``path::layer``).

    Examples
    --------
    >>> Area("a", roads="a.gpkg::roads", households="a.gpkg::households").name
    'a'
    """

    name: str
    roads: str
    households: str
    communities: str | None = None
    parcels: str | None = None
    barriers: str | None = None
    study_area: str | None = None
    old_grids: str | None = None


def _layers_of(path: Path) -> list[str]:
    import pyogrio

    return [row[0] for row in pyogrio.list_layers(path)]


def _area_from_gpkg(path: Path, problems: Problems) -> Area | None:
    layers = set(_layers_of(path))
    if "grids" in layers and "atoms" in layers:
        return None  # a plan file (an old plan inside an area folder), not an area
    missing = [n for n in ("roads", "households") if n not in layers]
    if missing:
        problems.add("sources", f"{str(path)!r} has no layer {missing} (layers: {sorted(layers)})",
                     fix="name the layers roads, households (+ communities, old_grids, ...)")
        return None
    found = {n: f"{path}::{n}" for n in LAYERS if n in layers}
    return Area(name=path.stem, **found)


def _area_from_folder(path: Path, problems: Problems) -> Area | None:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES
                   and not p.name.startswith("."))
    by_stem = {p.stem.lower(): p for p in files}
    found: dict[str, str] = {}
    for n in LAYERS:
        stems = _OLD_STEMS if n == "old_grids" else (n,)
        for s in stems:
            if s in by_stem:
                found[n] = str(by_stem[s])
                break
    if "roads" not in found or "households" not in found:
        problems.add("sources", f"folder {str(path)!r} has no roads.* or households.* file",
                     fix="put roads.gpkg and households.gpkg (+ communities.gpkg, old.gpkg) in each area folder")
        return None
    return Area(name=path.name, **found)


def find_areas(*sources: str | os.PathLike) -> list[Area]:
    """Areas from GeoPackages and folders.

    Each source is an area GeoPackage (layers ``roads``, ``households`` and
    optionally ``communities``, ``parcels``, ``barriers``, ``study_area``,
    ``old_grids``), an area folder (files named ``roads.*``,
    ``households.*``, ... and ``old.gpkg`` / ``old_grids.*``: the old plan),
    or a folder of such GeoPackages and folders.

    Returns
    -------
    list of Area, sorted by name.

    Raises
    ------
    InputError
        Naming every source that is missing or holds no area, and duplicate names.

    Examples
    --------
    >>> find_areas("no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    gridpart.errors.InputError: sources: no file or folder at 'no/such/folder' ...
    """
    problems = Problems()
    areas: list[Area] = []
    for src in sources:
        path = Path(src)
        if not path.exists():
            problems.add("sources", f"no file or folder at {str(path)!r}", fix="check the path")
        elif path.is_file():
            a = _area_from_gpkg(path, problems)
            if a is not None:
                areas.append(a)
        elif any((path / f"{n}{s}").exists() for n in ("roads", "households") for s in _SUFFIXES):
            a = _area_from_folder(path, problems)
            if a is not None:
                areas.append(a)
        else:
            for child in sorted(path.iterdir()):
                if child.name.startswith(".") or child.name in (_MANIFEST, _SUMMARY):
                    continue
                if child.is_dir():
                    a = _area_from_folder(child, problems)
                elif child.suffix.lower() == ".gpkg":
                    a = _area_from_gpkg(child, problems)
                else:
                    continue
                if a is not None:
                    areas.append(a)
    names = pd.Series([a.name for a in areas])
    dup = sorted(set(names[names.duplicated()]))
    if dup:
        problems.add("sources", "several areas share a name (one output file each)", rows=dup,
                     fix="rename the files or folders")
    if not areas and not problems:
        problems.add("sources", "no area found", fix="pass area GeoPackages or folders")
    problems.raise_if_any()
    return sorted(areas, key=lambda a: a.name)


def _read(spec: str | None):
    if spec is None:
        return None
    import geopandas as gpd

    if "::" in spec:
        path, layer = spec.rsplit("::", 1)
        return gpd.read_file(path, layer=layer)
    if spec.lower().endswith((".osm", ".pbf")):
        return spec
    return gpd.read_file(spec, layer="grids") if "grids" in _layers_of(Path(spec)) else gpd.read_file(spec)


def _solve_area(area: Area, out: str, options: dict[str, Any]) -> dict[str, Any]:
    """Solve one area and write its plan (runs in a worker)."""

    t0 = time.perf_counter()
    row: dict[str, Any] = {"name": area.name, "path": out}
    try:
        inputs = {k: _read(getattr(area, k)) for k in LAYERS}
        if area.old_grids is not None and "::" not in area.old_grids:
            inputs["old_grids"] = area.old_grids  # a plan file: repartition reads its band too
        common = {k: v for k, v in options.items() if k in _COMMON}
        if inputs["old_grids"] is not None:
            plan = gp.repartition(inputs["old_grids"], inputs["roads"], inputs["households"],
                                  communities=inputs["communities"], parcels=inputs["parcels"],
                                  barriers=inputs["barriers"], study_area=inputs["study_area"],
                                  **common, **{k: v for k, v in options.items() if k in _REPARTITION})
            row["moved"] = float(plan.changes.summary["moved"])
            row["share_kept"] = float(plan.changes.summary["share_kept"])
        else:
            plan = gp.partition(inputs["roads"], inputs["households"], communities=inputs["communities"],
                                parcels=inputs["parcels"], barriers=inputs["barriers"],
                                study_area=inputs["study_area"], **common,
                                **{k: v for k, v in options.items() if k in _PARTITION})
        plan.to_file(out)  # atomic: a temporary name, then a rename
        row.update(status="done", grids=len(plan.grids), households=float(plan.households["households"].sum()),
                   share_in_band=float(plan.score().summary["share_in_band"]))
    except GridpartError as exc:
        row.update(status="failed", error=str(exc))
    except Exception as exc:  # a bug in one area must not stop the others; it is reported in full
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    row["wall_s"] = time.perf_counter() - t0
    return row


_COMMON = ("target", "tolerance", "time_limit", "seed", "roads_are")
_PARTITION = ("strategy", "units", "compounds", "n_grids", "effort")
_REPARTITION = ("locked", "rebalance", "window_time", "max_rings", "code_width")


@contextlib.contextmanager
def dask_executor(address: str | None = None, **cluster_kwargs) -> Iterator[cf.Executor]:
    """A ``dask.distributed`` executor for :func:`run_batch` (needs ``gridpart[dask]``).

    Parameters
    ----------
    address : str, optional
        A running scheduler (``"tcp://host:8786"``); default: a
        ``LocalCluster(**cluster_kwargs)`` for the length of the block.

    Examples
    --------
    >>> with dask_executor(processes=False, n_workers=1) as ex:  # doctest: +SKIP
    ...     run_batch(find_areas("areas/"), "out/", executor=ex)
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError([Problem("executor", "dask.distributed is not installed",
                                  fix="pip install 'gridpart[dask]'")]) from None
    cluster = None if address else LocalCluster(**cluster_kwargs)
    client = Client(address or cluster)
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _clean_temporaries(out_dir: Path, names: Iterable[str]) -> None:
    """Remove temporary files an interrupted run left (``.NAME-*.gpkg``)."""
    for name in names:
        for tmp in out_dir.glob(f".{name}-*.gpkg"):
            tmp.unlink(missing_ok=True)


def _for_workers(options: dict[str, Any]) -> dict[str, Any]:
    """The options as workers need them: a strategy registered by name in this
    process (:func:`gridpart.register_strategy`) travels as the function itself,
    since a spawned worker (macOS, Windows, a dask cluster) knows only the
    built-in names."""

    name = options.get("strategy")
    if isinstance(name, str) and name in STRATEGIES and name not in ("auto", "exact", "lns", "seed"):
        return {**options, "strategy": STRATEGIES[name]}
    return options


def run_batch(
    areas: Sequence[Area] | Sequence[str | os.PathLike] | str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    executor: cf.Executor | None = None,
    n_jobs: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Solve many areas independently; one plan file per area, restartable.

    Parameters
    ----------
    areas : sequence of Area, or paths for :func:`find_areas`
    output_dir : path
        One ``NAME.gpkg`` per area, plus ``batch.json`` (the options) and
        ``batch_summary.csv`` (the returned table).
    executor : concurrent.futures.Executor, optional
        Where areas run; default a :class:`~concurrent.futures.ProcessPoolExecutor`
        with ``n_jobs`` workers (all cores when None).  Any executor works,
        e.g. ``dask.distributed.Client(...).get_executor()``.
    n_jobs : int, optional
        Workers of the default process pool.
    progress : bool
        A tqdm progress bar over areas (on stderr).
    overwrite : bool
        Solve areas again even when their file exists (and accept other options).
    **options
        ``target``, ``tolerance``, ``time_limit``, ``seed``, ``roads_are`` for
        every area; ``strategy``, ``units``, ``compounds``, ``n_grids``,
        ``effort`` for :func:`gridpart.partition`; ``locked``, ``rebalance``, ``window_time``,
        ``max_rings``, ``code_width`` for :func:`gridpart.repartition` (areas
        with an old plan).

    Returns
    -------
    DataFrame
        One row per area, by name: ``status`` (done / skipped: file there
        already / failed), ``path``, ``grids``, ``households``,
        ``share_in_band``, ``moved`` and ``share_kept`` (re-partitions),
        ``wall_s``, ``error``.

    Raises
    ------
    InputError
        For unknown options, or an output folder written with other options.

    Examples
    --------
    >>> table = run_batch("areas/", "out/", target=300, n_jobs=2)  # doctest: +SKIP
    >>> table["status"].value_counts()  # doctest: +SKIP
    """
    problems = Problems()
    known = set(_COMMON) | set(_PARTITION) | set(_REPARTITION)
    unknown = sorted(set(options) - known)
    if unknown:
        problems.add("options", f"unknown options {unknown}", fix=f"use some of {sorted(known)}")
    if executor is not None and not isinstance(executor, cf.Executor) and not hasattr(executor, "submit"):
        problems.add("executor", f"must be a concurrent.futures.Executor, got {type(executor).__name__}",
                     fix="pass e.g. ProcessPoolExecutor(2) or a dask Client's get_executor()")
    if n_jobs is not None and (not isinstance(n_jobs, int) or n_jobs < 1):
        problems.add("n_jobs", f"must be a positive integer, got {n_jobs!r}", fix="e.g. n_jobs=2")
    problems.raise_if_any()
    if isinstance(areas, (str, os.PathLike)):
        areas = find_areas(areas)
    elif areas and not isinstance(areas[0], Area):
        areas = find_areas(*areas)
    areas = list(areas)
    out_dir = Path(output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"options": {k: options[k] for k in sorted(options)},
                "areas": [asdict(a) for a in areas]}
    mpath = out_dir / _MANIFEST
    if mpath.exists() and not overwrite:
        before = json.loads(mpath.read_text())
        if before.get("options") != json.loads(json.dumps(manifest["options"], default=str)):
            raise InputError([Problem(
                "output_dir", f"{str(out_dir)!r} holds results of a run with other options "
                f"({before.get('options')} != {manifest['options']})",
                fix="use another output folder, the same options, or overwrite=True")])
    with atomic_path(mpath) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1, default=str, ensure_ascii=False))
    _clean_temporaries(out_dir, [a.name for a in areas])

    rows: dict[str, dict[str, Any]] = {}
    todo = []
    for a in areas:
        out = out_dir / f"{a.name}.gpkg"
        if out.exists() and not overwrite:
            rows[a.name] = {"name": a.name, "path": str(out), "status": "skipped"}
        else:
            todo.append((a, str(out)))
    log.info("%d areas: %d to solve, %d done before", len(areas), len(todo), len(areas) - len(todo))
    own = executor is None and len(todo) > 0
    ex = cf.ProcessPoolExecutor(max_workers=n_jobs or os.cpu_count() or 1) if own else executor
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc="areas", unit="area", disable=not progress or not todo)
    try:
        work = _for_workers(options)
        futures = {ex.submit(_solve_area, a, out, work): a.name for a, out in todo}
        for fut in cf.as_completed(futures):
            row = fut.result()
            rows[row["name"]] = row
            if row["status"] == "failed":
                log.warning("area %s failed: %s", row["name"], row.get("error", "").splitlines()[0])
            bar.update(1)
    finally:
        bar.close()
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
    cols = ["name", "status", "path", "grids", "households", "share_in_band", "moved", "share_kept",
            "wall_s", "error"]
    table = pd.DataFrame([rows[a.name] for a in areas]).reindex(columns=cols)
    with atomic_path(out_dir / _SUMMARY) as tmp:
        table.to_csv(tmp, index=False)
    return table
