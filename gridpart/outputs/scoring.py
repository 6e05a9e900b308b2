"""One scorecard for every plan: balance, contiguity, shape and boundaries.

Shares "within the band" are reported raw and over the grids not forced out
of the band (DESIGN §3).  Boundary figures come from the atom graph: an edge
between atoms of different grids is grid boundary, along its road class;
an arterial edge inside a grid is an arterial the grid straddles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import Problems
from gridpart.geometry.graph import labels_contiguous
from gridpart.inputs.schema import read_layer
from gridpart.plan import GridPlan

#: Walking pace of the station measure, km/h (75 m a minute, 2,250 m in 30 minutes): a little
#: below the 5 km/h often assumed for adults, to allow for older residents and crossings.
WALK_SPEED_KMH = 4.5

__all__ = ["Scorecard", "score", "compare", "changed_households", "station_walk", "walking_extent",
           "WALK_SPEED_KMH"]


@dataclass(frozen=True)
class Scorecard:
    """Figures for one plan.

    Attributes
    ----------
    per_grid : DataFrame
        Indexed by ``grid_id``: ``households``, ``persons``, ``deviation``
        (relative to the target), ``in_band``, ``forced``, ``contiguous``,
        ``polsby_popper``, ``boundary_m``, ``road_boundary_m``,
        ``non_road_boundary_m``, ``arterial_inside_m``, ``households_changed``
        (this grid's households that changed grid against the reference;
        NaN without one; households now unplaced belong to no grid, so the
        column need not add up to the summary's), ``share_within_walk``
        (of this grid's households; NaN without stations).
    summary : Series
        ``grids``, ``forced_out``, ``share_in_band`` (grids not forced out),
        ``share_in_band_raw``, ``share_within_10pct``, ``share_within_20pct``
        (not forced out), their ``_raw`` versions, ``mean_abs_dev``,
        ``max_abs_dev``, ``cv``, ``persons_cv``, ``contiguous_share``,
        ``polsby_popper_mean``, ``road_share`` (share of internal grid boundary
        length on roads, streets, lanes or barriers), ``non_road_cut_m``,
        ``cut_road_m``, ``cut_street_m``, ``cut_lane_m``, ``cut_barrier_m``
        (grid boundary length by road class),
        ``grids_crossing_arterials``, ``arterial_inside_m``, ``unplaced_households``;
        against a reference plan (NaN without one): ``households_changed``
        (households whose grid changed, :func:`changed_households`) and
        ``share_changed`` (of the households placed in either plan); with
        stations (NaN without): ``share_within_walk``, the share of placed
        households within the walk of their grid's station (a grid without
        a station counts as beyond).
    """

    per_grid: pd.DataFrame
    summary: pd.Series

    def _repr_html_(self) -> str:
        # pandas-stubs lack DataFrame._repr_html_ (mypy takes it for a column)
        return self.summary.to_frame("value")._repr_html_()  # type: ignore[operator]


def score(plan, *, target: float | None = None, reference=None, stations=None,
          walk_speed_kmh: float = WALK_SPEED_KMH, minutes: float = 30.0) -> Scorecard:
    """Score a :class:`~gridpart.plan.GridPlan`.

    Parameters
    ----------
    plan : GridPlan
    target : float, optional
        Households per grid for the ±10 % / ±20 % shares; default: the centre
        of the plan's band.
    reference : GridPlan or DataFrame, optional
        An earlier plan of the same households (or its households table with
        a ``grid_id`` column, matched by index): ``households_changed`` and
        ``share_changed`` count the households whose grid changed, label-free
        (see :func:`changed_households`).
    stations : GeoDataFrame or path, optional
        Service station points, optionally with the ``grid_id`` each serves:
        ``share_within_walk`` is the share of households within ``minutes``
        on foot of their grid's station along the roads (see
        :func:`station_walk` for which station serves a grid and how the
        walk is measured).
    walk_speed_kmh : float
        Walking pace, default :data:`WALK_SPEED_KMH` (4.5 km/h).
    minutes : float
        Walking time, default 30: at 4.5 km/h a walk of at most 2,250 m.

    Returns
    -------
    Scorecard

    Raises
    ------
    InputError
        When the reference's households do not line up with the plan's, the
        stations are not points with a CRS, or the pace or time is not positive.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, time_limit=10)
    >>> card = gp.score(plan)
    >>> bool(0 <= card.summary["share_in_band"] <= 1)
    True
    >>> seed = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> moved = gp.score(plan, reference=seed).summary["share_changed"]
    >>> bool(0 <= moved <= 1)
    True
    >>> import geopandas as gpd, shapely
    >>> centres = shapely.point_on_surface(plan.grids.geometry.values)
    >>> stations = gpd.GeoDataFrame(geometry=centres, crs=plan.crs)  # one in each grid
    >>> bool(gp.score(plan, stations=stations, minutes=15).summary["share_within_walk"] > 0.9)
    True
    """
    problems = Problems()
    _positive(problems, "walk_speed_kmh", walk_speed_kmh, str(WALK_SPEED_KMH))
    _positive(problems, "minutes", minutes, "30")
    problems.raise_if_any()
    changes = _aligned(plan, reference) if reference is not None else None
    walk_m = walk_speed_kmh * 1000.0 / 60.0 * minutes
    walk = station_walk(plan, stations, max_m=walk_m) if stations is not None else None
    grids = plan.grids.set_index("grid_id")
    lo, hi = plan.record.band or (np.nan, np.nan)
    centre = target if target is not None else (lo + hi) / 2
    g_m = plan.grids.to_crs(plan.metric_crs)
    area = g_m.geometry.area.to_numpy()
    perim = g_m.geometry.length.to_numpy()
    pp = pd.Series(np.where(perim > 0, 4 * np.pi * area / np.maximum(perim, 1e-9) ** 2, 0.0), index=grids.index)

    atoms = plan.blocks
    grid_of_atom = pd.Series(atoms["grid_id"].to_numpy(), index=atoms["atom_id"].to_numpy())
    e = plan.edges
    ga = grid_of_atom.reindex(e["a"]).to_numpy()
    gb = grid_of_atom.reindex(e["b"]).to_numpy()
    cut = ga != gb
    cols = {c: e[c].to_numpy() if c in e else np.zeros(len(e)) for c in
            ("length_m", "road_m", "street_m", "lane_m", "barrier_m", "non_road_m")}
    on_road = cols["road_m"] + cols["street_m"] + cols["lane_m"] + cols["barrier_m"]
    both = np.r_[ga[cut], gb[cut]]
    boundary = (pd.Series(np.r_[cols["length_m"][cut]] .tolist() * 2, dtype=float).groupby(both).sum()
                if cut.any() else pd.Series(dtype=float))
    road_b = pd.Series(np.r_[on_road[cut], on_road[cut]]).groupby(both).sum() if cut.any() else pd.Series(dtype=float)
    nonroad_b = (pd.Series(np.r_[cols["non_road_m"][cut], cols["non_road_m"][cut]]).groupby(both).sum()
                 if cut.any() else pd.Series(dtype=float))
    art_in = pd.Series(cols["road_m"][~cut]).groupby(ga[~cut]).sum() if (~cut).any() else pd.Series(dtype=float)

    pos = pd.Series(np.arange(len(atoms)), index=atoms["atom_id"].to_numpy())
    lab, uniq = pd.factorize(atoms["grid_id"], sort=True)
    edges = np.column_stack([pos.reindex(e["a"]).to_numpy(), pos.reindex(e["b"]).to_numpy()]).astype(np.int64)
    contiguous = pd.Series(labels_contiguous(len(atoms), edges, lab), index=uniq)

    hh = grids["households"].astype(float)
    dev = (hh - centre) / centre
    in_band = (hh >= np.ceil(lo - 1e-9)) & (hh <= np.floor(hi + 1e-9))
    forced = grids["forced"].astype(bool) if "forced" in grids else pd.Series(False, index=grids.index)
    per = pd.DataFrame({
        "community_id": grids["community_id"],
        "households": hh,
        "persons": grids["persons"],
        "deviation": dev,
        "in_band": in_band,
        "forced": forced,
        "contiguous": contiguous.reindex(grids.index, fill_value=True),
        "polsby_popper": pp,
        "boundary_m": boundary.reindex(grids.index, fill_value=0.0),
        "road_boundary_m": road_b.reindex(grids.index, fill_value=0.0),
        "non_road_boundary_m": nonroad_b.reindex(grids.index, fill_value=0.0),
        "arterial_inside_m": art_in.reindex(grids.index, fill_value=0.0),
        "households_changed": np.nan,
        "share_within_walk": np.nan,
    })
    if changes is not None:
        moved: pd.DataFrame | pd.Series = changes[changes["new"].notna()]
        moved = (moved["households"] * moved["changed"].astype(float)).groupby(moved["new"]).sum()
        per["households_changed"] = moved.reindex(grids.index, fill_value=0.0).astype(float)
    share_within_walk = float("nan")
    if walk is not None:
        placed = plan.households["grid_id"].notna().to_numpy()
        w = plan.households["households"].to_numpy(dtype=float)[placed]
        near = (walk.to_numpy()[placed] <= walk_m + 1e-6).astype(float)  # NaN and inf: not within
        by_grid = pd.DataFrame({"w": w, "near": w * near}).groupby(plan.households["grid_id"].to_numpy()[placed]).sum()
        per["share_within_walk"] = (by_grid["near"] / by_grid["w"].where(by_grid["w"] > 0)).reindex(grids.index)
        share_within_walk = float((w * near).sum() / w.sum()) if w.sum() > 0 else float("nan")
    free = per[~per["forced"]]

    def share(mask: pd.Series, rows: pd.DataFrame) -> float:
        return float(mask.loc[rows.index].mean()) if len(rows) else float("nan")

    absdev = per["deviation"].abs()
    cut_len = float(cols["length_m"][cut].sum())
    persons = per["persons"].astype(float)
    summary = pd.Series({
        "grids": float(len(per)),
        "forced_out": float(per["forced"].sum()),
        "share_in_band": share(per["in_band"], free),
        "share_in_band_raw": share(per["in_band"], per),
        "share_within_10pct": share(absdev <= 0.1 + 1e-9, free),
        "share_within_20pct": share(absdev <= 0.2 + 1e-9, free),
        "share_within_10pct_raw": share(absdev <= 0.1 + 1e-9, per),
        "share_within_20pct_raw": share(absdev <= 0.2 + 1e-9, per),
        "mean_abs_dev": float(absdev.mean()) if len(per) else float("nan"),
        "max_abs_dev": float(absdev.max()) if len(per) else float("nan"),
        "cv": float(hh.std(ddof=0) / hh.mean()) if len(per) and hh.mean() > 0 else float("nan"),
        "persons_cv": (float(persons.std(ddof=0) / persons.mean())
                       if persons.notna().any() and persons.mean() > 0 else float("nan")),
        "contiguous_share": float(per["contiguous"].mean()) if len(per) else float("nan"),
        "polsby_popper_mean": float(per["polsby_popper"].mean()) if len(per) else float("nan"),
        "road_share": float(on_road[cut].sum() / cut_len) if cut_len > 0 else 1.0,
        "non_road_cut_m": float(cols["non_road_m"][cut].sum()),
        **{f"cut_{c}_m": float(cols[f"{c}_m"][cut].sum()) for c in ("road", "street", "lane", "barrier")},
        "grids_crossing_arterials": float((per["arterial_inside_m"] > 0).sum()),
        "arterial_inside_m": float(per["arterial_inside_m"].sum()),
        "unplaced_households": float(plan.unplaced["households"].sum()) if len(plan.unplaced) else 0.0,
        **_change_figures(changes),
        "share_within_walk": share_within_walk,
    })
    return Scorecard(per_grid=per, summary=summary)


def _change_figures(changes: pd.DataFrame | None) -> dict[str, float]:
    """``households_changed`` and ``share_changed`` (over households placed in either plan); NaN without a reference."""
    if changes is None:
        return {"households_changed": float("nan"), "share_changed": float("nan")}
    counted = changes["changed"].notna().to_numpy()
    w = changes["households"].to_numpy(dtype=float)[counted]
    moved = float(w[changes["changed"].to_numpy(dtype=bool, na_value=False)[counted]].sum())
    total = float(w.sum())
    return {"households_changed": moved, "share_changed": moved / total if total > 0 else float("nan")}


def compare(plans: dict, *, reference=None, stations=None, walk_speed_kmh: float = WALK_SPEED_KMH,
            minutes: float = 30.0) -> pd.DataFrame:
    """One table of scorecard summaries, a column per named plan.

    The keywords are :func:`score`'s, the same for every plan (e.g. the
    households each plan changes against one earlier plan).

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> a = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> b = gp.partition(s.roads, s.households, study_area=s.study_area, time_limit=10)
    >>> table = gp.compare({"seed": a, "auto": b}, reference=a)
    >>> list(table.columns)
    ['seed', 'auto']
    >>> float(table.loc["households_changed", "seed"])
    0.0
    """
    return pd.DataFrame({name: score(p, reference=reference, stations=stations, walk_speed_kmh=walk_speed_kmh,
                                     minutes=minutes).summary for name, p in plans.items()})


def _grid_table(obj, argument: str, problems: Problems) -> pd.DataFrame | None:
    """``grid_id`` and ``households`` (NaN when absent) per household row of a plan or households table."""

    table = obj.households if isinstance(obj, GridPlan) else obj
    if not isinstance(table, pd.DataFrame):
        problems.add(argument, f"must be a GridPlan or its households table, got {type(obj).__name__}",
                     fix=f"pass {argument}=plan, or a DataFrame of households with a 'grid_id' column")
        return None
    where = f"{argument}.households" if isinstance(obj, GridPlan) else argument
    if "grid_id" not in table.columns:
        problems.add(where, f"has no 'grid_id' column (columns: {list(table.columns)[:8]})",
                     fix="pass a plan's households (plan.households), or name the column of grids 'grid_id'")
        return None
    if table.index.has_duplicates:
        labels = pd.unique(table.index[table.index.duplicated(keep=False)])
        problems.add(f"{where}.index", f"{len(labels)} index labels occur more than once, so households "
                                       "cannot be matched between the plans", rows=labels,
                     fix="give each household row one index label (a plan's households keep the input's index)")
        return None
    hh = table["households"] if "households" in table.columns else pd.Series(np.nan, index=table.index)
    return pd.DataFrame({"grid_id": table["grid_id"], "households": pd.to_numeric(hh, errors="coerce")},
                        index=table.index)


def _matched_pairs(old: np.ndarray, new: np.ndarray, weight: np.ndarray, n_old: int, n_new: int) -> np.ndarray:
    """Per old grid code, the new grid code it is paired with (-1: none), by a maximum-weight matching.

    ``old`` and ``new`` are codes ``0..n_old-1`` and ``0..n_new-1`` per household row.
    The matching is solved per connected component of the overlap graph
    (grids sharing households), so the dense tables stay small.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    pair = np.full(n_old, -1, dtype=np.int64)
    keep = weight > 0
    if not keep.any():
        return pair
    table = coo_matrix((weight[keep], (old[keep], new[keep])), shape=(n_old, n_new)).tocsr()  # sums duplicates
    table.eliminate_zeros()
    rows, cols = table.nonzero()
    both = coo_matrix((np.ones(len(rows)), (rows, n_old + cols)), shape=(n_old + n_new, n_old + n_new))
    _, comp = connected_components(both, directed=False)
    comp_old, comp_new = comp[:n_old], comp[n_old:]
    order_o, order_n = np.argsort(comp_old, kind="stable"), np.argsort(comp_new, kind="stable")
    c_ids = np.unique(comp_old[rows])
    o_groups = np.split(order_o, np.searchsorted(comp_old[order_o], c_ids[1:]))
    n_start = np.searchsorted(comp_new[order_n], c_ids)
    n_end = np.searchsorted(comp_new[order_n], c_ids, side="right")
    for c, olds, lo, hi in zip(c_ids, o_groups, n_start, n_end):  # one loop per group of overlapping grids
        olds = olds[comp_old[olds] == c]
        news = order_n[lo:hi]
        if len(olds) == 1 and len(news) == 1:
            pair[olds[0]] = news[0]
            continue
        sub = table[olds][:, news].toarray()
        r, k = linear_sum_assignment(sub, maximize=True)
        good = sub[r, k] > 0
        pair[olds[r[good]]] = news[k[good]]
    return pair


