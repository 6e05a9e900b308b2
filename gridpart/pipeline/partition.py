"""The front door: :func:`partition`, a list of stages.

Each stage is a function that takes and returns plain data (a small frozen
dataclass where it returns several things) and can be called on its own:

1. :func:`read_inputs`: the layers read (an OSM path too) and validated, every
   parameter checked; every problem is reported at once.
2. :func:`to_working_crs`: the working (metric) CRS; layers and study area in it.
3. :func:`study_area_geometry`: the area blocks are cut from.
4. :func:`build_blocks`: the street blocks and the lines between them.
5. :func:`build_atoms`: households attached, big blocks cut into building
   cells (atoms), the atom graph.
6. :func:`pose_subproblems`: the parcel policy and one sub-problem per
   community and component.
7. :func:`solve_all`: every sub-problem solved (worker processes, arterial cells).
8. :func:`atom_results`: the results carried back to every atom.
9. :func:`assemble`: the plan, its review flags.
10. :func:`run_record`: the run record.

The strategy registry lives in :mod:`gridpart.solvers.registry`;
``STRATEGIES`` and :func:`register_strategy` are re-exported here.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import pickle
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from gridpart._version import __version__
from gridpart.errors import BandWarning, GridpartError, InputError, Problems, TimeLimitWarning
from gridpart.geometry.adjacency import atom_edges, mark_corner_contacts
from gridpart.geometry.blocks import (
    absorb_hubs,
    attach_households,
    blocks_from_roads,
    canonical_order,
    noded_segments,
    share_out_gaps,
    split_big_blocks,
    surface_blocks,
)
from gridpart.inputs.coords import convert_layer, coords_by_layer, from_wgs84, to_wgs84
from gridpart.inputs.crs import prepare_crs, to_working
from gridpart.inputs.osm import estimate_households, read_osm
from gridpart.inputs.schema import (
    Target,
    coerce_target,
    read_layer,
    validate_barriers,
    validate_communities,
    validate_households,
    validate_parcels,
    validate_roads,
)
from gridpart.model.parcels import (
    COMPOUND_REASON,
    DEDICATED_REASON,
    atom_parcels,
    compound_subproblems,
    dedicated_subproblems,
    is_dedicated,
    labels_in_band,
    separation_groups,
    solver_edges,
    unmix_compounds,
)
from gridpart.model.problem import (
    COMPACTNESS_WEIGHT,
    MAX_BAND_HOUSEHOLDS,
    MAX_BAND_PERSONS,
    Band,
    SubProblem,
    build_subproblems,
    cell_clusters,
    grid_count,
)
from gridpart.model.problem import arterial_cells as problem_cells  # partition() has an arterial_cells= option
from gridpart.model.result import ForcedReason, NoteKind, Status, UnplacedReason, has_note
from gridpart.outputs.review import flag_column
from gridpart.plan import GridPlan
from gridpart.record import RunRecord
from gridpart.rules.codes import reading_order
from gridpart.rules.naming import NAMING_COLUMNS, name_grids
from gridpart.solvers.cpsat import labels_objective
from gridpart.solvers.lns import PROOF_PROBLEM, SOFT_BAND, SubResult
from gridpart.solvers.registry import (
    STRATEGIES,
    Strategy,
    accepts_effort,
    check_result,
    lookup_strategy,
    register_strategy,
    strategy_name,
)

__all__ = ["partition", "register_strategy", "STRATEGIES", "DEFAULT_MARGIN_M", "read_inputs", "to_working_crs",
           "study_area_geometry", "build_blocks", "build_atoms", "pose_subproblems", "solve_all", "atom_results",
           "assemble", "run_record", "Inputs", "Working", "Blocks", "Atoms", "Subproblems", "Solution", "Outcome",
           "SolveSettings", "network_area"]

log = logging.getLogger(__name__)

#: Margin around the households' hull for the default study area, in metres.
DEFAULT_MARGIN_M = 100.0
#: Households farther than this from the faces of the road network are taken in
#: by a corridor (see :func:`network_area`).
OUTLIER_REACH_M = 30.0
#: ``concave_hull`` ratio for the default study area of line input (0: tightest).
HULL_RATIO = 0.05

#: Sub-problems with at least this many grids spread their LNS windows over
#: the workers themselves; smaller ones are spread over the workers whole.
WINDOW_PARALLEL_GRIDS = 40


def _solve_one(args: tuple) -> SubResult:
    """Solve one sub-problem with a strategy and check what it returned.

    ``args`` is ``(sub, strategy, seed, time_limit[, n_jobs[, effort]])`` with
    ``strategy`` a :class:`~gridpart.solvers.registry.Strategy`: its function
    is sent to worker processes as is (so a strategy registered in the parent
    works under any start method), its name is for messages.  ``effort`` is
    passed only when given (not None).
    """
    sub, strategy, seed, time_limit, *rest = args
    name, fn = strategy.name, strategy.fn
    kwargs = {}
    if rest and rest[0] > 1:
        kwargs["n_jobs"] = rest[0]
    if len(rest) > 1 and rest[1] is not None:
        kwargs["effort"] = rest[1]
    res = fn(sub, seed=seed, time_limit=time_limit, **kwargs)
    return check_result(res, sub, name, contiguous=getattr(fn, "contiguous_labels", True))


@dataclasses.dataclass(frozen=True)
class SolveSettings:
    """How :func:`solve_all` solves: the strategy and the options of :func:`partition`
    that reach it (``n_jobs=-1``: all cores)."""

    strategy: Strategy
    seed: int = 0
    time_limit: float = 60.0
    effort: float | None = None
    n_jobs: int = 1
    progress: bool = False
    arterial_cells: bool = False

    @property
    def workers(self) -> int:
        return (os.cpu_count() or 1) if self.n_jobs == -1 else int(self.n_jobs)

    def job(self, sub: SubProblem, n_jobs: int = 1) -> tuple:
        """The arguments of :func:`_solve_one` for ``sub``."""
        return (sub, self.strategy, int(self.seed), float(self.time_limit), n_jobs, self.effort)

    def solve_one(self, sub: SubProblem) -> SubResult:
        """``sub`` solved in this process, its result checked."""
        return _solve_one(self.job(sub))


def _picklable(fn) -> bool:
    try:
        pickle.dumps(fn)
    except (pickle.PicklingError, AttributeError, TypeError, RecursionError) as exc:
        log.warning("strategy %s cannot be sent to worker processes (%s: %s): solving its sub-problems one "
                    "at a time in this process; define it as a module-level function to use n_jobs > 1",
                    strategy_name(fn), type(exc).__name__, exc)
        return False
    return True


def _solve_in_workers(jobs: list[tuple], n_workers: int) -> list[SubResult]:
    """The jobs solved in ``n_workers`` processes, in order; serially when the pool breaks.

    A strategy that pickles in this process may still fail to load in a
    worker (e.g. a function defined under ``if __name__ == "__main__":`` with
    the spawn start method): the pool then breaks, and the jobs are solved
    here, with a log message saying why.
    """
    try:
        with ProcessPoolExecutor(max_workers=min(n_workers, len(jobs))) as ex:
            return list(ex.map(_solve_one, jobs))
    except BrokenProcessPool as exc:
        log.warning("the worker processes failed (%s); solving the %d sub-problems one at a time in this "
                    "process.  A strategy must be importable by the workers: a module-level function of an "
                    "importable module", exc, len(jobs))
        return [_solve_one(job) for job in jobs]


def _bounding_lines(segments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The segments that still bound blocks (not the lines inside street space a block took in)."""
    return segments[~segments["street_space"]] if "street_space" in segments else segments


def network_area(roads: gpd.GeoDataFrame, households: np.ndarray, *, reach_m: float = OUTLIER_REACH_M):
    """The default study area for road lines: the faces the road network closes,
    holes filled, widened to take in the households beyond the last road.

    The area is the union of the closed faces and a concave hull (shapely's
    ``concave_hull``, ratio :data:`HULL_RATIO`) of the households beyond them
    with the faces' outline, buffered by ``reach_m``: it follows the network's
    outer streets, not a rounded margin, and nobody is left unplaced.
    ``None`` when the roads close no face.
    """
    lines = shapely.force_2d(roads.geometry.values)
    lines = lines[~shapely.is_empty(lines)]
    if not len(lines):
        return None
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.node(shapely.union_all(lines)))))
    if not len(polys):
        return None
    faces = shapely.get_parts(shapely.union_all(polys))
    filled = shapely.union_all(shapely.polygons(shapely.get_exterior_ring(faces)))
    pts = np.asarray(households, dtype=object)
    far = pts[shapely.distance(pts, filled) > reach_m / 2] if len(pts) else pts
    if not len(far):
        return filled
    outline = shapely.get_coordinates(shapely.segmentize(shapely.boundary(filled), 50.0))
    hull = shapely.concave_hull(shapely.multipoints(np.r_[outline, shapely.get_coordinates(far)]), ratio=HULL_RATIO)
    return shapely.union_all([filled, shapely.buffer(hull, reach_m / 2)])


_OSM_SUFFIXES = (".osm", ".pbf", ".osm.pbf")


def _is_osm_path(obj) -> bool:
    return isinstance(obj, (str, os.PathLike)) and str(obj).lower().endswith(_OSM_SUFFIXES)


def _osm_inputs(roads, households, barriers, study_area, parcels):
    """Roads (and barriers, study area, parcels) from an OSM file; households
    estimated from its buildings when ``households`` is that same file."""
    if not _is_osm_path(roads):
        return roads, households, barriers, study_area, parcels
    osm = _read_osm_checked(roads, read_osm)
    if _is_osm_path(households) and os.path.abspath(households) == os.path.abspath(roads):
        households = estimate_households(osm.buildings, parcels=osm.parcels)
    if barriers is None:
        barriers = osm.barriers
    if study_area is None and osm.study_area is not None:
        study_area = gpd.GeoDataFrame(geometry=[osm.study_area], crs="EPSG:4326")
    if parcels is None:
        parcels = osm.parcels
    return osm.roads, households, barriers, study_area, parcels


def _read_osm_checked(path, read_osm):
    """``read_osm(path)``, with a missing or unreadable file reported as an InputError on ``roads``."""
    problems = Problems()
    try:
        return read_osm(path)
    except GridpartError:
        raise
    except FileNotFoundError:
        problems.add("roads", f"OSM file not found: {os.fspath(path)!r} (working directory {os.getcwd()!r}).",
                     fix="check the path")
    except (OSError, ValueError, RuntimeError) as exc:  # GDAL/pyogrio parse errors are RuntimeErrors
        problems.add("roads", f"could not read the OSM file {os.fspath(path)!r}: {type(exc).__name__}: {exc}",
                     fix="check that it is a complete .osm (XML) or .osm.pbf file, e.g. re-download the extract")
    problems.raise_if_any()


#: Columns gridpart writes on ``plan.households``; user columns of these names are replaced.
_HOUSEHOLD_OUTPUT_COLUMNS = ("households", "persons", "block_id", "atom_id", "grid_id", "reason")


