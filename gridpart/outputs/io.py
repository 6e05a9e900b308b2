"""Plans to and from GeoPackage, written atomically.

A plan file holds the layers ``grids``, ``atoms``, ``households``,
``unplaced``, ``roads`` and the attribute tables ``edges``, ``status`` and
``metadata`` (parameters, seed, version and working CRS as JSON), and, for a
plan edited by hand, ``history`` (one row per step of ``plan.history``; the
locks are the ``locked`` column of ``grids``) and what undo needs:
``history_grids`` (the grid rows each step replaced and put in),
``history_atoms`` (the atoms it moved, grids before and after) and
``history_state``.  It is
written to a temporary file next to the target and renamed into place, so an
interrupted write never leaves a half-written plan behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from gridpart.errors import InputError, Problem, Problems
from gridpart.history import EditLog, HistoryEntry, StepState
from gridpart.plan import Changes, GridPlan
from gridpart.record import RunRecord

__all__ = ["write_plan", "read_plan", "read_record", "atomic_path", "history_table"]

_SPATIAL = ("grids", "atoms", "households", "unplaced", "roads")
_TABLES = ("edges", "status")


class atomic_path:
    """Context manager: a temporary path that replaces ``path`` on success.

    The temporary file lives next to ``path`` (same file system, so the final
    ``os.replace`` is atomic).  On any exception, ``KeyboardInterrupt``
    included, it is removed with its SQLite side files and ``path`` is left as
    it was: absent, or the previous complete file.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with atomic_path(os.path.join(d, "out.txt")) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> open(os.path.join(d, "out.txt")).read()
    'done'
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __enter__(self) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}-", suffix=self.path.suffix, dir=self.path.parent)
        os.close(fd)
        os.unlink(tmp)  # GDAL creates the file itself
        self.tmp = tmp
        return tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                os.replace(self.tmp, self.path)
                return
            except PermissionError:  # Windows: another program holds the target open
                self._clean()
                raise InputError([Problem(
                    "path", f"could not replace {str(self.path)!r}: another program holds it open; "
                    "nothing was written and the file is as it was",
                    fix="close the file in QGIS, Excel or any other program, then run again")]) from None
        # failed or interrupted (KeyboardInterrupt included): remove the temporary file
        # and the side files SQLite (GeoPackage) may leave next to it
        self._clean()

    def _clean(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.unlink(self.tmp + suffix)
            except FileNotFoundError:
                pass


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    active = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else "geometry"
    for c in out.columns:
        if c == active:
            continue
        dtype = out[c].dtype
        if isinstance(dtype, gpd.array.GeometryDtype):  # a second geometry column: as WKT text
            out[c] = pd.Series(shapely.to_wkt(np.asarray(out[c].values, dtype=object)), index=out.index,
                               dtype=object)
        elif isinstance(dtype, pd.BooleanDtype) or dtype == np.dtype(bool):
            out[c] = out[c].astype("int8")
        elif isinstance(dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object).map(lambda v: None if pd.isna(v) else str(v))
        elif not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
                  or pd.api.types.is_string_dtype(dtype)) or pd.api.types.is_complex_dtype(dtype):
            # anything GeoPackage has no type for (periods, intervals, complex numbers) as text
            out[c] = out[c].astype(object).map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                               else str(v))
        elif dtype == np.dtype(object):
            out[c] = out[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def _index_as_columns(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The index as column ``_index`` (a MultiIndex as ``_index_0``, ``_index_1``, ...)."""
    if isinstance(gdf.index, pd.MultiIndex):
        return gdf.reset_index(names=[f"_index_{i}" for i in range(gdf.index.nlevels)])
    return gdf.reset_index(names="_index")


def _index_from_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`_index_as_columns`."""
    if "_index" in df.columns:
        df = df.set_index("_index")
        df.index.name = None
        return df
    levels = sorted((c for c in df.columns if str(c).startswith("_index_")), key=lambda c: int(c[7:]))
    df = df.set_index(levels)
    df.index.names = [None] * len(levels)
    return df


def write_plan(plan: GridPlan, path: str | os.PathLike) -> None:
    """Write ``plan`` to a GeoPackage at ``path`` (replaced atomically).

    Examples
    --------
    >>> import gridpart as gp, tempfile, os
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> path = os.path.join(tempfile.mkdtemp(), "plan.gpkg")
    >>> plan.to_file(path)
    >>> len(gp.read_plan(path).grids) == len(plan.grids)
    True
    """
    layers = {
        "grids": plan.grids, "atoms": plan.blocks, "households": plan.households,
        "unplaced": plan.unplaced, "roads": plan.roads,
    }
    meta = pd.DataFrame({"key": ["params"], "value": [plan.record.to_json()]})
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            gdf = _plain(_index_as_columns(gdf) if name in ("households", "unplaced") else gdf)
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", append=os.path.exists(tmp))
        for name, df in (("edges", plan.edges), ("status", plan.status), ("metadata", meta)):
            pyogrio.write_dataframe(_plain(df), tmp, layer=name, driver="GPKG", append=True)
        if plan.history:
            pyogrio.write_dataframe(history_table(plan), tmp, layer="history", driver="GPKG", append=True)
            for name, df in _state_layers(plan).items():
                pyogrio.write_dataframe(_plain(df), tmp, layer=name, driver="GPKG", append=True)
        if getattr(plan, "changes", None) is not None:  # gp.repartition's change table
            for name, df in _change_layers(plan.changes).items():
                pyogrio.write_dataframe(_plain(df), tmp, layer=name, driver="GPKG", append=True)


def history_table(plan: GridPlan) -> pd.DataFrame:
    """``plan.history`` as a table, one row per step (lists as ``;``-separated text), oldest first.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> history_table(plan.lock([1], author="li"))[["step", "author", "action", "grids", "undone"]].to_dict("records")
    [{'step': 1, 'author': 'li', 'action': 'lock', 'grids': '1', 'undone': False}]
    """
    rows = []
    for i, e in enumerate(plan.history, start=1):
        d = e.as_dict()
        for k in ("atoms", "from_grids", "grids", "came_along"):
            d[k] = ";".join(str(v) for v in d[k])
        d["to_grid"] = pd.NA if d["to_grid"] is None else d["to_grid"]
        rows.append({"step": i, **d})
    cols = ["step", "time", "author", "action", "atoms", "from_grids", "to_grid", "grids", "households_moved",
            "came_along", "note", "undone"]
    out = pd.DataFrame(rows, columns=cols)
    out["to_grid"] = out["to_grid"].astype("Int64")
    out["undone"] = out["undone"].astype(bool)
    return out


def _state_layers(plan: GridPlan) -> dict[str, pd.DataFrame]:
    """The undo state of every step as three layers (nothing for steps without one)."""
    rows, atoms, state = [], [], []
    for step, e in enumerate(plan.edit_log.entries if plan.edit_log else (), start=1):
        st = e.state
        if st is None:
            continue
        for side, df in (("before", st.rows_before), ("after", st.rows_after)):
            rows.append(df.reset_index(names="_index").assign(_step=step, _side=side))
            state.append({"step": step, "side": side, "columns": json.dumps(list(df.columns), ensure_ascii=False),
                          "added_locked": bool(st.added_locked),
                          "record": st.records[0 if side == "before" else 1].to_json() if st.records else None})
        atoms.append(pd.DataFrame({"step": step, "atom_id": np.asarray(st.atom_ids, dtype=np.int64),
                                   "before": np.asarray(st.grids_before, dtype=np.int64),
                                   "after": np.asarray(st.grids_after, dtype=np.int64)}))
    if not state:
        return {}
    grids = gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry=plan.grids.geometry.name,
                             crs=plan.grids.crs)
    return {"history_grids": grids, "history_atoms": pd.concat(atoms, ignore_index=True),
            "history_state": pd.DataFrame(state)}


def _read_states(path, names: set[str], grids: gpd.GeoDataFrame) -> dict[int, StepState]:
    """The undo state of each step stored in the file, by step number."""
    if not {"history_grids", "history_atoms", "history_state"} <= names:
        return {}
    rows = gpd.read_file(path, layer="history_grids")
    atoms = pyogrio.read_dataframe(path, layer="history_atoms", read_geometry=False)
    meta = pyogrio.read_dataframe(path, layer="history_state", read_geometry=False)
    out = {}
    for step, m in meta.groupby("step"):
        sides = {}
        for side in ("before", "after"):
            r = m[m["side"] == side].iloc[0]
            cols = json.loads(r["columns"])
            part = rows[(rows["_step"] == step) & (rows["_side"] == side)].set_index("_index")
            part.index = part.index.astype(grids.index.dtype)
            part.index.name = None
            part = part[cols]
            for c in ("forced", "locked"):
                if c in part:
                    part[c] = part[c].fillna(0).astype(bool)
            sides[side] = (part, r["record"])
        a = atoms[atoms["step"] == step]
        recs = sides["before"][1], sides["after"][1]
        out[int(step)] = StepState(
            rows_before=sides["before"][0], rows_after=sides["after"][0],
            atom_ids=a["atom_id"].to_numpy(dtype=np.int64), grids_before=a["before"].to_numpy(dtype=np.int64),
            grids_after=a["after"].to_numpy(dtype=np.int64), added_locked=bool(m["added_locked"].iloc[0]),
            records=tuple(RunRecord.from_json(x) for x in recs) if all(isinstance(x, str) for x in recs) else ())
    return out


def _ints(text) -> tuple:
    return tuple(int(v) for v in str(text).split(";") if v.strip()) if isinstance(text, str) else ()


def _read_history(path, names: set[str], grids: gpd.GeoDataFrame) -> EditLog | None:
    """The edit log of the ``history`` layer, with the undo state of each step where the file holds it."""
    if "history" not in names:
        return None
    states = _read_states(path, names, grids)
    df = pyogrio.read_dataframe(path, layer="history", read_geometry=False).sort_values("step")
    entries, undone = [], set()
    for i, r in enumerate(df.itertuples(index=False)):
        came = tuple(int(v) if v.isdigit() else v for v in str(r.came_along).split(";") if v) \
            if isinstance(r.came_along, str) else ()
        entries.append(HistoryEntry(
            time=str(r.time), author=str(r.author), action=str(r.action), atoms=_ints(r.atoms),
            from_grids=_ints(r.from_grids), to_grid=None if pd.isna(r.to_grid) else int(r.to_grid),
            grids=_ints(r.grids), households_moved=float(r.households_moved), came_along=came,
            note="" if r.note is None or (isinstance(r.note, float) and np.isnan(r.note)) else str(r.note),
            state=states.get(int(r.step))))
        if bool(r.undone):
            undone.add(i)
    return EditLog(tuple(entries), frozenset(undone))


def _change_layers(changes) -> dict[str, pd.DataFrame]:
    hh = changes.households.reset_index(names="_index")
    summary = changes.summary.rename_axis("key").reset_index(name="value")
    return {"changes_grids": changes.grids, "changes_households": hh, "changes_summary": summary}


def _read_changes(path, names: set[str]):
    if not {"changes_grids", "changes_households", "changes_summary"} <= names:
        return None
    grids = pyogrio.read_dataframe(path, layer="changes_grids", read_geometry=False)
    for c in ("old_grid_id", "new_grid_id"):
        grids[c] = grids[c].astype("Int64")
    hh = pyogrio.read_dataframe(path, layer="changes_households", read_geometry=False).set_index("_index")
    hh.index.name = None
    for c in ("old_grid_id", "new_grid_id"):
        hh[c] = hh[c].astype("Int64")
    hh["keeps_mates"] = hh["keeps_mates"].astype(bool)
    summary = pyogrio.read_dataframe(path, layer="changes_summary", read_geometry=False)
    return Changes(grids=grids, households=hh, summary=summary.set_index("key")["value"].rename_axis(None))


def read_record(path: str | os.PathLike) -> RunRecord | None:
    """The run record of a plan file (:class:`gridpart.record.RunRecord`; also the
    ``params`` of a file gridpart 0.1.0 wrote); ``None`` for a file that holds none."""
    try:
        if "metadata" not in {row[0] for row in pyogrio.list_layers(path)}:
            return None
        meta = pyogrio.read_dataframe(path, layer="metadata", read_geometry=False).set_index("key")
        return RunRecord.from_json(meta.loc["params", "value"])
    except Exception:  # not a gridpart plan: nothing known
        return None


def read_plan(path: str | os.PathLike) -> GridPlan:
    """Read a plan written by :meth:`GridPlan.to_file`.

    Raises
    ------
    InputError
        When the file is missing or was not written by gridpart.
    """
    problems = Problems()
    path = Path(path)
    if not path.exists():
        problems.add("path", f"no file at {str(path)!r}", fix="check the path")
        problems.raise_if_any()
    names = {row[0] for row in pyogrio.list_layers(path)}
    missing = [n for n in (*_SPATIAL, *_TABLES, "metadata") if n not in names]
    if missing:
        raise InputError(f"path: {str(path)!r} is not a gridpart plan (layers {missing} are missing). "
                         "Fix: pass a file written by plan.to_file().")
    read = {n: gpd.read_file(path, layer=n) for n in _SPATIAL}
    tables = {n: pyogrio.read_dataframe(path, layer=n, read_geometry=False) for n in (*_TABLES, "metadata")}
    record = RunRecord.from_json(tables["metadata"].set_index("key").loc["params", "value"])
    for n in ("households", "unplaced"):
        df = _index_from_columns(read[n])
        for c in ("grid_id", "block_id", "atom_id"):
            if c in df:
                df[c] = df[c].astype("Int64")
        read[n] = df
    grids = read["grids"]
    grids["forced"] = grids["forced"].astype(bool)
    if "locked" in grids:
        grids["locked"] = grids["locked"].fillna(0).astype(bool)
    atoms = read["atoms"]
    atoms["is_cell"] = atoms["is_cell"].astype(bool)
    return GridPlan(
        grids=grids, blocks=atoms, households=read["households"], unplaced=read["unplaced"],
        status=tables["status"], edges=tables["edges"], roads=read["roads"], record=record,
        changes=_read_changes(path, names), edit_log=_read_history(path, names, grids),
    )