def changed_households(plan, reference) -> pd.Series:
    """Per household row, whether its grid changed against a reference plan, label-free.

    Grid ids of two plans are arbitrary labels, so the grids are paired
    first: each grid of ``plan`` with at most one grid of ``reference`` and
    back, so that the pairs share as many households as possible (a
    maximum-weight matching on the table of households shared, by
    :func:`scipy.optimize.linear_sum_assignment`).  A household *keeps its
    grid* when its grid in ``plan`` is paired with its grid in
    ``reference``; otherwise it *changed*, and so does a household placed in
    one plan but unplaced in the other.  The changed households, weighted by
    ``households``, are thus the fewest households that change grid under
    any one-to-one pairing of the grids: an unchanged plan (relabelled or
    not) changes none, a grid split in two halves changes one half, two
    grids merged change the smaller.  Which household of a tie is counted
    may depend on the labels; the number changed does not.

    :func:`gridpart.repartition`'s ``share_mates_kept`` pairs grids by mutual
    largest overlap instead; that is a one-to-one pairing too, so it never
    keeps more households than this one.

    Parameters
    ----------
    plan, reference : GridPlan or DataFrame
        The plans, or their households tables with a ``grid_id`` column (NA:
        unplaced).  Household rows are matched by index, so both must hold
        the same rows (a plan's households keep the input's index); weights
        are ``plan``'s ``households`` column (else the reference's, else one
        per row).

    Returns
    -------
    Series
        Nullable boolean, indexed like ``plan``'s households, named
        ``changed``; NA for rows unplaced in both plans.

    Raises
    ------
    InputError
        When the households do not line up: rows in one plan only, index
        labels used twice, household counts that differ, or no ``grid_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> old = pd.DataFrame({"grid_id": [1, 1, 1, 2, 2], "households": [10, 10, 10, 50, 50]})
    >>> new = old.assign(grid_id=[7, 7, 8, 8, 8])  # one household of grid 1 joined grid 2
    >>> changed_households(new, old).tolist()
    [False, False, True, False, False]
    """
    table = _aligned(plan, reference)
    return table["changed"].rename("changed")