def _with_user_columns(validated: gpd.GeoDataFrame, given: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The validated households with the user's other columns back (addresses, names, ids).

    ``plan.households`` is "the input households with grid_id": the user's
    columns come first, in their order, then gridpart's; the geometry is the
    validated one (2D, converted from web-map coordinates where asked).
    """
    keep = [c for c in given.columns if c != given.geometry.name and c not in _HOUSEHOLD_OUTPUT_COLUMNS
            and c not in validated.columns]
    if not keep:
        return validated
    extra = pd.DataFrame({c: given[c].to_numpy() for c in keep}, index=validated.index)
    out = pd.concat([extra, pd.DataFrame(validated)], axis=1)
    return gpd.GeoDataFrame(out, geometry=validated.geometry.name, crs=validated.crs)


def _check_params(problems: Problems, strategy, time_limit, seed, n_jobs, units, n_grids, compounds="share",
                  effort=None) -> None:
    if not (callable(strategy) or (isinstance(strategy, str) and strategy in STRATEGIES)):
        problems.add("strategy", f"unknown strategy {strategy!r}; known: {sorted(STRATEGIES)}",
                     fix="pass one of those names, or a callable registered with gp.register_strategy")
    if (not isinstance(time_limit, (int, float, np.integer, np.floating)) or isinstance(time_limit, (bool, np.bool_))
            or not math.isfinite(time_limit) or time_limit <= 0):
        problems.add("time_limit", f"must be a positive number of seconds, got {time_limit!r}",
                     fix="e.g. time_limit=60")
    if effort is not None and (
            not isinstance(effort, (int, float, np.integer, np.floating)) or isinstance(effort, (bool, np.bool_))
            or not math.isfinite(effort) or effort <= 0):
        problems.add("effort", f"must be a positive number of CP-SAT deterministic seconds or None, got {effort!r}",
                     fix="e.g. effort=20, or leave it out for the default")
    elif effort is not None and not accepts_effort(STRATEGIES.get(strategy) if isinstance(strategy, str) else strategy):
        problems.add("effort", f"is given, but strategy {strategy_name(strategy)!r} takes no effort= keyword",
                     fix="leave effort out, or add an effort=None keyword to the strategy")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**31:
        problems.add("seed", f"must be an integer from 0 to 2**31 - 1, got {seed!r}", fix="e.g. seed=0")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        problems.add("n_jobs", f"must be a positive integer or -1 (all cores), got {n_jobs!r}", fix="e.g. n_jobs=1")
    if units not in ("own", "own-all", "merge"):
        problems.add("units", f"must be 'own', 'own-all' or 'merge', got {units!r}", fix="units='own'")
    if compounds not in ("share", "own"):
        problems.add("compounds", f"must be 'share' or 'own', got {compounds!r}", fix="compounds='share'")
    if n_grids is not None and not isinstance(n_grids, dict):
        if not _positive_int(n_grids):
            problems.add("n_grids", f"must be a positive integer or a dict by community_id, got {n_grids!r}",
                         fix="e.g. n_grids=12")


def _check_target_size(tgt: Target | None, problems: Problems) -> None:
    """A band no grid could sensibly have, and that would overflow the solvers' integer objective."""
    if tgt is None:
        return
    if tgt.band[1] > MAX_BAND_HOUSEHOLDS:
        problems.add("target", f"asks for up to {tgt.band[1]:,.0f} households per grid; at most "
                               f"{MAX_BAND_HOUSEHOLDS:,} are supported (the solvers' objective would overflow).",
                     fix="pass the households per grid, e.g. target=300; to get a given number of grids, pass "
                         "n_grids=")
    if tgt.persons_band is not None and tgt.persons_band[1] > MAX_BAND_PERSONS:
        problems.add("target", f"asks for up to {tgt.persons_band[1]:,.0f} persons per grid; at most "
                               f"{MAX_BAND_PERSONS:,} are supported (the solvers' objective would overflow).",
                     fix="pass the persons per grid, e.g. gp.Target(households=300, persons=1000)")


def _positive_int(value) -> bool:
    return bool(isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 1)


def _check_n_grids(n_grids, communities, problems: Problems):
    """``n_grids`` as a dict keyed by community id text (what the problem builder looks up).

    Unknown communities and counts that are not positive integers are problems.
    """
    if not isinstance(n_grids, dict):
        return n_grids
    known = ["1"] if communities is None else [str(v) for v in communities["community_id"]]
    out, unknown, bad = {}, [], []
    for key, value in n_grids.items():
        candidates = [str(key), str(key).strip()]
        if isinstance(key, (float, np.floating)) and float(key).is_integer():
            candidates.append(str(int(key)))
        text = next((c for c in candidates if c in known), str(key))
        if text not in known:
            unknown.append(key)
        if not _positive_int(value):
            bad.append(key)
        out[text] = value
    if unknown:
        problems.add("n_grids", f"names {len(unknown)} communities that are not in communities['community_id']: "
                                f"{', '.join(repr(k) for k in unknown[:5])} "
                                f"(known: {', '.join(repr(k) for k in known[:5])}"
                                f"{' ...' if len(known) > 5 else ''}).",
                     rows=unknown, fix="key n_grids by community_id, e.g. n_grids={%r: 4}" % known[0])
    if bad:
        found = ", ".join(f"{k!r}: {n_grids[k]!r}" for k in bad[:5])
        problems.add("n_grids", f"counts must be positive integers; found {found}.",
                     rows=bad, fix="e.g. n_grids={%r: 4}" % known[0])
    return out


def _convert_coords(layers: dict, systems: dict, problems: Problems) -> dict:
    """Web-map layers (``coords=``) converted to WGS-84 before any geometry work."""
    out = dict(layers)
    for name, system in systems.items():
        if out.get(name) is not None:
            log.info("converting %s from %s to WGS-84", name, system)
            out[name] = convert_layer(out[name], system, argument=name, problems=problems)
    return out


def _study_area_in(study_area, user_crs, work_crs, system, problems: Problems):
    """The study area checked, repaired and in the working CRS (``None`` when not given).

    A shapely geometry, or a GeoSeries/GeoDataFrame without CRS, is in the
    households' CRS (``user_crs``).
    """
    if study_area is None:
        return None
    if isinstance(study_area, gpd.GeoDataFrame):
        geoms = study_area.geometry
    elif isinstance(study_area, gpd.GeoSeries):
        geoms = study_area
    elif isinstance(study_area, shapely.Geometry):
        geoms = gpd.GeoSeries([study_area])
    else:
        problems.add("study_area", f"expected a shapely polygon, a GeoSeries or a GeoDataFrame; found "
                                   f"{type(study_area).__module__}.{type(study_area).__qualname__}.",
                     fix="pass e.g. study_area=shapely.box(xmin, ymin, xmax, ymax) in the households' CRS")
        return None
    if geoms.crs is None:
        geoms = geoms.set_crs(user_crs)
    values = np.asarray(geoms.values, dtype=object)
    values = values[~(shapely.is_missing(values) | shapely.is_empty(values))]
    polys = shapely.get_parts(values)
    polys = polys[np.isin(shapely.get_type_id(polys), (3, 6))] if len(polys) else polys
    if not len(polys):
        found = sorted({str(t) for t in shapely.get_type_id(values)}) if len(values) else []
        problems.add("study_area", "has no polygon (it is empty" + (", or points/lines only)" if found else ")") + ".",
                     fix="pass the area to partition as a polygon, e.g. shapely.box(...), or leave it out")
        return None
    coords = shapely.get_coordinates(polys)
    if not np.isfinite(coords).all():
        problems.add("study_area", "has coordinates that are not finite numbers (NaN or infinite).",
                     fix="redraw it, or leave it out")
        return None
    if geoms.crs.is_geographic and (np.abs(coords[:, 0]).max() > 180 or np.abs(coords[:, 1]).max() > 90):
        problems.add("study_area", f"has coordinates beyond ±180°/±90°, so they are not degrees although it is "
                                   f"taken to be in {geoms.crs.to_string()} (a shapely geometry is in the "
                                   "households' CRS).",
                     fix="pass it as a GeoSeries with its own CRS: gpd.GeoSeries([area], crs='EPSG:...')", crs=True)
        return None
    invalid = ~shapely.is_valid(polys)
    if invalid.any():
        problems.repair("study_area", f"repaired {int(invalid.sum())} invalid polygons with shapely.make_valid.",
                        rows=list(np.flatnonzero(invalid)))
        polys = shapely.make_valid(polys)
    area = gpd.GeoSeries([shapely.union_all(polys)], crs=geoms.crs)
    if system:
        area = convert_layer(area, system, argument="study_area", problems=problems)
        if area is None:
            return None
    geom = area.to_crs(work_crs).iloc[0]
    if geom is None or geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
        problems.add("study_area", f"cannot be placed in the working CRS {work_crs.to_string()}.",
                     fix="check its CRS (gpd.GeoSeries([area], crs='EPSG:...'))", crs=True)
        return None
    return shapely.make_valid(geom)


#: Above this share of households outside every block, the layers probably do not match.
MOSTLY_OUTSIDE = 0.5

_OFFSETS = (
    ("households", "gcj02", "GCJ-02 (Amap, Tencent) coordinates labelled as WGS-84",
     "pass coords={'households': 'gcj02'}"),
    ("households", "bd09", "BD-09 (Baidu) coordinates labelled as WGS-84",
     "pass coords={'households': 'bd09'}"),
    ("others", "gcj02", "WGS-84 while the roads/communities/study area are GCJ-02 (Amap, Tencent)",
     "pass coords={'roads': 'gcj02', 'communities': 'gcj02', 'study_area': 'gcj02'} for the layers "
     "taken from the web map"),
    ("others", "bd09", "WGS-84 while the roads/communities/study area are BD-09 (Baidu)",
     "pass coords={'roads': 'bd09', 'communities': 'bd09', 'study_area': 'bd09'} for the layers "
     "taken from the web map"),
)


def _share_inside(points, tree, weights) -> float:
    hit = np.zeros(len(points), bool)
    p, _ = tree.query(points, predicate="intersects")
    hit[p] = True
    return float(weights[hit].sum() / max(weights.sum(), 1e-12))


def _offset_hint(hh, blocks) -> tuple[str, str] | None:
    """Whether a web-map offset (GCJ-02, BD-09) explains households outside the blocks."""
    if hh.crs is None or len(blocks) == 0:
        return None
    w = hh["households"].to_numpy(dtype=float)
    w = w if w.sum() > 0 else np.ones(len(w))
    tree = shapely.STRtree(blocks.geometry.values)
    now = _share_inside(hh.geometry.values, tree, w)
    ll = hh.geometry.to_crs("EPSG:4326")
    best = None
    for who, system, what, fix in _OFFSETS:
        shift = to_wgs84 if who == "households" else from_wgs84
        moved = gpd.GeoSeries(shift(ll.values, system), crs="EPSG:4326").to_crs(hh.crs).values
        share = _share_inside(moved, tree, w)
        if share >= 0.8 and share >= now + 0.3 and (best is None or share > best[0]):
            best = (share, what, fix)
    if best is None:
        return None
    share, what, fix = best
    return (f" They look like {what}: Chinese web maps shift coordinates by 100-700 m, and undoing that "
            f"shift puts {share:.0%} of the households inside.", fix)


def _check_placement(hh, blocks, block_of, problems: Problems) -> None:
    """Raise when (almost) every household is outside the blocks; warn when most are.

    ``hh`` and ``blocks`` are in the working CRS; ``block_of`` is the block of
    each household (NA outside).  A web-map offset that explains the miss is
    named in the message.
    """
    out = block_of.isna().to_numpy()
    if not out.any():
        return
    if len(blocks) == 0:
        problems.add("roads", "no block was formed inside the area to partition, so no household can be placed.",
                     rows=hh.index[out],
                     fix="check roads_are (road surfaces that cover the whole area leave no block), the study "
                         "area and the communities")
        problems.raise_if_any()
    w = hh["households"].to_numpy(dtype=float)
    w = w if w.sum() > 0 else np.ones(len(w))
    share = float(w[out].sum() / w.sum())
    if share <= MOSTLY_OUTSIDE:
        return
    hint = _offset_hint(hh, blocks)
    text = (f"{int(out.sum())} of {len(out)} rows ({share:.0%} of the households) lie outside every block "
            "(outside the study area or every community).")
    if hint is not None or share >= 1.0:
        fix = hint[1] if hint else ("check that study_area and communities cover the households and that "
                                    "every layer's CRS is the one its coordinates are in")
        problems.add("households", text + (hint[0] if hint else ""), rows=hh.index[out], fix=fix)
        problems.raise_if_any()
    warnings.warn(f"households: {text} They are unplaced (see plan.unplaced).", UserWarning, stacklevel=4)


def _block_cores(geoms: np.ndarray, area) -> np.ndarray:
    """The user's block polygons as a clean coverage inside ``area``: one piece
    per polygon part, overlaps given to one of the blocks, no slivers."""
    parts = shapely.get_parts(shapely.intersection(shapely.make_valid(np.asarray(geoms, dtype=object)), area))
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 1.0)]
    clean = shapely.get_parts(shapely.coverage_clean(parts))
    return clean[(shapely.get_type_id(clean) == 3) & (shapely.area(clean) > 1.0)]