def _aligned(plan, reference) -> pd.DataFrame:
    """``new``, ``old`` grid, ``households`` weight and ``changed`` per household row of ``plan``."""
    problems = Problems()
    new = _grid_table(plan, "plan", problems)
    old = _grid_table(reference, "reference", problems)
    if new is not None and old is not None:
        only_new = new.index.difference(old.index, sort=False)
        only_old = old.index.difference(new.index, sort=False)
        fix = ("compare plans drawn from the same households (a plan's households keep the input's index); "
               "for a households table of your own, set its index to the plan's, e.g. .set_index('address_id')")
        if len(only_new):
            problems.add("reference", f"{len(only_new)} of the plan's {len(new)} household rows are not in the "
                                      f"reference (by index)", rows=only_new, fix=fix)
        if len(only_old):
            problems.add("reference", f"{len(only_old)} of the reference's {len(old)} household rows are not in "
                                      f"the plan (by index)", rows=only_old, fix=fix)
        if not len(only_new) and not len(only_old):
            a, b = new["households"], old["households"].reindex(new.index)
            differ = a.notna() & b.notna() & ~np.isclose(a.to_numpy(float), b.to_numpy(float))
            if differ.any():
                problems.add("reference['households']",
                             f"{int(differ.sum())} rows hold other household counts than in the plan",
                             rows=new.index[differ.to_numpy()],
                             fix="compare plans drawn from the same households layer")
    problems.raise_if_any()
    assert new is not None and old is not None  # _grid_table returns None only with a problem, raised above
    old = old.reindex(new.index)
    weight = new["households"].fillna(old["households"]).fillna(1.0).to_numpy(dtype=float)
    in_new, in_old = new["grid_id"].notna().to_numpy(), old["grid_id"].notna().to_numpy()
    both = in_new & in_old
    n_code, n_uniq = pd.factorize(new["grid_id"].to_numpy()[both])
    o_code, o_uniq = pd.factorize(old["grid_id"].to_numpy()[both])
    pair = _matched_pairs(o_code, n_code, weight[both], len(o_uniq), len(n_uniq))
    # numpy's stubs take no pd.NA in where; the object array it makes is what pd.array reads
    changed: Any = pd.array(np.where(in_new | in_old, True, pd.NA), dtype="boolean")  # type: ignore[call-overload]
    changed[np.flatnonzero(both)] = pair[o_code] != n_code
    return pd.DataFrame({"new": new["grid_id"], "old": old["grid_id"], "households": weight,
                         "changed": changed}, index=new.index)




@dataclass(frozen=True)
class _RoadGraph:
    """The road network walks follow, in metres.

    Nodes are the ends of the road segments (``plan.roads`` is noded, so
    segments meet at their ends); ends closer than ``snap_m`` are one node.
    An edge is a segment, weighted by its length; of parallel segments
    between the same two nodes the shorter one counts.
    """

    lines: np.ndarray  # LineStrings
    start: np.ndarray  # node of each line's first point
    end: np.ndarray  # node of each line's last point
    length: np.ndarray  # metres per line
    xy: np.ndarray  # node coordinates
    graph: Any  # scipy.sparse csr matrix, symmetric

    @classmethod
    def from_roads(cls, roads: gpd.GeoDataFrame, *, snap_m: float = 0.5) -> _RoadGraph | None:
        """The graph of ``roads`` (in a metric CRS); ``None`` without any line."""
        from scipy.sparse import coo_matrix

        lines = shapely.get_parts(roads.geometry.values)
        lines = lines[shapely.get_type_id(lines) == 1]
        if len(lines) == 0:
            return None
        starts = shapely.get_coordinates(shapely.get_point(lines, 0))
        ends = shapely.get_coordinates(shapely.get_point(lines, -1))
        keys = np.round(np.vstack([starts, ends]) / snap_m).astype(np.int64)
        _, node = np.unique(keys, axis=0, return_inverse=True)
        node = node.ravel()
        n_nodes = int(node.max()) + 1
        xy = np.zeros((n_nodes, 2))
        xy[node] = np.vstack([starts, ends])
        a, b = node[: len(lines)], node[len(lines):]
        length = shapely.length(lines)
        # one edge per node pair, the shortest (a sparse matrix would add parallel edges up)
        pair = pd.DataFrame({"u": np.minimum(a, b), "v": np.maximum(a, b), "w": length})
        pair = pair.sort_values("w", kind="stable").drop_duplicates(["u", "v"])
        u, v, w = (pair[c].to_numpy() for c in ("u", "v", "w"))
        graph = coo_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n_nodes, n_nodes)).tocsr()
        return cls(lines=lines, start=a, end=b, length=length, xy=xy, graph=graph)

    def nearest_node(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Straight-line distance to the nearest node, and that node, per point."""
        from scipy.spatial import cKDTree

        return cKDTree(self.xy).query(xy)

    def snap(self, xy: np.ndarray, *, main: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per point: the nearest segment, the distance along it to the foot, and the distance off it.

        With ``main=True`` only segments of the largest connected piece of
        the network count.
        """
        keep = np.arange(len(self.lines))
        if main:
            from scipy.sparse.csgraph import connected_components

            _, piece = connected_components(self.graph, directed=False)
            keep = np.flatnonzero(piece[self.start] == np.bincount(piece).argmax())
        points = shapely.points(xy)
        tree = shapely.STRtree(self.lines[keep])
        (src, found), off = tree.query_nearest(points, return_distance=True, all_matches=False)
        order = np.argsort(src, kind="stable")
        line, off = keep[found[order]], off[order]
        along = shapely.line_locate_point(self.lines[line], points)
        return line, along, off

    def walk(self, a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], *, limit: float = np.inf) -> np.ndarray:
        """Walks from snapped points ``a`` to snapped points ``b`` (pairwise, as :meth:`snap` returns them).

        Straight onto the segment, along it to one of its ends, along the
        roads (Dijkstra from the ends of ``a``'s segments), along ``b``'s
        segment and straight off it; on one segment, along it.  Walks above
        ``limit`` may come back as ``inf``.
        """
        from scipy.sparse.csgraph import dijkstra

        (a_line, a_t, a_off), (b_line, b_t, b_off) = a, b
        a_ends = (self.start[a_line], self.end[a_line])
        b_ends = (self.start[b_line], self.end[b_line])
        sources = np.unique(np.r_[a_ends])
        row_of = np.full(len(self.xy), -1, dtype=np.int64)
        row_of[sources] = np.arange(len(sources))
        d = np.full((len(a_line), 4), np.inf)  # start-start, start-end, end-start, end-end
        batch = 64
        for lo in range(0, len(sources), batch):
            dist = dijkstra(self.graph, directed=False, indices=sources[lo:lo + batch], limit=limit)
            for k, node in enumerate(a_ends):
                r = row_of[node] - lo
                mine = (r >= 0) & (r < len(dist))
                d[mine, 2 * k] = dist[r[mine], b_ends[0][mine]]
                d[mine, 2 * k + 1] = dist[r[mine], b_ends[1][mine]]
        la, lb = self.length[a_line], self.length[b_line]
        along = np.column_stack([a_t + d[:, 0] + b_t, a_t + d[:, 1] + (lb - b_t),
                                 (la - a_t) + d[:, 2] + b_t, (la - a_t) + d[:, 3] + (lb - b_t)]).min(axis=1)
        same = a_line == b_line
        along[same] = np.minimum(along[same], np.abs(b_t - a_t)[same])
        return along + a_off + b_off

    def walks(self, a_xy: np.ndarray, b_xy: np.ndarray, pa: np.ndarray, pb: np.ndarray, *,
              limit: float = np.inf) -> np.ndarray:
        """Walks from ``a_xy[pa]`` to ``b_xy[pb]`` (pairwise), in metres.

        Each end is snapped to its nearest segment and to the nearest segment
        of the main network (a road piece that connects to nothing must not
        strand a household or a station); the shortest of the walks counts.
        Only pairs with an end whose two snaps differ walk more than once.
        """
        def take(snap, idx):
            return tuple(v[idx] for v in snap)

        a_near, a_main = self.snap(a_xy), self.snap(a_xy, main=True)
        b_near, b_main = self.snap(b_xy), self.snap(b_xy, main=True)
        walk = self.walk(take(a_near, pa), take(b_near, pb), limit=limit)
        a_moved, b_moved = (a_near[0] != a_main[0])[pa], (b_near[0] != b_main[0])[pb]
        for sa, sb, need in ((a_main, b_near, a_moved), (a_near, b_main, b_moved),
                             (a_main, b_main, a_moved & b_moved)):
            sel = np.flatnonzero(need)
            if len(sel):
                walk[sel] = np.minimum(walk[sel], self.walk(take(sa, pa[sel]), take(sb, pb[sel]), limit=limit))
        return walk