def _blocks_and_segments(roads, roads_are, area, barriers, communities, households=None):
    if roads_are == "lines":
        b = blocks_from_roads(roads, limit=area, barriers=barriers, communities=communities, households=households)
        de = b.dead_ends
        report = None if de is None else {"closed": int(de["closed"].sum()), "open": int((~de["closed"]).sum()),
                                          **{str(k): int(v) for k, v in de["reason"].value_counts().items()}}
        return b.blocks, b.segments, report
    crs = roads.crs
    if roads_are == "surfaces":
        polys, _ = surface_blocks(roads, limit=area, households=households)
    else:  # blocks: each given polygon is a block; the space between them is shared out like road space
        polys = _block_cores(roads.geometry.values, area)
        polys = share_out_gaps(polys, limit=area)
    polys = shapely.get_parts(polys)
    polys = polys[shapely.area(polys) > 1.0]
    blocks = gpd.GeoDataFrame(geometry=polys, crs=crs)
    # boundaries between the blocks, named by the road surface they run in
    lines = shapely.get_parts(shapely.union_all(shapely.boundary(polys)))
    segs = gpd.GeoDataFrame({"kind": ["street"] * len(lines), "name": [None] * len(lines),
                             "name_en": [None] * len(lines)}, geometry=lines, crs=crs)
    segs = noded_segments(segs)
    if roads_are == "surfaces":
        mid = shapely.line_interpolate_point(segs.geometry.values, 0.5, normalized=True)
        s, r = shapely.STRtree(roads.geometry.values).query(mid, predicate="intersects")
        first = pd.DataFrame({"s": s, "r": r}).drop_duplicates("s")
        segs.loc[segs.index[first["s"]], "kind"] = roads["kind"].to_numpy()[first["r"]]
        segs.loc[segs.index[first["s"]], "name"] = roads["name"].to_numpy()[first["r"]]
    if communities is not None:
        cut = gpd.overlay(blocks, communities[["community_id", "geometry"]], how="intersection", keep_geom_type=True)
        blocks = cut.explode(index_parts=False).reset_index(drop=True)
        ring_geoms = shapely.boundary(communities.geometry.values)
        rings = gpd.GeoDataFrame({"kind": ["community"] * len(ring_geoms), "name": [None] * len(ring_geoms)},
                                 geometry=ring_geoms, crs=crs)
        segs = noded_segments(pd.concat([segs, rings], ignore_index=True))
    else:
        blocks["community_id"] = "1"
    blocks["area_m2"] = blocks.geometry.area
    blocks = canonical_order(blocks[blocks["area_m2"] > 1.0], ["community_id"])
    blocks.insert(0, "block_id", np.arange(len(blocks)))
    return blocks, segs, None


# ---------------------------------------------------------------------------
# The stages of partition(), in the order it calls them.  Each takes and
# returns plain data and can be called on its own.


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What :func:`read_inputs` returns: the layers validated (web-map coordinates
    converted), the checked parameters that later stages need, and the collector
    whose repairs go on the run record."""

    #: households, roads, communities, parcels, barriers (``None`` when not given)
    layers: dict[str, gpd.GeoDataFrame | None]
    #: households as read, before validation: their user columns return on the plan
    households_given: gpd.GeoDataFrame | None
    #: the study area as given (or the OSM file's bounds); :func:`to_working_crs` checks it
    study_area: Any
    roads_are: str
    target: Target
    #: ``n_grids``, a dict keyed by community id text when given per community
    n_grids: int | dict | None
    #: the web-map coordinate system per layer (``coords=``)
    coords: dict[str, str]
    problems: Problems


def read_inputs(roads, households, *, communities=None, parcels=None, barriers=None, study_area=None,
                target=300, tolerance=0.2, roads_are="auto", units="own", compounds="share", n_grids=None,
                strategy="auto", time_limit=60.0, effort=None, seed=0, n_jobs=1,
                compactness=COMPACTNESS_WEIGHT, objective="compact", coords=None) -> Inputs:
    """Stage 1: read the layers (an OSM path too), validate them and check every
    parameter of :func:`partition`; every problem is reported at once.

    Raises
    ------
    InputError
        Listing every problem with the layers and the parameters.
    """
    roads, households, barriers, study_area, parcels = _osm_inputs(roads, households, barriers, study_area, parcels)
    problems = Problems()
    given = {name: read_layer(layer, argument=name, problems=problems) for name, layer in (
        ("roads", roads), ("households", households), ("communities", communities), ("parcels", parcels),
        ("barriers", barriers))}
    layers, roads_are = _validated(given, roads_are, problems)
    tgt = coerce_target(target, tolerance, problems)
    _check_target_size(tgt, problems)
    _check_params(problems, strategy, time_limit, seed, n_jobs, units, n_grids, compounds, effort)
    _check_objective(problems, compactness, objective)
    _check_required(problems, roads, households, tgt, layers["households"])
    systems = coords_by_layer(coords, problems)
    n_grids = _check_n_grids(n_grids, layers["communities"], problems)
    problems.raise_if_any()
    layers = _convert_coords(layers, systems, problems)
    problems.raise_if_any()
    assert tgt is not None  # coerce_target returns None only with a problem, raised above
    return Inputs(layers=layers, households_given=given["households"], study_area=study_area, roads_are=roads_are,
                  target=tgt, n_grids=n_grids, coords=systems, problems=problems)


def _validated(given: dict, roads_are: str, problems: Problems) -> tuple[dict, str]:
    """The layers read, validated (``roads_are`` decided), keyed households first."""
    road_v, roads_are = (validate_roads(given["roads"], roads_are=roads_are, problems=problems)
                         if given["roads"] is not None else (None, roads_are))
    validate = {"households": validate_households, "communities": validate_communities,
                "parcels": validate_parcels, "barriers": validate_barriers}
    out = {name: None if given[name] is None else fn(given[name], problems=problems) for name, fn in validate.items()}
    return {"households": out["households"], "roads": road_v, "communities": out["communities"],
            "parcels": out["parcels"], "barriers": out["barriers"]}, roads_are


def _check_objective(problems: Problems, compactness, objective) -> None:
    if (not isinstance(compactness, (int, float, np.integer, np.floating)) or isinstance(compactness, bool)
            or not math.isfinite(compactness) or not 0 <= compactness <= 1000):
        problems.add("compactness", f"must be a number from 0 to 1000, got {compactness!r}",
                     fix=f"e.g. compactness={COMPACTNESS_WEIGHT:g} (the default), or 0 for cut costs alone")
    if objective not in ("compact", "cut"):
        problems.add("objective", f"must be 'compact' or 'cut', got {objective!r}", fix='objective="cut"')


def _check_required(problems: Problems, roads, households, tgt: Target | None, hh_v) -> None:
    if roads is None:
        problems.add("roads", "is required", fix="pass road centrelines, blocks or road surfaces")
    if households is None:
        problems.add("households", "is required", fix="pass household points")
    if tgt is not None and tgt.persons is not None and hh_v is not None and hh_v["persons"].isna().all():
        problems.add("target", "asks for a persons band but households has no 'persons' column",
                     fix="add a 'persons' column to households, or drop persons= from the Target")


@dataclasses.dataclass(frozen=True)
class Working:
    """What :func:`to_working_crs` returns: the layers in the working (metric) CRS."""

    layers: dict[str, gpd.GeoDataFrame | None]
    user_crs: Any
    work_crs: Any
    #: the study area given, checked and in the working CRS (``None`` when not given)
    study_area: Any


def to_working_crs(inputs: Inputs) -> Working:
    """Stage 2: choose the working CRS over every layer and reproject the layers and
    the study area into it (:mod:`gridpart.inputs.crs`)."""
    problems = inputs.problems
    user_crs, work_crs = prepare_crs(inputs.layers, problems=problems)
    problems.raise_if_any()
    area = _study_area_in(inputs.study_area, user_crs, work_crs, inputs.coords.get("study_area"), problems)
    problems.raise_if_any()
    return Working(layers=to_working(inputs.layers, work_crs), user_crs=user_crs, work_crs=work_crs,
                   study_area=area)


def study_area_geometry(work: Working, *, roads_are: str = "lines", problems: Problems | None = None):
    """Stage 3: the area blocks are cut from, in the working CRS: communities ∩ study
    area, else either, else the road network's area (line input, :func:`network_area`),
    else the households' hull + :data:`DEFAULT_MARGIN_M` (with block input, together
    with the blocks: a user's block is never cut).

    Raises
    ------
    InputError
        The area is empty (e.g. a study area far from the households).
    """
    problems = Problems() if problems is None else problems
    hh, communities, roads = work.layers["households"], work.layers["communities"], work.layers["roads"]
    area = shapely.make_valid(_default_area(work.study_area, communities, hh, roads=roads, roads_are=roads_are))
    if area.is_empty or area.area < 1.0:
        _no_area(work, problems)
    return area


def _default_area(area, communities, households, *, roads=None, roads_are="lines"):
    """:func:`study_area_geometry`'s area before repair."""
    if communities is not None:
        comm = shapely.union_all(communities.geometry.values)
        return comm if area is None else shapely.intersection(comm, area)
    if area is not None:
        return area
    pts = households.geometry.values
    if roads is not None and roads_are == "lines":
        network = network_area(roads, pts)
        if network is not None:
            return network
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(pts))), DEFAULT_MARGIN_M)
    if roads is not None and roads_are == "blocks":
        return shapely.union_all(np.r_[[hull], shapely.make_valid(roads.geometry.values)])
    return hull