def walking_extent(plan, *, snap_m: float = 0.5) -> pd.Series:
    """Per grid, the longest walk along the roads from the grid's centre to its farthest household.

    The one worker of a grid walks from its centre: a point inside the grid
    (``point_on_surface``), then along ``plan.roads`` (streets, lanes, paths;
    shortest paths by length) to each household, with the straight steps
    onto and off the nearest road segment, as :func:`station_walk` walks.  It
    is a measure of the grid's extent on foot, in metres (divide by 75 m/min
    for minutes at 4.5 km/h).

    Parameters
    ----------
    plan : GridPlan
    snap_m : float
        Segment ends closer than this are one road node.

    Returns
    -------
    Series
        Metres, indexed by ``grid_id``; NaN for a grid without households or
        whose households cannot be reached from its centre on the roads.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> walk = walking_extent(plan)
    >>> bool((walk.dropna() > 0).all())
    True
    """
    metric = plan.metric_crs
    grid_ids = plan.grids["grid_id"].to_numpy()
    out = pd.Series(np.nan, index=pd.Index(grid_ids, name="grid_id"), name="walk_extent_m")
    net = _RoadGraph.from_roads(plan.roads.to_crs(metric), snap_m=snap_m)
    if net is None or len(plan.grids) == 0:
        return out
    hh = plan.households[plan.households["grid_id"].notna()].to_crs(metric)
    hh = hh[hh["households"].to_numpy(dtype=float) > 0]
    if len(hh) == 0:
        return out
    h_xy = shapely.get_coordinates(shapely.centroid(hh.geometry.values))
    g_of = pd.Index(grid_ids).get_indexer(hh["grid_id"].to_numpy(dtype=np.int64))
    centres = shapely.get_coordinates(shapely.point_on_surface(plan.grids.to_crs(metric).geometry.values))
    walk = pd.Series(net.walks(centres, h_xy, g_of, np.arange(len(hh))))
    # a grid with a household out of reach has no extent
    longest = walk.groupby(g_of).max()
    # pandas-stubs take no array as the value (nor an untyped key), which pandas does
    ext = np.where(np.isfinite(longest.to_numpy()), longest.to_numpy(), np.nan)
    out.iloc[longest.index.to_numpy()] = ext  # type: ignore[call-overload]
    return out


def _positive(problems: Problems, argument: str, value, example: str) -> None:
    """Record a problem unless ``value`` is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        problems.add(argument, f"must be a positive number, got {value!r}", fix=f"e.g. {argument}={example}")


def _read_stations(stations, plan, problems: Problems) -> gpd.GeoDataFrame | None:
    """The stations as a GeoDataFrame of points, checked against the plan's grids."""

    st = read_layer(stations, argument="stations", problems=problems)
    if st is None:
        return None
    before = len(problems.items)
    if len(st) == 0:
        problems.add("stations", "has no rows", fix="pass at least one station point, or leave stations out")
    if st.crs is None:
        problems.add("stations", "has no CRS", fix="set it, e.g. stations.set_crs('EPSG:4326')", crs=True)
    geom = st.geometry.values
    bad = shapely.is_missing(geom) | shapely.is_empty(geom) | (shapely.get_type_id(geom) != 0)
    if bad.any():
        problems.add("stations.geometry", f"must be Points; {int(bad.sum())} rows are not (or are empty)",
                     rows=st.index[bad], fix="give each station a point, e.g. stations.representative_point()")
    if "grid_id" in st.columns:
        gid = st["grid_id"]
        known = gid.isin(plan.grids["grid_id"]).to_numpy()
        if gid.isna().any():
            problems.add("stations['grid_id']", "is missing on some rows", rows=st.index[gid.isna().to_numpy()],
                         fix="name each station's grid, or drop the grid_id column to assign stations by place")
        unknown = ~known & gid.notna().to_numpy()
        if unknown.any():
            problems.add("stations['grid_id']", f"names grids the plan does not have "
                                                f"({list(pd.unique(gid[unknown]))[:5]})", rows=st.index[unknown],
                         fix="use the plan's grid ids (plan.grids['grid_id'])")
    return st if len(problems.items) == before else None