def _no_area(work: Working, problems: Problems) -> None:
    """Raise: there is no area to partition, saying why."""
    hh, area = work.layers["households"], work.study_area
    assert hh is not None  # households are required
    far = (work.layers["communities"] is None and area is not None
           and not area.intersects(shapely.box(*hh.total_bounds).buffer(100.0)))
    if work.layers["communities"] is not None:
        what = "does not overlap the communities"
    elif far:
        away = area.distance(shapely.box(*hh.total_bounds)) / 1000.0
        what = (f"lies {away:,.0f} km from the households (a shapely geometry is taken in the households' "
                f"CRS, {work.user_crs.to_string()}; one drawn in degrees or in another CRS lands elsewhere)")
    else:
        what = "covers less than 1 m²"
    problems.add("study_area", f"{what}, so there is no area to partition.",
                 fix="pass a study area that covers the households (and communities), with its CRS: "
                     "gpd.GeoSeries([area], crs='EPSG:...'), or leave it out",
                 crs=far)
    problems.raise_if_any()


@dataclasses.dataclass(frozen=True)
class Blocks:
    """What :func:`build_blocks` returns."""

    #: street blocks with ``block_id``, ``community_id``, ``area_m2``
    blocks: gpd.GeoDataFrame
    #: the noded lines between blocks (roads, barriers, community boundaries) with ``kind`` and ``name``
    segments: gpd.GeoDataFrame
    #: dead ends closed and left open (line input), for the run record
    dead_ends: dict | None


def build_blocks(work: Working, area, *, roads_are: str) -> Blocks:
    """Stage 4: the street blocks inside ``area`` (:mod:`gridpart.geometry.blocks`)."""
    hh = work.layers["households"]
    assert hh is not None  # households are required
    blocks, segments, dead_ends = _blocks_and_segments(
        work.layers["roads"], roads_are, area, work.layers["barriers"], work.layers["communities"],
        households=hh.geometry.values)
    return Blocks(blocks=blocks, segments=segments, dead_ends=dead_ends)


@dataclasses.dataclass(frozen=True)
class Atoms:
    """What :func:`build_atoms` returns: the atom graph and the households on it."""

    #: street blocks and building cells of big blocks, with ``households``, ``persons``, ``x``, ``y``
    atoms: gpd.GeoDataFrame
    #: adjacent atom pairs ``a``, ``b`` with the boundary between them
    edges: pd.DataFrame
    #: the households in the working CRS, with ``block_id`` and ``atom_id`` (NA where not placed)
    households: gpd.GeoDataFrame
    #: per household, why it is attached to no block ("" where it is)
    unattached: pd.Series
    segments: gpd.GeoDataFrame


def build_atoms(households: gpd.GeoDataFrame, blocks: Blocks, *, band: Band, roads_are: str = "lines",
                problems: Problems | None = None) -> Atoms:
    """Stage 5: households attached to blocks, big blocks split into building cells
    (atoms), the atoms' households and persons summed, and their adjacency.

    Raises
    ------
    InputError
        (Almost) every household lies outside the blocks.
    """
    problems = Problems() if problems is None else problems
    hh, segments = households, blocks.segments
    block_of, reasons = attach_households(hh, blocks.blocks, id_col="block_id")
    _check_placement(hh, blocks.blocks, block_of, problems)
    hh = hh.assign(block_id=block_of)
    placed = hh["block_id"].notna()
    held = (hh.loc[placed].groupby(hh.loc[placed, "block_id"].astype(np.int64))["households"].sum()
            .reindex(blocks.blocks["block_id"], fill_value=0.0).to_numpy())
    merged = absorb_hubs(blocks.blocks.assign(households=held))
    atoms, hh_atom = split_big_blocks(merged, hh.loc[placed], max_households=band.hi, target=band.centre,
                                      roads=_bounding_lines(segments) if roads_are == "lines" else None)
    atoms = atoms.set_geometry(_edge_matched(atoms.geometry.values))
    hh["atom_id"] = pd.Series(hh_atom, dtype="Int64").reindex(hh.index)
    has_persons = hh["persons"].notna().any()
    grouped = hh.loc[placed].groupby(hh.loc[placed, "atom_id"].astype(np.int64))
    atoms["households"] = grouped["households"].sum().reindex(atoms["atom_id"], fill_value=0.0).to_numpy()
    atoms["persons"] = (grouped["persons"].sum().reindex(atoms["atom_id"], fill_value=0.0).to_numpy()
                        if has_persons else np.nan)
    atoms["area_m2"] = atoms.geometry.area
    cen = shapely.point_on_surface(atoms.geometry.values)
    atoms["x"], atoms["y"] = shapely.get_x(cen), shapely.get_y(cen)
    edges = mark_corner_contacts(atom_edges(atoms, segments))
    return Atoms(atoms=atoms, edges=edges, households=hh, unattached=reasons, segments=segments)


@dataclasses.dataclass(frozen=True)
class Subproblems:
    """What :func:`pose_subproblems` returns."""

    #: the atoms with their parcel (``parcel_id``, ``parcel_kind``, ``parcel_name``)
    atoms: gpd.GeoDataFrame
    #: one sub-problem per community and connected component (after the parcel policy)
    subs: list[SubProblem]
    #: per sub-problem, what the solver sees and the contracted atom of each atom
    #: (``None`` when nothing is contracted): a compound that fits in one grid is one atom
    contracted: list[tuple[SubProblem, np.ndarray | None]]
    #: a group id per atom for compounds kept whole (-1 elsewhere)
    glue: np.ndarray
    #: per sub-problem, whether its grid count is fixed (``n_grids``, dedicated): solved whole
    fixed_k: list[bool]
    #: the compound checks the wall clock stopped (``"community/component (compound check)"``)
    capped_checks: list[str]

    @property
    def solved(self) -> list[SubProblem]:
        """The sub-problems the solver sees (:func:`solve_all`'s input)."""
        return [c for c, _ in self.contracted]


def pose_subproblems(atoms: Atoms, parcels, *, band: Band, units: str = "own", compounds: str = "share",
                     n_grids=None, compactness: float = COMPACTNESS_WEIGHT,
                     solve_one: Callable[[SubProblem], SubResult]) -> Subproblems:
    """Stage 6: the parcel policy (work units and compounds kept apart, :mod:`gridpart.model.parcels`)
    and the sub-problems, compounds that fit in one grid contracted to one atom.

    ``solve_one`` solves a compound alone to see whether it keeps apart
    (``compounds="share"``); ``parcels`` are in the working CRS (or ``None``).
    """
    with_parcels, solver_e, groups, capped = _parcel_policy(atoms.atoms, atoms.edges, parcels, band, units,
                                                            compounds, n_grids, solve_one)
    subs = build_subproblems(with_parcels, solver_e, band, n_grids=n_grids, compactness=float(compactness))
    subs = dedicated_subproblems(subs, groups, with_parcels["parcel_kind"].to_numpy(), compounds=compounds)
    # a compound that fits in one grid stays whole: its atoms are solved as one
    glue = _compound_glue(with_parcels, solver_e, groups, band)
    contracted: list[tuple[SubProblem, np.ndarray | None]] = [
        s.contract(glue[s.atoms]) if (glue[s.atoms] >= 0).any() else (s, None) for s in subs]
    contracted = [(c, i) if c.n >= c.k else (s, None) for s, (c, i) in zip(subs, contracted)]
    return Subproblems(atoms=with_parcels, subs=subs, contracted=contracted, glue=glue,
                       fixed_k=_fixed_k(subs, n_grids), capped_checks=capped)


@dataclasses.dataclass(frozen=True)
class Solution:
    """What :func:`solve_all` returns."""

    #: one result per sub-problem, in order
    results: list[SubResult]
    #: per sub-problem, ``(cells, clusters, why)`` when solved arterial cell by cell, else ``None``
    cells: list


def solve_all(subs: list[SubProblem], settings: SolveSettings, *, whole: list[bool] | None = None) -> Solution:
    """Stage 7: every sub-problem solved, arterial cell by arterial cell where the
    strategy allows it (:func:`_solve_by_cells`) and ``whole`` does not forbid it,
    in ``settings.n_jobs`` processes.  The plan does not depend on ``n_jobs``."""
    strategy = settings.strategy
    # grids stay between arterials where the households there admit whole grids (issue 18)
    by_cells = settings.arterial_cells and strategy.registered and strategy.name in ARTERIAL_CELL_STRATEGIES
    whole = [False] * len(subs) if whole is None else whole
    results, cells_of = _solve_by_cells(subs, functools.partial(_solve_list, settings=settings),
                                        enabled=[by_cells and not w for w in whole])
    return Solution(results=results, cells=cells_of)


def _solve_list(problems_: list[SubProblem], settings: SolveSettings) -> list[SubResult]:
    """The sub-problems solved, in order.  Large ones use the workers for their
    windows (one at a time); the others are shared out whole."""
    n_workers, strategy, progress = settings.workers, settings.strategy, settings.progress
    large = [i for i, s in enumerate(problems_)
             if n_workers > 1 and strategy.registered and strategy.name in ("auto", "lns")
             and s.k >= WINDOW_PARALLEL_GRIDS]
    small = [i for i in range(len(problems_)) if i not in set(large)]
    out: list[SubResult | None] = [None] * len(problems_)
    for i in large:
        out[i] = _solve_one(settings.job(problems_[i], n_workers))
        if progress:
            log.info("solved sub-problem %s/%d (%d grids)", problems_[i].community_id, problems_[i].component,
                     problems_[i].k)
    jobs = [settings.job(problems_[i]) for i in small]
    # a registered strategy runs in the workers (the function itself is sent, so it
    # need not be registered there); a callable passed directly runs here, serially
    if n_workers > 1 and len(jobs) > 1 and strategy.registered and _picklable(strategy.fn):
        for i, res in zip(small, _solve_in_workers(jobs, n_workers)):
            out[i] = res
    else:
        for done, (i, job) in enumerate(zip(small, jobs)):
            out[i] = _solve_one(job)
            if progress:
                log.info("solved %d/%d sub-problems", done + 1, len(jobs))
    return cast(list[SubResult], out)  # every slot is filled above


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What :func:`atom_results` returns: results on every atom, and per atom id its
    arterial cell (-1 where not known) and why its cells merged across arterials."""

    results: list[SubResult]
    arterial_cell: np.ndarray
    arterial_why: np.ndarray


def atom_results(subproblems: Subproblems, solution: Solution) -> Outcome:
    """Stage 8: the results carried back from contracted compounds to their atoms,
    compound atoms moved out of grids another class dominates (:func:`_unmix`)."""
    cell, why = _arterial_reasons(subproblems.subs, subproblems.contracted, solution.cells,
                                  len(subproblems.atoms))
    results = [r if index is None else dataclasses.replace(r, labels=r.labels[index])
               for r, (_, index) in zip(solution.results, subproblems.contracted)]
    results = _unmix(results, subproblems.subs, subproblems.atoms, subproblems.glue)
    return Outcome(results=results, arterial_cell=cell, arterial_why=why)


def assemble(inputs: Inputs, work: Working, atoms: Atoms, subproblems: Subproblems, outcome: Outcome, *,
             band: Band, time_limit: float) -> GridPlan:
    """Stage 9: the plan (grids named and coded, households and atoms with their
    grid, the status table), its review flags, and the warnings on the search."""
    plan = _assemble(
        atoms=subproblems.atoms, edges=atoms.edges, subs=subproblems.subs, results=outcome.results,
        hh=atoms.households, hh_in=_with_user_columns(inputs.layers["households"], inputs.households_given),
        reasons=atoms.unattached, segments=atoms.segments, user_crs=work.user_crs, work_crs=work.work_crs,
        band=band, parcels=inputs.layers["parcels"], parcels_work=work.layers["parcels"],
        communities=work.layers["communities"],
    )
    _warn_time_capped(plan.status, subproblems.capped_checks, float(time_limit))
    # what a street office would not publish: strips, rings, enclaves, arterials inside, weak 四至
    reviewed = flag_column(plan)
    crossed = _crossing_flags(plan, outcome.arterial_cell, outcome.arterial_why)
    plan.grids["flags"] = [("; ".join(x for x in (a, c, b) if x))
                           for a, c, b in zip(reviewed, crossed, plan.grids["flags"])]
    _warn_softened(plan.status)
    return plan


def run_record(record: RunRecord, *, inputs: Inputs, work: Working, blocks: Blocks, band: Band,
               settings: SolveSettings, objective: str, units: str, compounds: str, compactness: float,
               timings: dict[str, float]) -> RunRecord:
    """Stage 10: the run record (``plan.record``): what was asked and how it was solved."""
    effort = settings.effort
    return dataclasses.replace(
        record, target=inputs.target, band=(band.lo, band.hi),
        persons_band=None if band.persons_lo is None else (band.persons_lo, cast(float, band.persons_hi),
                                                            band.persons_hard),
        roads_are=inputs.roads_are, strategy=settings.strategy.name, objective=objective,
        time_limit=float(settings.time_limit), effort=None if effort is None else float(effort),
        seed=int(settings.seed), n_jobs=int(settings.n_jobs), units=units, compounds=compounds,
        version=__version__, compactness=float(compactness), dead_ends=blocks.dead_ends,
        coords=inputs.coords, repairs=tuple(r.as_dict() for r in inputs.problems.repairs),
        work_crs=work.work_crs.to_string(), timings=timings,
    )


def partition(
    roads,
    households,
    *,
    communities=None,
    parcels=None,
    target: float | tuple[float, float] | Target = 300,
    tolerance: float = 0.2,
    roads_are: str = "auto",
    barriers=None,
    study_area=None,
    units: str = "own",
    compounds: str = "share",
    n_grids: int | dict | None = None,
    strategy: str | Callable = "auto",
    time_limit: float = 60.0,
    effort: float | None = None,
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool = False,
    compactness: float = COMPACTNESS_WEIGHT,
    objective: str = "compact",
    arterial_cells: bool = False,
    on_atoms: Callable[[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame], None] | None = None,
    coords: str | dict | None = None,
) -> GridPlan:
    """Cut an area into contiguous, balanced, road-bounded grids.

    Parameters
    ----------
    roads : GeoDataFrame or path
        Road centrelines (LineStrings with OSM ``highway`` + ``name``, or a
        ``kind`` column road/street/lane), street blocks (Polygons), or road
        surfaces (Polygons, with ``roads_are="surfaces"``).  An ``.osm`` /
        ``.osm.pbf`` path is read with :func:`gridpart.read_osm`, which also
        supplies barriers, parcels and the study area (its ``<bounds>``)
        unless they are given.
    households : GeoDataFrame or path
        Points with ``households`` (default 1 per point) and optional ``persons``.
        The same OSM path as ``roads`` estimates them from its buildings
        (:func:`gridpart.estimate_households`, default parameters).
    communities : GeoDataFrame or path, optional
        Community polygons with ``community_id``; every grid nests in one.
        The plan carries the ids as strings (``1`` → ``"1"``), so compare or
        merge with ``communities["community_id"].astype(str)``.
    parcels : GeoDataFrame or path, optional
        Compounds and work units (``kind`` in {"compound", "unit"}, optional
        ``name``).  They decide grid kinds and keep compounds and units
        together (rules in :mod:`gridpart.model.parcels`).
    target : number, (low, high) or Target
        Households per grid (DESIGN §3); ``gp.Target(households=300, persons=1000)``
        balances persons too.
    tolerance : float
        Band half-width for a number target: ``target × (1 ± tolerance)``.
    roads_are : {"auto", "lines", "blocks", "surfaces"}
    barriers : GeoDataFrame or path, optional
        Rivers, railways, walls: they bound blocks like roads.
    study_area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Limit of the area (shapely geometries are in the households' CRS).
        Default: the communities, else the households' hull plus 100 m.
    units : {"own", "own-all", "merge"}
        ``"own"``: every work unit that houses anyone gets dedicated grids that
        hold nothing else (专属网格; outside the band they count as forced out).
        A unit, or a connected piece of one, that houses nobody (no households,
        no persons: a kiosk, a sports ground, an office block) gets no grid of
        its own: it joins a neighbouring grid, or, when it is enclosed by
        kept-apart parcels, the unit it shares the longest boundary with (its
        parent unit); see :func:`gridpart.model.parcels.fold_empty_units`.
        ``"own-all"``: the 专属网格 rule without exception: every unit gets
        dedicated grids, empty ones too (grids of 0 households).
        ``"merge"``: units share grids with their neighbours.
    compounds : {"share", "own"}
        ``"share"``: a residential compound that can fill grids inside the
        band on its own is kept apart from outside blocks; one that cannot
        (too few households, or buildings too lumpy) shares grids where the
        band asks for it.  ``"own"``: every compound holding at least the
        band's lower limit is kept apart whatever the band says; its grids
        outside the band count as forced out, with the reason
        :data:`gridpart.model.parcels.COMPOUND_REASON`.  Smaller compounds share in
        both modes (they stay whole when they fit in one grid).
    n_grids : int or dict, optional
        Override the number of grids (per community with a dict).  A
        community's count is shared over its separate components (parts that
        no grid can join, e.g. a kept-apart work unit) by largest remainder of
        their households, each getting at least one grid; when the count is
        below the number of components (or above the number of atoms) it
        cannot be met, and a :class:`~gridpart.errors.GridCountWarning` says
        what was used.
    strategy : {"auto", "exact", "lns", "seed"}, a registered name, or callable
        A name registered with :func:`register_strategy` runs in ``n_jobs``
        processes; a callable given here runs in this process, one
        sub-problem at a time (it may keep state).  Either's output is checked
        (:func:`register_strategy`): a malformed result raises a
        :class:`~gridpart.errors.SolverError`.
    time_limit : float
        Wall-clock cap per sub-problem, in seconds: it only guards.  The
        deterministic budget ``effort`` decides the search, so the same input
        and seed give the same plan on any machine *as long as this cap does
        not bind*.  When it does (a search that needs longer, or a slow or busy
        machine), the search stops early: ``plan.status["time_capped"]`` marks
        the sub-problem, a :class:`~gridpart.errors.TimeLimitWarning` names
        it, and that plan depends on machine speed; raise ``time_limit`` (or
        lower ``effort``) to get the reproducible one.
    effort : float, optional
        CP-SAT deterministic seconds per sub-problem (recorded in
        ``plan.status["effort"]``).  ``strategy="exact"``: the exact model's
        budget; default ``0.4 × time_limit``
        (:data:`gridpart.solvers.lns.EXACT_TIME_SHARE`), which uses most of
        ``time_limit`` on an ordinary 2-core machine when no proof comes
        sooner (one deterministic second took about 2 wall seconds there).
        ``"auto"`` and ``"lns"``: a cap on the sum of the budgets handed
        to CP-SAT (each LNS window 0.5-0.75 deterministic seconds, a small
        component solved whole under ``"auto"`` 2.5); default none, the
        search ends when a pass over the grids improves nothing.  Given
        to a callable strategy only when set (it must then accept
        ``effort=``).
    seed : int
    objective : {"compact", "cut"}
        What ``strategy="exact"`` proves: ``"compact"`` the households' moment
        of inertia; ``"cut"`` the cut cost by road class that ``lns``
        minimises, with exact contiguity and the band hard
        (:func:`gridpart.solvers.exact_cut.solve_exact_cut`).  The status
        table's ``method`` names the objective.  Other strategies ignore it.
    n_jobs : int
        Processes for independent sub-problems (-1: all cores); results are
        identical to a serial run (unless the wall-clock cap binds).
    progress : bool
        Log progress at INFO level.
    compactness : float
        Weight of compactness in the objective (:data:`gridpart.model.problem.COMPACTNESS_WEIGHT`
        by default): every atom pays ``compactness × its area × its distance
        to its grid's centre atom ÷ the mean grid area``, in the same unit as
        the cut costs (metres of road), so empty land joins the nearest grid
        and grids stay round; 0 leaves shapes to the cut costs alone.  The
        band always comes first.  ``benchmarks/bench_tradeoff.py`` plots
        what it costs in balance and boundary on roads.
    arterial_cells : bool
        Keep grids between arterials (default ``False``): land enclosed by
        arterials (a *cell*) whose households make whole grids within ±10 %
        of the target is solved on its own, other cells merge with a
        neighbour, and a grid that still spans an arterial says why in
        ``flags``.  Only for the ``auto``, ``lns`` and ``seed`` strategies, and
        only where arterials close cells (one cell holding two-thirds of a
        component's households leaves it whole).  Off by default: on synthetic
        cities of 100k and 1M households it cost 12 and 9 points of the share
        within ±10 % and made 1M 1.8× slower (``benchmarks/README.md``).
    on_atoms : callable, optional
        Called once as ``on_atoms(atoms, edges, households)`` when the atom
        graph is built, before any solver runs (atoms and households in the
        working CRS, households with ``atom_id``); it must not change them.
        :func:`gridpart.repartition` uses it to map an old plan onto the atoms.
    coords : {None, "wgs84", "gcj02", "bd09"} or dict, optional
        Web-map coordinates: ``"gcj02"`` (Amap, Tencent) or ``"bd09"`` (Baidu)
        converts every layer given (lon/lat, or Web Mercator) to WGS-84 before
        any geometry work (:mod:`gridpart.inputs.coords`); a dict names the system per
        layer, e.g. ``{"households": "gcj02"}``.  Results are in WGS-84
        coordinates under the households' CRS label.

    Returns
    -------
    GridPlan
        Grids carry a ``code`` (:mod:`gridpart.rules.codes`), a ``kind``
        (:mod:`gridpart.rules.kinds`) and four-limit text ``limits`` / ``limits_en``
        (:mod:`gridpart.rules.four_limits`); ``plan.register()`` tabulates them.

    Raises
    ------
    InputError
        Listing every problem with the inputs and parameters at once; also
        when (almost) every household lies outside the blocks (the message
        names a GCJ-02/BD-09 offset when undoing one would fix it).
    SolverError
        A strategy returned something other than one label per atom for a
        sub-problem, or grids in pieces (:func:`register_strategy`).

    Warns
    -----
    RepairWarning
        For each repair made to the input (rows without geometry in roads,
        parcels or barriers, zero-length roads, invalid polygons, sliver
        overlaps between communities, numbers stored as text); each is
        recorded with its row ids in ``plan.params["repairs"]``.
    TimeLimitWarning
        Once, when the wall-clock ``time_limit`` stopped the search in some
        sub-problems (named in the message, ``time_capped`` in ``plan.status``).
    BandWarning
        Once, when ``strategy="exact"`` softened the band in some sub-problems
        (neither its models nor the windowed search found a plan with every
        grid in the band; ``plan.status["proof"]`` names a softened band).
        Their grids out of the band are not marked ``forced``: no proof says
        the band is impossible for them.
    GridCountWarning
        When an ``n_grids`` count cannot be met (the message gives the fewest
        or most grids possible).

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, time_limit=10)
    >>> bool(plan.households["grid_id"].notna().all())
    True

    ``plan.status`` says per sub-problem what was solved and what was proven:
    ``status``, ``model_bound`` and ``model_gap`` are for the model solved;
    ``proof`` lists the restrictions of that model (``"problem"`` when it has
    none), and ``bound`` / ``gap`` are filled only then.

    >>> plan.status[["status", "proof", "effort"]].columns.tolist()
    ['status', 'proof', 'effort']
    """
    t_start = time.perf_counter()
    if not isinstance(arterial_cells, (bool, np.bool_)):
        raise InputError(f"arterial_cells: must be True or False, got {arterial_cells!r}. "
                         "Fix: arterial_cells=True keeps grids between arterials where the households allow it")
    inputs = read_inputs(roads, households, communities=communities, parcels=parcels, barriers=barriers,
                         study_area=study_area, target=target, tolerance=tolerance, roads_are=roads_are,
                         units=units, compounds=compounds, n_grids=n_grids, strategy=strategy,
                         time_limit=time_limit, effort=effort, seed=seed, n_jobs=n_jobs,
                         compactness=compactness, objective=objective, coords=coords)
    problems, roads_are, n_grids = inputs.problems, inputs.roads_are, inputs.n_grids
    work = to_working_crs(inputs)
    band = Band.from_target(inputs.target)
    area = study_area_geometry(work, roads_are=roads_are, problems=problems)
    blocks = build_blocks(work, area, roads_are=roads_are)
    t_blocks = time.perf_counter()
    atoms = build_atoms(work.layers["households"], blocks, band=band, roads_are=roads_are, problems=problems)
    if on_atoms is not None:
        on_atoms(atoms.atoms, atoms.edges, atoms.households)
    settings = SolveSettings(lookup_strategy(strategy, objective=objective), seed=int(seed),
                             time_limit=float(time_limit), effort=effort, n_jobs=int(n_jobs), progress=progress,
                             arterial_cells=bool(arterial_cells))
    subproblems = pose_subproblems(atoms, work.layers["parcels"], band=band, units=units, compounds=compounds,
                                   n_grids=n_grids, compactness=float(compactness), solve_one=settings.solve_one)
    t_graph = time.perf_counter()
    if progress:
        log.info("%d atoms, %d edges, %d sub-problems", len(subproblems.atoms), len(atoms.edges),
                 len(subproblems.subs))
    solution = solve_all(subproblems.solved, settings, whole=subproblems.fixed_k)
    outcome = atom_results(subproblems, solution)
    t_solve = time.perf_counter()
    plan = assemble(inputs, work, atoms, subproblems, outcome, band=band, time_limit=settings.time_limit)
    timings = {"blocks_s": t_blocks - t_start, "graph_s": t_graph - t_blocks, "solve_s": t_solve - t_graph,
               "total_s": time.perf_counter() - t_start}
    plan.record = run_record(plan.record, inputs=inputs, work=work, blocks=blocks, band=band, settings=settings,
                             objective=objective, units=units, compounds=compounds,
                             compactness=float(compactness), timings=timings)
    return plan


#: Strategies whose sub-problems are solved arterial cell by arterial cell
#: (:func:`_solve_by_cells`); the exact models and peers see whole components.
ARTERIAL_CELL_STRATEGIES = ("auto", "lns", "seed")
#: Times a cluster whose atoms could not be cut into in-band grids merges again.
CELL_RETRIES = 2
#: A component whose largest cluster of cells holds at least this share of its
#: households is solved whole: its arterials end or leave gaps instead of
#: closing cells (as in the Beijing and Helsinki OSM extracts), so cutting off
#: the few closed cells at its edge gains little and a cluster that then misses
#: the band would send the whole component to be solved again.
OPEN_NETWORK_SHARE = 2 / 3
#: A cluster merges again when its plan leaves a grid outside the band; one of
#: at most this many grids also when a grid is outside the fit band (±10 %).
#: 0 by default: on synthetic-50k, 6 raised the share within ±10 % from 91 % to
#: 95 % but more than doubled the solve (the merged clusters are solved again).
CELL_RETRY_GRIDS = 0
#: How ``SubResult.proof`` and ``method`` name a component solved cell by cell.
ARTERIAL_CELLS = "arterial cells solved apart"


def _fixed_k(subs: list[SubProblem], n_grids) -> list[bool]:
    """Sub-problems whose grid count is given (``n_grids``) or dedicated: solved whole."""
    dedicated = is_dedicated(subs)
    out = []
    for s, ded in zip(subs, dedicated):
        given = n_grids is not None and (not isinstance(n_grids, dict) or s.community_id in n_grids)
        out.append(bool(given or ded))
    return out


def _fit_band(sub: SubProblem) -> Band:
    """The band a cluster of arterial cells must be able to fill with whole grids:
    the inner band (within ±10 % of the target, :meth:`SubProblem.inner_band`), the
    bar most grids are held to, so that keeping grids between arterials costs
    no grid its place near the target."""
    lo, hi = sub.inner_band()
    return Band(lo=float(lo), hi=float(hi), centre=sub.band.centre)


def _fits(piece: SubProblem, labels: np.ndarray) -> bool:
    """Every grid of a cluster's plan inside the band and, in a cluster of at most
    :data:`CELL_RETRY_GRIDS` grids, within the fit band (:func:`_fit_band`); a grid
    holding an atom above the band always fits."""
    if not labels_in_band(piece, labels):
        return False
    return piece.k > CELL_RETRY_GRIDS or labels_in_band(dataclasses.replace(piece, band=_fit_band(piece)), labels)


def _cell_piece(sub: SubProblem, atoms: np.ndarray) -> SubProblem:
    """The sub-problem on one cluster of arterial cells, with its own grid count."""
    w = sub.weight[atoms]
    forced = np.zeros(sub.n, bool)
    forced[sub.forced] = True
    f = forced[atoms]
    k = grid_count(float(w.sum()), sub.band, (int(f.sum()), float(w[f].sum())))
    return sub.restrict(atoms, min(k, len(atoms)))


def _combine_cells(sub: SubProblem, parts: list[tuple[np.ndarray, SubResult]]) -> SubResult:
    """One result for a component from the results of its clusters of cells."""
    labels = np.empty(sub.n, dtype=np.int64)
    offset = 0
    for atoms, res in parts:
        labels[atoms] = np.asarray(res.labels, dtype=np.int64) + offset
        offset += int(np.max(res.labels)) + 1 if len(atoms) else 0
    results = [r for _, r in parts]
    proofs = [p for p in dict.fromkeys(r.proof for r in results) if p and p != PROOF_PROBLEM]
    methods = list(dict.fromkeys(r.method for r in results))
    effort = np.nansum([r.effort for r in results]) if any(np.isfinite(r.effort) for r in results) else float("nan")
    return SubResult(
        labels=labels, status=Status.FEASIBLE,
        method=f"{ARTERIAL_CELLS} ({len(parts)}): " + "; ".join(methods),
        objective=labels_objective(sub, labels), bound=float("nan"),
        wall_s=float(sum(r.wall_s for r in results)), windows=int(sum(r.windows for r in results)),
        improved=int(sum(r.improved for r in results)), time_capped=any(r.time_capped for r in results),
        proof="; ".join([f"{ARTERIAL_CELLS} (grids kept between arterials)"] + proofs), effort=float(effort))


def _solve_by_cells(solved: list[SubProblem], solve, *, enabled: list[bool]):
    """Solve each component arterial cell by arterial cell (issue 18).

    A grid should not straddle an arterial.  The land between arterials (an
    arterial cell, :func:`gridpart.model.problem.arterial_cells`) keeps its grids
    inside it when its households admit whole in-band grids; the cells that
    do not merge with a neighbour across the arterial they share most of
    (:func:`gridpart.model.problem.cell_clusters`).  Each cluster is solved on its
    own, with its own grid count.  A cluster whose atoms the solver could not
    cut into in-band grids (an indivisible mix of blocks) merges again with a
    neighbour and is solved anew, up to :data:`CELL_RETRIES` times; the band
    comes before the arterials.

    ``solve`` solves a list of sub-problems.  Returns the results (one per
    component, as ``solve`` gives them) and, per component, ``(cells,
    clusters, why)`` or ``None`` when it was solved whole.
    """
    state: list = [_cell_state(s) if enabled[i] else None for i, s in enumerate(solved)]
    done: dict[tuple[int, bytes], SubResult] = {}
    for attempt in range(CELL_RETRIES + 1):
        _solve_clusters(solved, state, done, solve)
        if attempt == CELL_RETRIES or not _merge_unfit(solved, state, done):
            break
    return _cell_results(solved, state, done, solve)


def _cell_state(s: SubProblem):
    """``(cells, clusters, why)`` for a component to solve cell by cell, else ``None``."""
    if s.cell_edge is None or s.k <= 1 or s.n <= 1:
        return None
    cells = problem_cells(s)
    if cells.max() == 0:
        return None
    clusters, why = cell_clusters(s, cells, fit=_fit_band(s))
    held = np.bincount(clusters, weights=s.weight.astype(float))
    if clusters.max() > 0 and held.max() >= OPEN_NETWORK_SHARE * max(held.sum(), 1.0):
        # the arterials close few cells here: one cluster holds nearly everything; solved whole
        open_why = (f"the arterials here close few cells (one holds {held.max() / max(held.sum(), 1.0):.0%} "
                    "of the households), so the area is solved whole")
        why = {c: why.get(c, open_why) for c in range(int(cells.max()) + 1)}
        clusters = np.zeros_like(clusters)
    return cells, clusters, why


def _cell_key(i: int, atoms) -> tuple[int, bytes]:
    return i, np.asarray(atoms, dtype=np.int64).tobytes()


def _cluster_piece(sub: SubProblem, atoms: np.ndarray) -> SubProblem:
    return sub if len(atoms) == sub.n else _cell_piece(sub, atoms)


def _solve_clusters(solved: list[SubProblem], state: list, done: dict, solve) -> None:
    """The clusters not solved yet, solved (into ``done``)."""
    todo = []
    for i, st in enumerate(state):
        if st is None:
            continue
        clusters = st[1]
        for c in range(int(clusters.max()) + 1):
            atoms = np.flatnonzero(clusters == c)
            if _cell_key(i, atoms) not in done:
                todo.append((i, atoms))
    pieces = [_cluster_piece(solved[i], atoms) for i, atoms in todo]
    for (i, atoms), res in zip(todo, solve(pieces) if pieces else []):
        done[_cell_key(i, atoms)] = res


def _merge_unfit(solved: list[SubProblem], state: list, done: dict) -> bool:
    """Clusters whose plan does not fit merged with a neighbour (``state`` updated);
    whether any cluster changed."""
    again = False
    for i, st in enumerate(state):
        if st is None:
            continue
        new = _merged(solved[i], st, done, i)
        if new is not None:
            state[i] = new
            again = True
    return again


def _merged(sub: SubProblem, st: tuple, done: dict, i: int):
    """The component's ``(cells, clusters, why)`` with its unfit clusters merged anew; ``None`` when unchanged."""
    cells, clusters, why = st
    unfit = []
    for c in range(int(clusters.max()) + 1):
        atoms = np.flatnonzero(clusters == c)
        piece = _cluster_piece(sub, atoms)
        if clusters.max() > 0 and not _fits(piece, done[_cell_key(i, atoms)].labels):
            unfit.append(c)
    if not unfit:
        return None
    new, new_why = cell_clusters(sub, clusters, unfit=tuple(unfit), fit=_fit_band(sub))
    if np.array_equal(new, clusters):
        return None
    merged = dict(why)
    for c, r in new_why.items():  # reasons of the clusters merged anew go to their cells
        for cell in np.unique(cells[clusters == c]):
            merged.setdefault(int(cell), r)
    return cells, new, merged