def _station_pairs(grids_m: gpd.GeoDataFrame, st_m: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Grid positions and station positions of each grid's stations (see :func:`station_walk`)."""
    if "grid_id" in st_m.columns:
        return pd.Index(grids_m["grid_id"]).get_indexer(st_m["grid_id"]), np.arange(len(st_m))
    # the stations nearest to each grid, ties all: those lying in it (distance 0), else the nearest
    g_pos, s_pos = st_m.sindex.nearest(grids_m.geometry.values, return_all=True)
    return g_pos, s_pos


def station_walk(plan, stations, *, max_m: float | None = None, snap_m: float = 0.5) -> pd.Series:
    """Per household row, the walk along the roads to its grid's station, in metres.

    Each grid's station: the stations whose ``grid_id`` names the grid when
    ``stations`` has that column; else the stations lying in the grid (on
    its boundary counts, so a station on a shared edge serves both grids),
    and for a grid without one the station nearest to the grid (straight
    line, ties all count).  With several stations, a household walks to the
    nearest on foot.

    The walk follows ``plan.roads`` (shortest paths by length, in the
    plan's working CRS): the household and the station step straight onto
    the nearest point of the nearest road segment, then walk along the
    roads; a household on the station's own segment walks along it.  A
    road piece that connects to nothing (a stray lane) must not strand
    anyone, so each end may also step straight onto the nearest segment of
    the main network (its largest connected piece); the shorter walk
    counts.  The straight steps count as walking, so no walk is shorter
    than the straight line.

    Parameters
    ----------
    plan : GridPlan
    stations : GeoDataFrame or path
        Station points (any CRS), optionally with ``grid_id``.
    max_m : float, optional
        Walks longer than this are not followed (faster); they are ``inf``
        (the shorter ones are exact).
    snap_m : float
        Segment ends closer than this are one road node.

    Returns
    -------
    Series
        Metres, indexed like ``plan.households``, named ``station_walk_m``:
        NaN for an unplaced household or one whose grid has no station (only
        with ``grid_id``); ``inf`` beyond ``max_m``.

    Raises
    ------
    InputError
        For stations that are not points, lack a CRS or name unknown grids,
        or a plan without roads.

    Examples
    --------
    >>> import gridpart as gp, shapely
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> stations = plan.grids[["grid_id"]].set_geometry(shapely.point_on_surface(plan.grids.geometry.values),
    ...                                                 crs=plan.crs)
    >>> walk = station_walk(plan, stations)
    >>> bool((walk >= 0).all())
    True
    """
    problems = Problems()
    st = _read_stations(stations, plan, problems)
    if max_m is not None:
        _positive(problems, "max_m", max_m, "2250")
    lines = shapely.get_parts(plan.roads.geometry.values) if len(plan.roads) else np.array([])
    if not (shapely.get_type_id(lines) == 1).any():
        problems.add("plan.roads", "holds no road lines to walk along", fix="score a plan drawn by gp.partition")
    problems.raise_if_any()
    metric = plan.metric_crs
    out = pd.Series(np.nan, index=plan.households.index, name="station_walk_m")
    net = _RoadGraph.from_roads(plan.roads.to_crs(metric), snap_m=snap_m)
    assert net is not None  # None only without a line, raised above
    grids_m = plan.grids[["grid_id", plan.grids.geometry.name]].to_crs(metric)
    st_m = cast(gpd.GeoDataFrame, st).to_crs(metric)
    g_of_station, station = _station_pairs(grids_m, st_m)
    g_of_hh = pd.Index(plan.grids["grid_id"]).get_indexer(plan.households["grid_id"])
    placed = np.flatnonzero(g_of_hh >= 0)
    pairs = pd.DataFrame({"h": np.arange(len(placed)), "g": g_of_hh[placed]}).merge(
        pd.DataFrame({"g": g_of_station, "q": station}), on="g")
    if len(pairs) == 0:
        return out
    ph, pq = pairs["h"].to_numpy(), pairs["q"].to_numpy()
    h_xy = shapely.get_coordinates(shapely.centroid(plan.households.geometry.iloc[placed].to_crs(metric).values))
    q_xy = shapely.get_coordinates(st_m.geometry.values)
    limit = np.inf if max_m is None else float(max_m) + 1e-6
    walk = net.walks(q_xy, h_xy, pq, ph, limit=limit)
    if max_m is not None:
        walk[walk > limit] = np.inf
    best = pd.Series(walk).groupby(ph).min()
    out.iloc[placed[best.index.to_numpy()]] = best.to_numpy()  # type: ignore[call-overload]  # as in walking_extent
    return out