def _cell_results(solved: list[SubProblem], state: list, done: dict, solve):
    """One result per component (the whole ones solved now), and its cells or ``None``."""
    whole = [i for i, st in enumerate(state) if st is None]
    results: list[SubResult | None] = [None] * len(solved)
    for i, res in zip(whole, solve([solved[i] for i in whole]) if whole else []):
        results[i] = res
    cells_of: list = [None] * len(solved)
    for i, st in enumerate(state):
        if st is None:
            continue
        cells, clusters, why = st
        parts = [(atoms, done[_cell_key(i, atoms)])
                 for atoms in (np.flatnonzero(clusters == c) for c in range(int(clusters.max()) + 1))]
        results[i] = parts[0][1] if len(parts) == 1 else _combine_cells(solved[i], parts)
        cells_of[i] = (cells, clusters, why)
    return results, cells_of


def _arterial_reasons(subs: list[SubProblem], contracted: list, cells_of: list, n_atoms: int):
    """Per atom id: its arterial cell (a number unique over the plan, -1 where not
    known) and why its cluster of cells was merged across arterials ("" when not)."""
    cell = np.full(n_atoms, -1, dtype=np.int64)
    why = np.full(n_atoms, "", dtype=object)
    offset = 0
    for sub, (_, index), info in zip(subs, contracted, cells_of):
        if info is None:
            continue
        cells, clusters, reasons = info
        idx = np.arange(sub.n) if index is None else index
        cell[sub.atoms] = offset + cells[idx]
        offset += int(cells.max()) + 1
        text = np.array([reasons.get(int(c), "") for c in range(int(cells.max()) + 1)], dtype=object)
        why[sub.atoms] = text[cells[idx]]
    return cell, why


def _join_reasons(texts) -> str:
    """The distinct reasons, the first two in full."""
    out = list(dict.fromkeys(texts))
    return "; ".join(out[:2]) + (f"; and {len(out) - 2} more cells" if len(out) > 2 else "")


def _crossing_flags(plan: GridPlan, cell: np.ndarray, why: np.ndarray) -> pd.Series:
    """``arterial crossed: <why>`` for each grid whose atoms lie in more than one
    arterial cell (aligned with ``plan.grids``); "" for the others."""
    blocks = plan.blocks
    gid = pd.to_numeric(blocks["grid_id"], errors="coerce").to_numpy()
    aid = blocks["atom_id"].to_numpy(dtype=np.int64)
    ok = np.isfinite(gid) & (cell[aid] >= 0)
    df = pd.DataFrame({"grid_id": gid[ok].astype(np.int64), "cell": cell[aid[ok]], "why": why[aid[ok]]})
    if df.empty:
        return pd.Series("", index=plan.grids.index, name="flags", dtype=object)
    n_cells = df.groupby("grid_id")["cell"].nunique()
    reasons = df[df["why"] != ""].groupby("grid_id")["why"].agg(_join_reasons)
    text = {g: "arterial crossed: " + reasons.get(g, "cells merged across an arterial")
            for g in n_cells.index[n_cells > 1]}
    return pd.Series([text.get(g, "") for g in plan.grids["grid_id"]], index=plan.grids.index, name="flags",
                     dtype=object)


def _unmix(results: list[SubResult], subs: list[SubProblem], atoms: pd.DataFrame, glue: np.ndarray) -> list[SubResult]:
    """Compound atoms moved out of grids another class dominates where the band
    allows it (:func:`gridpart.model.parcels.unmix_compounds`)."""
    if "parcel_kind" not in atoms:
        return results
    kind = atoms["parcel_kind"].fillna("street").to_numpy(dtype=object)
    parcel = atoms["parcel_id"].fillna(-1).to_numpy(dtype=np.int64)
    out = []
    for sub, res in zip(subs, results):
        if (kind[sub.atoms] == "compound").any() and (kind[sub.atoms] != "compound").any() and len(res.labels):
            labels = unmix_compounds(sub, res.labels, kind[sub.atoms], parcel[sub.atoms],
                                     keep_whole=glue[sub.atoms] >= 0)
            if not np.array_equal(labels, res.labels):
                # the moves leave the solver's model: its bound and proof no longer apply
                res = dataclasses.replace(res, labels=labels, method=res.method + "; compounds unmixed",
                                          status=Status.FEASIBLE, objective=labels_objective(sub, labels),
                                          bound=float("nan"),
                                          proof="none: compounds moved after the solve" + (
                                              f"; {SOFT_BAND}" if SOFT_BAND in res.proof else ""))
        out.append(res)
    return out


def _compound_glue(atoms: pd.DataFrame, edges: pd.DataFrame, groups: np.ndarray, band: Band) -> np.ndarray:
    """A group id per atom for compounds that fit in one grid (-1 elsewhere).

    Compounds not kept apart (DESIGN §4) whose households do not exceed the
    band stay whole: each connected part of such a compound (within its
    community) is solved as one atom.
    """
    n = len(atoms)
    glue = np.full(n, -1, dtype=np.int64)
    if "parcel_kind" not in atoms:
        return glue
    cand = (atoms["parcel_kind"].to_numpy() == "compound") & (groups < 0)
    if not cand.any():
        return glue
    by_parcel = atoms.groupby([atoms["community_id"].astype(str), atoms["parcel_id"]], sort=True, dropna=False)
    cand &= by_parcel["households"].transform("sum").to_numpy() <= np.floor(band.hi + 1e-9)
    if not cand.any():
        return glue
    # connected parts of each compound: edges inside one compound only
    code = by_parcel.ngroup().to_numpy()
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    inside = cand[a] & cand[b] & (code[a] == code[b])
    graph = sp.coo_matrix((np.ones(int(inside.sum())), (a[inside], b[inside])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    glue[cand] = comp[cand]
    return glue


def _edge_matched(geoms: np.ndarray) -> np.ndarray:
    """The atoms as an edge-matched coverage: shared edges carry the same vertices.

    Cells cut from a block put vertices on their neighbours' edges that those
    neighbours do not have; a union of such atoms can keep a zero-width slit
    that turns into a self-intersection once reprojected.  GEOS's coverage
    cleaner (shapely >= 2.2) nodes them together, snapping within 1 cm.
    """
    clean = getattr(shapely, "coverage_clean", None)
    if clean is None or len(geoms) == 0:
        return geoms
    out = clean(geoms, snapping_distance=0.01)
    lost = shapely.is_empty(out) | ~np.isin(shapely.get_type_id(out), (3, 6))
    out[lost] = geoms[lost]
    return out


def _reading_order(grids: gpd.GeoDataFrame, band_m: float) -> np.ndarray:
    """Grid order: by community, rows north to south, west to east within a row (the
    order of the grid codes, :func:`gridpart.rules.codes.reading_order`)."""
    return reading_order(grids.geometry.values, row_height_m=band_m, groups=grids["community_id"].astype(str))


def _assemble(*, atoms, edges, subs: list[SubProblem], results: list[SubResult], hh, hh_in, reasons,
              segments, user_crs, work_crs, band: Band, parcels, parcels_work=None,
              communities=None) -> GridPlan:
    label, forced_atoms, rows = _labels(len(atoms), subs, results)
    atoms = atoms.assign(_label=label)
    g = _dissolved(atoms)
    _mark_forced(g, label, forced_atoms, subs, band)
    g, relabel = _numbered(g, hh)
    atoms["grid_id"] = relabel.reindex(label).to_numpy()
    atoms = atoms.drop(columns=["_label", "x", "y"])
    g, community_codes = _name_grids(g, atoms, subs, segments, parcels_work, communities, band)
    # the review's flags are added by partition once the plan exists; the 四至 check's comes first
    g["flags"] = np.where(g["limits_loose"].to_numpy(dtype=bool),
                          "limits_loose: " + g["limits_loose_reason"].astype(str), "") if "limits_loose" in g else ""
    grids = g[["grid_id", "code", "community_id", "kind", "households", "persons", "n_atoms", "area_m2",
               "forced", "forced_reason", "flags", "limits", *NAMING_COLUMNS[3:], "geometry"]]
    grids = gpd.GeoDataFrame(grids, geometry="geometry", crs=work_crs).to_crs(user_crs)
    out_hh, unplaced = _households_out(hh, hh_in, atoms, reasons)
    status = pd.DataFrame(rows)
    forced_by_comp = g.groupby("_comp")["forced"].sum()
    status["forced_out"] = forced_by_comp.reindex(range(len(subs)), fill_value=0).astype(int).to_numpy()
    return GridPlan(
        grids=grids,
        blocks=atoms.to_crs(user_crs),
        households=out_hh,
        unplaced=unplaced,
        status=status,
        edges=edges,
        roads=segments[segments["kind"].isin(["road", "street", "lane", "barrier"])].to_crs(user_crs),
        record=RunRecord(parcels=None if parcels is None else len(parcels), community_codes=community_codes),
    )


def _labels(n_atoms: int, subs: list[SubProblem], results: list[SubResult]):
    """Per atom its grid label over the plan (-1 where none) and whether it is forced;
    a status row per sub-problem."""
    label = np.full(n_atoms, -1, dtype=np.int64)
    rows, offset = [], 0
    forced_atoms = np.zeros(n_atoms, bool)
    for sub, res in zip(subs, results):
        label[sub.atoms] = res.labels + offset
        forced_atoms[sub.atoms[sub.forced]] = True
        k = int(res.labels.max()) + 1
        # the bound is the problem's only when the model solved restricts nothing
        proven = res.proof == PROOF_PROBLEM
        rows.append({
            "community_id": sub.community_id, "component": sub.component, "status": res.status,
            "proof": res.proof or "not stated by the strategy", "method": res.method,
            "objective": res.objective, "bound": res.bound if proven else float("nan"),
            "gap": res.gap if proven else float("nan"), "model_bound": res.bound, "model_gap": res.gap,
            "effort": float(res.effort), "wall_s": res.wall_s, "n_atoms": sub.n, "n_grids": k,
            "households": sub.total, "windows": res.windows, "time_capped": bool(res.time_capped),
            "notes": "; ".join(sub.notes),
        })
        offset += k
    return label, forced_atoms, rows


def _dissolved(atoms: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The atoms dissolved by ``_label``: one row per grid, its geometry valid and polygonal."""
    g = atoms.dissolve(by="_label", aggfunc={"community_id": "first", "households": "sum", "persons": "sum",
                                              "atom_id": "count", "area_m2": "sum"})
    g = g.rename(columns={"atom_id": "n_atoms"})
    # unions of cells cut from one block can carry slits and touching parts: make them valid
    # and polygonal (areas are kept; nothing is snapped)
    geom = shapely.make_valid(g.geometry.values)
    bad = ~np.isin(shapely.get_type_id(geom), (3, 6))
    if bad.any():
        parts, owner = shapely.get_parts(geom[bad], return_index=True)
        poly = np.isin(shapely.get_type_id(parts), (3, 6))
        fixed = np.array([shapely.union_all(parts[poly & (owner == i)]) for i in range(int(bad.sum()))], dtype=object)
        geom[bad] = fixed
    return g.set_geometry(geom)


def _mark_forced(g: gpd.GeoDataFrame, label: np.ndarray, forced_atoms: np.ndarray, subs: list[SubProblem],
                 band: Band) -> None:
    """``forced``, ``forced_reason`` and ``_comp`` (the grid's sub-problem) on the grids, in place."""
    # per grid (label): whether it holds a forced atom, and its sub-problem (all its atoms share one)
    comp_of = np.full(len(label), -1)
    for i, sub in enumerate(subs):
        comp_of[sub.atoms] = i
    placed = label >= 0
    n_labels = int(label.max()) + 1 if placed.any() else 0
    forced_of_label = np.bincount(label[placed], weights=forced_atoms[placed], minlength=n_labels) > 0
    comp_of_label = np.full(n_labels, -1, dtype=np.int64)
    comp_of_label[label[placed]] = comp_of[placed]
    grid_labels = g.index.to_numpy(dtype=np.int64)
    g["forced"] = forced_of_label[grid_labels]
    g["forced_reason"] = np.where(g["forced"], ForcedReason.INDIVISIBLE.value, "")
    # a whole component below the band
    comp_total = np.array([s.total for s in subs])
    g["_comp"] = comp_of_label[grid_labels]
    small = comp_total[g["_comp"].to_numpy()] < band.lo
    g.loc[small, "forced"] = True
    g.loc[small, "forced_reason"] = ForcedReason.SMALL_COMPONENT.value


def _numbered(g: gpd.GeoDataFrame, hh) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The grids numbered 1.. in reading order, sorted by ``grid_id``; the grid id of each label."""
    height = math.sqrt(max(g["area_m2"].median(), 1.0))
    order = _reading_order(g, height)
    new_id = np.empty(len(g), dtype=np.int64)
    new_id[order] = np.arange(1, len(g) + 1)
    relabel = pd.Series(new_id, index=g.index)
    g.insert(0, "grid_id", relabel.to_numpy())
    g = g.sort_values("grid_id").reset_index(drop=True)
    if not np.isfinite(g["persons"]).any() or hh["persons"].isna().all():
        g["persons"] = np.nan
    return g, relabel


def _households_out(hh, hh_in, atoms, reasons):
    """The user's households with ``block_id``, ``atom_id`` and ``grid_id``; the unplaced ones with a reason."""
    atom_grid = pd.Series(atoms["grid_id"].to_numpy(), index=atoms["atom_id"].to_numpy())
    out_hh = hh_in.copy()
    out_hh["block_id"] = hh["block_id"].to_numpy()
    out_hh["atom_id"] = hh["atom_id"].to_numpy()
    out_hh["grid_id"] = pd.array(atom_grid.reindex(hh["atom_id"].fillna(-1).astype(np.int64)).to_numpy(),
                                 dtype="Int64")
    out_hh.loc[hh["atom_id"].isna().to_numpy(), "grid_id"] = pd.NA
    unplaced = out_hh[out_hh["grid_id"].isna()].copy()
    unplaced["reason"] = reasons.reindex(unplaced.index).replace("", UnplacedReason.NOT_ATTACHED.value)
    return out_hh, unplaced


def _warn_time_capped(status: pd.DataFrame, capped_checks: list[str], time_limit: float) -> None:
    """One :class:`~gridpart.errors.TimeLimitWarning` naming the sub-problems the wall clock stopped."""
    capped = status.loc[status["time_capped"].astype(bool), ["community_id", "component"]]
    names = [f"{c}/{k}" for c, k in zip(capped["community_id"], capped["component"])] + capped_checks
    if not names:
        return
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    warnings.warn(
        f"time_limit={time_limit:g} s (wall clock) stopped the search before its deterministic budget in "
        f"{len(names)} sub-problem(s) (community/component: {shown}): the plan is valid but depends on this "
        "machine's speed and load, so another run may differ.  Raise time_limit (e.g. "
        f"time_limit={max(2 * time_limit, 60):g}) for a plan that is the same on every run; "
        "plan.status['time_capped'] marks them.",
        TimeLimitWarning, stacklevel=4)


def _warn_softened(status: pd.DataFrame) -> None:
    """One :class:`~gridpart.errors.BandWarning` naming the sub-problems whose band was softened."""
    soft = status.loc[status["proof"].str.contains(SOFT_BAND, regex=False), ["community_id", "component"]]
    if soft.empty:
        return
    names = [f"{c}/{k}" for c, k in zip(soft["community_id"], soft["component"])]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    warnings.warn(
        f"the band was softened in {len(names)} sub-problem(s) (community/component: {shown}): neither the "
        "exact model (centres widened up to every pair) nor the windowed search found a plan with every grid "
        "in the band, so grids outside it are paid for instead.  This is not a proof that no such plan "
        "exists: those grids are not marked forced.  plan.status['proof'] names the softened band; a wider "
        "band, another n_grids, or a larger effort may find an in-band plan.",
        BandWarning, stacklevel=4)


def _parcel_policy(atoms, edges, parcels, band: Band, units: str, compounds: str, n_grids, solve_one):
    """Atoms with their parcel (``parcel_id``, ``parcel_kind``, ``parcel_name``), the
    edges the solver sees (kept-apart units and compounds cut off) and the group
    of every atom (:mod:`gridpart.model.parcels`).  With ``compounds="share"`` a
    compound is kept apart only when, solved alone, all its grids are in the
    band; with ``"own"`` whenever it can fill a grid.  Last, the compound checks
    the wall clock stopped (``"community/component (compound check)"``)."""
    atoms = atoms.join(atom_parcels(atoms, parcels))
    groups = separation_groups(atoms, band, units=units, compounds=compounds, edges=edges)
    kinds = atoms["parcel_kind"].to_numpy()
    capped: list[str] = []
    if compounds == "share" and (groups[kinds == "compound"] >= 0).any():
        trial = build_subproblems(atoms, solver_edges(edges, groups, atoms["atom_id"].to_numpy()), band,
                                  n_grids=n_grids, warn=False)
        for i in compound_subproblems(trial, groups, kinds):
            res = solve_one(trial[i])
            if res.time_capped:
                capped.append(f"{trial[i].community_id}/{trial[i].component} (compound check)")
            if not labels_in_band(trial[i], res.labels):
                groups[trial[i].atoms] = -1
    return atoms, solver_edges(edges, groups, atoms["atom_id"].to_numpy()), groups, capped


def _name_grids(g, atoms, subs, segments, parcels, communities, band: Band):
    """Dedicated unit grids marked forced; kind, code, four limits and places added
    (:mod:`gridpart.rules.naming`); community codes for the plan's params."""
    dedicated = is_dedicated(subs)
    if dedicated.any():
        hh = g["households"].to_numpy()
        out = (hh < np.ceil(band.lo - 1e-9)) | (hh > np.floor(band.hi + 1e-9))
        comp = g["_comp"].to_numpy()
        mark = dedicated[comp] & (out | g["forced"].to_numpy(dtype=bool))
        indivisible = g["forced_reason"].to_numpy() == ForcedReason.INDIVISIBLE
        reason = np.array([COMPOUND_REASON if has_note(s.notes, NoteKind.DEDICATED_COMPOUND) else DEDICATED_REASON
                           for s in subs], dtype=object)
        g.loc[mark, "forced"] = True
        g.loc[mark & ~indivisible, "forced_reason"] = reason[comp][mark & ~indivisible]
    cols, codes = name_grids(g, atoms, segments, parcels=parcels, communities=communities)
    g = g.join(cols)
    community_codes = {str(k): {"code": r["code"], "code_source": r["code_source"],
                                "name": None if pd.isna(r["name"]) else str(r["name"])}
                       for k, r in codes.iterrows()}
    return g, community_codes
