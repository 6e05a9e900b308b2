"""A planner's review of a plan: the defects a street office would not publish.

The measures are those of the issue "Plans a street office would publish"
(shape, strips, rings, enclaves, empty grids, arterials inside, 四至), each
computed from the plan's geometry alone, independently of how the plan was
drawn and of gridpart's own 四至 code.  Everything is measured in metres in
the plan's working CRS (``plan.params["work_crs"]``).

Definitions (per grid)
----------------------
Compactness
    ``polsby_popper`` = 4πA/P² (P the whole boundary, holes included), flagged
    below :data:`PP_FLOOR`; ``hull_ratio`` = A / area of the convex hull.
Long thin strip
    ``aspect`` = long ÷ short side of the minimum rotated rectangle;
    ``mean_width_m`` = 2A/P (the width of a long rectangle).  Flagged when the
    aspect is at least :data:`ASPECT_MAX` or the mean width below
    :data:`MIN_MEAN_WIDTH_M`.
Strips
    The grid's *opening* is ``buffer(-7.5).buffer(+7.5)``, which removes every
    part narrower than 15 m; mitred joins, so that a convex corner is no strip
    (round joins, the opening by a disc, would count (4-π)·7.5² ≈ 48 m² at
    every corner).  A *strip* is a part of the grid outside its opening that
    holds no household point.  ``strip_share`` = strip area ÷ grid area
    (flagged at :data:`STRIP_SHARE_MAX`); ``household_parts`` = the opening's
    parts that hold households: two or more means the grid's households
    connect only through strips (flagged).
    The grid-level opening misses a strip glued *lengthwise* to a block (a
    median or a carriageway–sidewalk corridor along a block's side only makes
    the grid wider), so ``strip_share_atoms`` measures the same with the
    union of the openings of the grid's atoms in place of the grid's opening
    (reported, not flagged; it needs ``plan.blocks``).
Rings
    ``wraps`` = how many other grids have at least half of their area inside
    this grid's convex hull (flagged at :data:`WRAPS_MIN`).
Enclaves
    ``enclave_of`` = the grid that surrounds this one: at least 99 % of this
    grid's outer boundary lies within 0.5 m of that one grid (it sits in a
    hole of it, or in a pocket closed all around).  ``enclave_allowed`` when
    the enclave is a dedicated grid (``kind`` unit or compound).
Arterials inside
    ``arterial_inside_m`` = length of arterial lines (road kind ``road``:
    motorway … secondary, links and expressways) inside the grid shrunk by
    :data:`ARTERIAL_SHRINK_M` (15 m, as the 四至 check): street space is
    shared between the blocks either side, so a grid's edge runs along the
    middle of the road space and the carriageways of a dual road lie up to
    half the road's width inside it; they bound the grid and do not count,
    while a road the grid spans does;
    ``arterial_name`` the longest such road.  Flagged at :data:`ARTERIAL_MAX_M`.
四至 text
    The ``limits`` text ``东至X，南至Y，西至Z，北至W`` is parsed; a side is a
    *fallback* when it names no road: 楼栋间 (with or without a landmark),
    无名路/街/巷/界线, 社区边界, 辖区边界, 与…交界.  ``named_sides`` counts
    the others; a grid with none is flagged.
四至 geometry
    The outer boundary (exterior rings; holes are enclaves, not limits) is cut
    into pieces of at most :data:`PIECE_M`; a piece belongs to the side its
    outward normal faces (within 45°).  A road (all lines of one name) is
    *along* a side for the share of the side's length whose pieces have their
    midpoint within :data:`NEAR_M` (15 m) of it, where the road runs within
    :data:`PARALLEL_DEG` (30°) of the piece (so a road that meets or crosses
    a short side is not along it).  A side *misses* a name when
    some named road is along at least 50 % of it and the side names none of
    those roads.  A named side *passes* when its road is along at least 50 %
    of it and less than 20 m of that road lies inside the grid shrunk by
    15 m.  ``pass_share`` in the summary is over all named sides (goal 98 %).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import Problems
from gridpart.geometry.lines import parallel_at_nearest

__all__ = ["FLAG_NAMES", "Review", "flag_column", "is_fallback", "parse_limits", "review"]

#: Polsby–Popper below this is a snake or a sprawl.
PP_FLOOR = 0.15
#: Minimum rotated rectangle aspect at or above this is a long thin strip.
ASPECT_MAX = 3.5
#: Mean width (2A/P) below this is a long thin strip, metres.
MIN_MEAN_WIDTH_M = 20.0
#: Half the width of a strip: the opening's radius, metres (strips are narrower than 15 m).
OPEN_M = 7.5
#: Share of a grid's area in household-free strips that is flagged.
STRIP_SHARE_MAX = 0.20
#: A grid whose hull holds at least half of this many other grids is a ring.
WRAPS_MIN = 3
#: Shrink of the grid for "inside" (arterials, crossing named roads), metres.
INSIDE_M = 15.0
#: Shrink of the grid for arterials inside, metres.
ARTERIAL_SHRINK_M = 15.0
#: Arterial length inside the shrunk grid that is flagged, metres.
ARTERIAL_MAX_M = 100.0
#: A road is near a side's piece when within this distance, metres.
NEAR_M = 15.0
#: A named side's road may run at most this far inside the shrunk grid, metres.
CROSS_MAX_M = 20.0
#: Share of a side its road must be near.
ALONG_SHARE = 0.5
#: A road is along a piece of boundary when it runs within this angle of it, degrees.
PARALLEL_DEG = 30.0
#: Longest piece of boundary the sides are cut into, metres.
PIECE_M = 5.0

#: Flag names, in the order they are listed.
FLAG_NAMES = ("compactness", "long_thin", "strips", "strip_joined", "wraps", "enclave", "empty",
              "arterial_inside", "limits_unnamed", "limits_missed", "limits_fail")

_SIDES = ("east", "south", "west", "north")
_SIDE_ZH = {"东": "east", "南": "south", "西": "west", "北": "north"}
_FALLBACKS = frozenset({"无名路", "无名街", "无名巷", "无名界线", "社区边界", "辖区边界", "楼栋间"})
_FALLBACK_RE = re.compile(r"^(无名|楼栋间|与.*交界$|社区边界|辖区边界)")
_LIMITS_RE = re.compile(r"([东南西北])至(.*?)(?=[，,;；]\s*[东南西北]至|$)")


@dataclass(frozen=True)
class Review:
    """A plan reviewed grid by grid.

    Attributes
    ----------
    per_grid : DataFrame
        Indexed by ``grid_id``: ``kind``, ``households``, ``area_m2``,
        ``polsby_popper``, ``hull_ratio``, ``aspect``, ``mean_width_m``,
        ``strip_share``, ``strip_share_atoms``, ``household_parts``,
        ``wraps``, ``wrapped`` (their ids), ``enclave_of`` (NA when none), ``enclave_allowed``,
        ``arterial_inside_m``, ``arterial_name``, ``fallback_sides``,
        ``named_sides``, ``missed_sides``, ``failed_sides``, one boolean
        column per flag (``flag_<name>``, see :data:`FLAG_NAMES`) and
        ``flags`` (the flags with their reasons, ``"; "``-joined; ``""`` when none).
    summary : Series
        Counts of flagged grids (``snake_pp``, ``long_thin``, ``strips``,
        ``strips_atoms`` (``strip_share_atoms`` at the flag; not a flag),
        ``strip_joined``, ``wraps``, ``wraps_max``, ``enclaves``,
        ``enclaves_not_dedicated``, ``empty``, ``arterial_inside``,
        ``limits_no_named_side``), shares (``fallback_side_share``,
        ``named_side_share``, ``pass_share`` of named sides,
        ``missed_sides``), means (``polsby_popper_mean``,
        ``hull_ratio_mean``), ``grids`` and ``flagged`` (grids with any flag).
    sides : DataFrame
        One row per grid and side: ``grid_id``, ``side``, ``label``,
        ``named``, ``length_m``, ``label_along`` (share of the side its
        named road is near), ``label_inside_m`` (its length inside the
        shrunk grid), ``best_road``, ``best_along`` (the named road near
        most of the side), ``missed``, ``passes`` (NA for a fallback side).
    """

    per_grid: pd.DataFrame
    summary: pd.Series
    sides: pd.DataFrame

    @property
    def flags(self) -> pd.Series:
        """The ``flags`` column by ``grid_id`` (``"; "``-joined reasons, ``""`` when none)."""
        return self.per_grid["flags"]

    def _repr_html_(self) -> str:
        # pandas-stubs lack DataFrame._repr_html_ (mypy takes it for a column)
        return self.summary.to_frame("value")._repr_html_()  # type: ignore[operator]


def flag_column(plan, rv: Review | None = None) -> pd.Series:
    """The ``flags`` of each grid, aligned with ``plan.grids`` (its index), ready to be a column.

    ``forced`` is left as it is (out of the band whatever the plan, DESIGN §3):
    flags are reasons a grid is not publishable, a separate matter.

    Parameters
    ----------
    plan : GridPlan
    rv : Review, optional
        The plan's review; default ``review(plan)``.

    Examples
    --------
    >>> import gridpart as gp
    >>> from gridpart.outputs.review import flag_column
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> plan.grids["flags"] = flag_column(plan)
    >>> plan.grids["flags"].map(type).eq(str).all()
    np.True_
    """
    rv = review(plan) if rv is None else rv
    out = plan.grids["grid_id"].map(rv.flags).fillna("")
    return out.rename("flags")


def is_fallback(label) -> bool:
    """Whether a 四至 side label names no road.

    Examples
    --------
    >>> [is_fallback(x) for x in ("学院路", "无名巷", "楼栋间（农大小区）", "与学院路社区交界", "辖区边界")]
    [False, True, True, True, True]
    """
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return True
    s = str(label).strip()
    return s == "" or s in _FALLBACKS or bool(_FALLBACK_RE.match(s))


def parse_limits(text) -> dict[str, str | None]:
    """The four side labels of a 四至 text (``None`` for a side the text lacks).

    Examples
    --------
    >>> parse_limits("东至学院路，南至清华东路，西至无名巷，北至社区边界")
    {'east': '学院路', 'south': '清华东路', 'west': '无名巷', 'north': '社区边界'}
    """
    out: dict[str, str | None] = dict.fromkeys(_SIDES)
    if isinstance(text, str):
        for side, label in _LIMITS_RE.findall(text):
            out[_SIDE_ZH[side]] = label.strip()
    return out


def review(plan, *, roads: gpd.GeoDataFrame | None = None) -> Review:
    """Review a plan as a planner would: shape, strips, rings, enclaves, arterials, 四至.

    Parameters
    ----------
    plan : GridPlan
    roads : GeoDataFrame, optional
        Lines with ``kind`` (road/street/lane/barrier) and ``name``, any CRS;
        default ``plan.roads`` (the noded linework the plan was cut along).

    Returns
    -------
    Review
        ``per_grid`` (figures, flags and reasons), ``summary`` (the counts of
        the issue's defect table) and ``sides`` (the 四至 checks); see the
        module docstring for every definition.

    Raises
    ------
    InputError
        When ``roads`` lacks a ``kind`` column or a CRS.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> rv = gp.review(plan)
    >>> int(rv.summary["grids"]) == len(plan.grids)
    True
    >>> grids = plan.grids.assign(flags=plan.grids["grid_id"].map(rv.flags))  # or flag_column(plan, rv)
    >>> bool(0 <= rv.summary["polsby_popper_mean"] <= 1)
    True
    """

    roads = plan.roads if roads is None else roads
    problems = Problems()
    if roads is not None and len(roads):
        if "kind" not in roads.columns:
            problems.add("roads['kind']", "the column is missing", fix="give road lines a kind (road/street/lane)")
        if roads.crs is None:
            problems.add("roads.crs", "is not set", fix="roads = roads.set_crs(...)")
    problems.raise_if_any()
    crs = plan.metric_crs
    g = plan.grids.to_crs(crs)
    ids = g["grid_id"].to_numpy()
    geoms = shapely.make_valid(np.asarray(g.geometry.values, dtype=object))
    n = len(geoms)
    hh = plan.households
    placed = hh["grid_id"].notna().to_numpy() & (hh["households"].to_numpy(dtype=float) > 0)
    pts = np.asarray(hh.to_crs(crs).geometry.values[placed], dtype=object)
    pts = shapely.point_on_surface(pts)  # households may be building footprints
    if roads is not None and len(roads):
        r = roads.to_crs(crs)
        rgeom = np.asarray(r.geometry.values, dtype=object)
        rkind = r["kind"].astype(str).to_numpy()
        rname = (r["name"] if "name" in r else pd.Series([None] * len(r), index=r.index))
        rname = rname.where(rname.notna(), "").astype(str).str.strip().to_numpy()
    else:
        rgeom = np.empty(0, dtype=object)
        rkind = rname = np.empty(0, dtype=object)

    area = shapely.area(geoms)
    perim = shapely.length(geoms)
    hull = shapely.convex_hull(geoms)
    pp = np.where(perim > 0, 4 * np.pi * area / np.maximum(perim, 1e-9) ** 2, 0.0)
    hull_ratio = np.where(shapely.area(hull) > 0, area / np.maximum(shapely.area(hull), 1e-9), 0.0)
    aspect = _aspect(geoms)
    width = np.where(perim > 0, 2 * area / np.maximum(perim, 1e-9), 0.0)

    atoms, atom_grid = _atoms(plan, crs, ids)
    strip_share, hh_parts, strip_atoms = _strips(geoms, pts, atoms, atom_grid)
    wraps, wrapped = _wraps(geoms, hull, area, ids)
    enclave_of = _enclaves(geoms, ids)
    shrunk = shapely.buffer(geoms, -INSIDE_M)
    art = rkind == "road"
    art_m, art_name = _inside_length(shapely.buffer(geoms, -ARTERIAL_SHRINK_M), rgeom[art], rname[art])

    sides = _sides(plan.grids, geoms, shrunk, ids, rgeom, rname)
    kinds = g["kind"].astype(str).to_numpy() if "kind" in g else np.full(n, "street")
    per = pd.DataFrame({
        "kind": kinds,
        "households": g["households"].to_numpy(dtype=float),
        "area_m2": area,
        "polsby_popper": pp,
        "hull_ratio": hull_ratio,
        "aspect": aspect,
        "mean_width_m": width,
        "strip_share": strip_share,
        "strip_share_atoms": strip_atoms,
        "household_parts": hh_parts,
        "wraps": wraps,
        "wrapped": wrapped,
        "enclave_of": pd.array(enclave_of, dtype=object),
        "arterial_inside_m": art_m,
        "arterial_name": art_name,
    }, index=pd.Index(ids, name="grid_id"))
    per["enclave_allowed"] = per["enclave_of"].notna() & per["kind"].isin(["unit", "compound"])
    by = sides.groupby("grid_id")
    per["fallback_sides"] = (~sides["named"]).groupby(sides["grid_id"]).sum().reindex(per.index, fill_value=4)
    per["named_sides"] = by["named"].sum().reindex(per.index, fill_value=0).astype(int)
    per["missed_sides"] = by["missed"].sum().reindex(per.index, fill_value=0).astype(int)
    failed = sides["named"] & ~sides["passes"].fillna(True).astype(bool)
    per["failed_sides"] = failed.groupby(sides["grid_id"]).sum().reindex(per.index, fill_value=0).astype(int)
    _flag(per, sides)
    return Review(per_grid=per, summary=_summary(per, sides), sides=sides)


def _atoms(plan, crs, ids) -> tuple[np.ndarray, np.ndarray]:
    """The plan's atoms in metres and the position of each one's grid (none without ``plan.blocks``)."""
    b = plan.blocks
    if b is None or not len(b) or "grid_id" not in b or b.crs is None:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    pos = pd.Series(np.arange(len(ids)), index=ids)
    grid = pos.reindex(b["grid_id"].to_numpy()).to_numpy()
    ok = ~np.isnan(grid)
    geoms = shapely.make_valid(np.asarray(b.to_crs(crs).geometry.values, dtype=object))
    return geoms[ok], grid[ok].astype(np.int64)


def _aspect(geoms: np.ndarray) -> np.ndarray:
    """Long ÷ short side of each geometry's minimum rotated rectangle (inf for a degenerate one)."""
    rect = shapely.minimum_rotated_rectangle(geoms)
    out = np.full(len(geoms), np.inf)
    poly = shapely.get_type_id(rect) == 3
    if poly.any():
        xy, idx = shapely.get_coordinates(shapely.get_exterior_ring(rect[poly]), return_index=True)
        first = np.searchsorted(idx, np.arange(poly.sum()))
        a = np.hypot(*(xy[first + 1] - xy[first]).T)
        b = np.hypot(*(xy[first + 2] - xy[first + 1]).T)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        out[poly] = np.where(lo > 1e-9, hi / np.maximum(lo, 1e-9), np.inf)
    return out


def _opening(geoms: np.ndarray) -> np.ndarray:
    """The morphological opening by :data:`OPEN_M` (mitred joins), inside each geometry."""
    out = shapely.buffer(shapely.buffer(geoms, -OPEN_M, join_style="mitre"), OPEN_M, join_style="mitre")
    return _safe(shapely.intersection, shapely.make_valid(out), geoms)


def _strips(geoms: np.ndarray, pts: np.ndarray, atoms: np.ndarray,
            atom_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of each grid's area in household-free strips (of the grid, and of its atoms),
    and the grid opening's parts holding households."""
    n = len(geoms)
    tree_pts = shapely.STRtree(pts) if len(pts) else None
    area = shapely.area(geoms)

    def parts_with_households(polys):
        parts, owner = shapely.get_parts(polys, return_index=True)
        keep = shapely.get_type_id(parts) == 3
        parts, owner = parts[keep], owner[keep]
        held = np.zeros(len(parts), dtype=bool)
        if tree_pts is not None and len(parts):
            p, _ = tree_pts.query(parts, predicate="intersects")
            held[p] = True
        return parts, owner, held

    def free_share(opening):
        parts, owner, held = parts_with_households(_safe(shapely.difference, geoms, opening))
        free = np.bincount(owner[~held], weights=shapely.area(parts[~held]), minlength=n)
        return np.where(area > 0, free / np.maximum(area, 1e-9), 0.0)

    opening = _opening(geoms)
    share = free_share(opening)
    share_atoms = np.full(n, np.nan)
    if len(atoms):  # the grid outside the union of its atoms' openings
        opened = _opening(atoms)
        order = np.argsort(atom_grid, kind="stable")
        cuts = np.searchsorted(atom_grid[order], np.arange(n + 1))
        union = np.array([shapely.union_all(opened[order[cuts[i]:cuts[i + 1]]]) for i in range(n)], dtype=object)
        share_atoms = free_share(_safe(shapely.intersection, shapely.make_valid(union), geoms))
    _, owner, held = parts_with_households(opening)
    hh_parts = np.bincount(owner[held], minlength=n)
    return share, hh_parts, share_atoms


def _safe(op, a, b):
    """A pairwise overlay, snapped to 1 mm where GEOS fails on a robustness error."""
    try:
        return op(a, b)
    except shapely.errors.GEOSException:
        return op(a, b, grid_size=1e-3)


def _wraps(geoms, hull, area, ids) -> tuple[np.ndarray, list]:
    """How many other grids have at least half of their area inside each grid's hull, and which."""
    n = len(geoms)
    a, b = shapely.STRtree(geoms).query(hull, predicate="intersects")
    other = a != b
    a, b = a[other], b[other]
    # the overlap of the bounding boxes bounds the overlap: most neighbours only touch the hull
    hb, gb = shapely.bounds(hull), shapely.bounds(geoms)
    box = (np.clip(np.minimum(hb[a, 2], gb[b, 2]) - np.maximum(hb[a, 0], gb[b, 0]), 0, None)
           * np.clip(np.minimum(hb[a, 3], gb[b, 3]) - np.maximum(hb[a, 1], gb[b, 1]), 0, None))
    maybe = (box >= 0.5 * area[b] * (1 - 1e-9) - 1e-3) & (area[b] > 0)
    a, b = a[maybe], b[maybe]
    inter = shapely.area(_safe(shapely.intersection, hull[a], geoms[b])) if len(a) else np.zeros(0)
    hit = inter >= 0.5 * area[b] - 1e-6
    count = np.bincount(a[hit], minlength=n)
    wrapped: list[list[Any]] = [[] for _ in range(n)]
    for i, j in zip(a[hit], b[hit]):
        wrapped[i].append(ids[j])
    return count, wrapped


def _enclaves(geoms, ids) -> list:
    """The id of the one grid around each grid (its outer boundary lies along that grid), else None."""
    n = len(geoms)
    out: list = [None] * n
    parts, owner = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    ext, owner = shapely.get_exterior_ring(parts[poly]), owner[poly]
    olen = np.bincount(owner, weights=shapely.length(ext), minlength=n)
    k, b = shapely.STRtree(geoms).query(ext, predicate="intersects")
    a = owner[k]
    other = a != b
    k, a, b = k[other], a[other], b[other]
    if not len(a):
        return out
    near = shapely.buffer(geoms, 0.5)
    shared = shapely.length(_safe(shapely.intersection, ext[k], near[b]))
    by_pair = pd.Series(shared).groupby([a, b]).sum()
    pa = by_pair.index.get_level_values(0).to_numpy()
    pb = by_pair.index.get_level_values(1).to_numpy()
    ok = (by_pair.to_numpy() >= 0.99 * olen[pa]) & (olen[pa] > 0)
    for i, j in zip(pa[ok], pb[ok]):
        out[i] = ids[j]
    return out


def _inside_length(shrunk, lines, names) -> tuple[np.ndarray, np.ndarray]:
    """Length of ``lines`` inside each shrunk grid, and the name of the longest (by name) there."""
    n = len(shrunk)
    total: np.ndarray = np.zeros(n)
    top = np.array([""] * n, dtype=object)
    if not len(lines):
        return total, top
    a, b = shapely.STRtree(lines).query(shrunk, predicate="intersects")
    if not len(a):
        return total, top
    length = shapely.length(_safe(shapely.intersection, shrunk[a], lines[b]))
    df = pd.DataFrame({"grid": a, "name": names[b], "len": length})
    total = np.bincount(a, weights=length, minlength=n)
    byname = df.groupby(["grid", "name"], sort=True)["len"].sum().reset_index()
    byname = byname.sort_values(["grid", "len"], ascending=[True, False]).drop_duplicates("grid")
    top[byname["grid"].to_numpy()] = np.where(byname["name"].to_numpy() == "", "unnamed", byname["name"].to_numpy())
    return total, top


def _pieces(geoms: np.ndarray):
    """Pieces of the outer boundary: grid, side (by outward normal), midpoint, length, direction
    and the ring it is on (pieces of one ring are consecutive, in order)."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, owner = parts[poly], owner[poly]
    rings = shapely.get_exterior_ring(shapely.orient_polygons(parts, exterior_cw=False))
    xy, ring = shapely.get_coordinates(shapely.segmentize(rings, PIECE_M), return_index=True)
    same = ring[1:] == ring[:-1]
    p, q = xy[:-1][same], xy[1:][same]
    ring = ring[:-1][same]
    who = owner[ring]
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 1e-9
    p, q, d, length, who, ring = p[ok], q[ok], d[ok], length[ok], who[ok], ring[ok]
    ang = np.degrees(np.arctan2(-d[:, 0], d[:, 1]))  # outward normal (dy, -dx) of a CCW ring
    side = np.select([(ang > -45) & (ang <= 45), (ang > 45) & (ang <= 135), (ang <= -45) & (ang > -135)],
                     ["east", "north", "south"], "west")
    return who, side, (p + q) / 2, length, d / length[:, None], ring


def _near_roads(tree, xy: np.ndarray, ring: np.ndarray, distance: float, *, chunk: int = 8):
    """Pairs (point, line of ``tree``) within ``distance``, as ``tree.query(points, predicate="dwithin")``
    finds them, in order of the points (the lines of one point in any order).

    Points are consecutive along rings (``ring``).  Runs of up to ``chunk``
    points of one ring ask the tree once, with their bounding box grown by
    ``distance``; a candidate pair whose line is a straight two-vertex line is
    decided in numpy (the distance to the segment, as GEOS computes it), and
    the points with any other candidate, or one within rounding of
    ``distance``, are asked of the tree one by one.
    """
    n = len(xy)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    start = np.flatnonzero(np.r_[True, ring[1:] != ring[:-1]])
    local = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
    first = np.flatnonzero((local % chunk) == 0)
    count = np.diff(np.r_[first, n])
    reach = distance + 1e-6
    lo, hi = np.minimum.reduceat(xy, first, axis=0) - reach, np.maximum.reduceat(xy, first, axis=0) + reach
    ci, li = tree.query(shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]), predicate="intersects")
    rep = np.repeat(np.arange(len(ci)), count[ci])
    pt = first[ci][rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(count[ci]) - count[ci], count[ci]))
    li = li[rep]
    lines = tree.geometries
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    nco = np.bincount(idx, minlength=len(lines))
    simple = (nco == 2) & (shapely.get_type_id(lines) == 1)
    at = np.minimum(np.cumsum(nco) - nco, max(len(coords) - 2, 0))
    a, b = (coords[at], coords[at + 1]) if len(coords) else (np.zeros((len(lines), 2)),) * 2
    sa, sb, p = a[li], b[li], xy[pt]
    dx, dy = sb[:, 0] - sa[:, 0], sb[:, 1] - sa[:, 1]
    len2 = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ((p[:, 0] - sa[:, 0]) * dx + (p[:, 1] - sa[:, 1]) * dy) / len2
        s = ((sa[:, 1] - p[:, 1]) * dx - (sa[:, 0] - p[:, 0]) * dy) / len2
        dist = np.where(r <= 0, np.hypot(p[:, 0] - sa[:, 0], p[:, 1] - sa[:, 1]),
                        np.where(r >= 1, np.hypot(p[:, 0] - sb[:, 0], p[:, 1] - sb[:, 1]), np.abs(s) * np.sqrt(len2)))
    sure = simple[li] & (len2 > 1e-12) & np.isfinite(dist) & (np.abs(dist - distance) > 1e-7)
    unsure = np.zeros(n, bool)
    unsure[pt[~sure]] = True
    keep = sure & (dist <= distance) & ~unsure[pt]
    pi, si = pt[keep], li[keep]
    ask = np.flatnonzero(unsure)
    if len(ask):
        qi, qs = tree.query(shapely.points(xy[ask]), predicate="dwithin", distance=distance)
        pi, si = np.r_[pi, ask[qi]], np.r_[si, qs]
    order = np.argsort(pi, kind="stable")
    return pi[order], si[order]


def _parallel(lines: np.ndarray, xy: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Whether each line runs within :data:`PARALLEL_DEG` of ``direction`` where it passes nearest the point ``xy``.

    The line's direction there is the chord between the points 1 m before and
    after its nearest point.  On a straight line of two vertices that chord
    runs along the line, so its direction is the line's own (computed in
    numpy, without building points); other lines, and straight ones within
    rounding of the angle, are measured along the line.
    """
    out = np.zeros(len(lines), dtype=bool)
    if not len(lines):
        return out
    cos_max = np.cos(np.radians(PARALLEL_DEG))
    co, idx = shapely.get_coordinates(lines, return_index=True)
    count = np.bincount(idx, minlength=len(lines))
    first = np.cumsum(count) - count
    simple = (count == 2) & (shapely.get_type_id(lines) == 1)
    if len(co):
        d = co[np.minimum(first + 1, len(co) - 1)] - co[np.minimum(first, len(co) - 1)]
    else:
        d = np.zeros((len(lines), 2))
    norm = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    cos = np.abs(d[:, 0] * direction[:, 0] + d[:, 1] * direction[:, 1]) / np.maximum(norm, 1e-300)
    sure = simple & (norm > 1e-6) & (np.abs(cos - cos_max) > 1e-9)
    out[sure] = cos[sure] >= cos_max
    rest = np.flatnonzero(~sure)
    if len(rest):
        out[rest] = _parallel_along(lines[rest], shapely.points(xy[rest]), direction[rest])
    return out


def _parallel_along(lines: np.ndarray, points: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """:func:`_parallel` measured along the line (the chord ±1 m around the nearest point)."""
    return parallel_at_nearest(lines, points, direction, PARALLEL_DEG)


def _sides(grids, geoms, shrunk, ids, rgeom, rname) -> pd.DataFrame:
    """The 四至 text checked against the map, one row per grid and side."""
    n = len(geoms)
    text = grids["limits"] if "limits" in grids else pd.Series([None] * n)
    labels = pd.DataFrame([parse_limits(t) for t in text.to_numpy()], columns=list(_SIDES))
    rows = labels.melt(ignore_index=False, var_name="side", value_name="label").reset_index(names="pos")
    rows["named"] = ~rows["label"].map(is_fallback)
    who, side, mid, length, direction, ring = _pieces(geoms)
    side_len = pd.Series(length).groupby([who, side]).sum()
    rows["length_m"] = side_len.reindex(pd.MultiIndex.from_arrays([rows["pos"], rows["side"]])).fillna(0.0).to_numpy()
    named = rname != ""
    ngeom, nname = rgeom[named], rname[named]
    along = pd.DataFrame(columns=["pos", "side", "road", "len"])
    if len(ngeom) and len(mid):
        pi, si = _near_roads(shapely.STRtree(ngeom), mid, ring, NEAR_M)
        keep = _parallel(ngeom[si], mid[pi], direction[pi])
        pi, si = pi[keep], si[keep]
        near = pd.DataFrame({"piece": pi, "road": nname[si]}).drop_duplicates()
        near["pos"], near["side"], near["len"] = who[near["piece"]], side[near["piece"]], length[near["piece"]]
        along = near.groupby(["pos", "side", "road"], sort=True)["len"].sum().reset_index()
    key = pd.MultiIndex.from_arrays([rows["pos"], rows["side"]])
    side_of = pd.MultiIndex.from_arrays([along["pos"], along["side"]])
    along["share"] = along["len"] / side_len.reindex(side_of).to_numpy()
    best = along.sort_values(["pos", "side", "share", "road"], ascending=[True, True, False, True])
    best = best.drop_duplicates(["pos", "side"]).set_index(["pos", "side"])
    rows["best_road"] = best["road"].reindex(key).to_numpy()
    rows["best_along"] = best["share"].reindex(key).fillna(0.0).to_numpy()
    lab = along.set_index(["pos", "side", "road"])["share"]
    key = pd.MultiIndex.from_arrays([rows["pos"], rows["side"], rows["label"]])
    rows["label_along"] = lab.reindex(key).fillna(0.0).to_numpy()
    # missed: some named road along >= half of the side, and the side names none of them
    qualifies = along[along["share"] >= ALONG_SHARE - 1e-9]
    has_q = pd.Series(True, index=pd.MultiIndex.from_frame(qualifies[["pos", "side"]]).unique())
    rows["missed"] = (has_q.reindex(key).fillna(False).to_numpy().astype(bool)
                      & (rows["label_along"].to_numpy() < ALONG_SHARE - 1e-9))
    # passes: the named side's road is along >= half of it and < 20 m of it lies inside the shrunk grid
    inside = np.zeros(len(rows))
    sel = rows["named"].to_numpy() & (rows["label"].notna().to_numpy())
    if sel.any() and len(ngeom):
        tree = shapely.STRtree(ngeom)
        pos = rows["pos"].to_numpy()[sel]
        want = rows["label"].to_numpy()[sel]
        a, b = tree.query(shrunk[pos], predicate="intersects")
        match = nname[b] == want[a]
        a, b = a[match], b[match]
        if len(a):
            ln = shapely.length(_safe(shapely.intersection, shrunk[pos[a]], ngeom[b]))
            inside[np.flatnonzero(sel)] = np.bincount(a, weights=ln, minlength=sel.sum())
    rows["label_inside_m"] = inside
    passes = (rows["label_along"] >= ALONG_SHARE - 1e-9) & (rows["label_inside_m"] < CROSS_MAX_M)
    # numpy's stubs take no pd.NA in where; the object array it makes is what pd.array reads
    rows["passes"] = pd.array(np.where(rows["named"], passes, pd.NA), dtype="boolean")  # type: ignore[call-overload]
    rows.insert(0, "grid_id", ids[rows["pos"].to_numpy()])
    order = {s: i for i, s in enumerate(_SIDES)}
    rows = rows.sort_values(["pos", "side"], key=lambda c: c.map(order) if c.name == "side" else c)
    return rows.drop(columns="pos").reset_index(drop=True)[
        ["grid_id", "side", "label", "named", "length_m", "label_along", "label_inside_m",
         "best_road", "best_along", "missed", "passes"]]


def _flag(per: pd.DataFrame, sides: pd.DataFrame) -> None:
    """Add ``flag_<name>`` columns and the ``flags`` text (name: reason) to ``per``."""
    s = sides.set_index("grid_id")
    missed = s[s["missed"]]
    failed = s[s["named"] & ~s["passes"].fillna(True).astype(bool)]
    missed_txt = (missed["side"] + " misses " + missed["best_road"].astype(str)).groupby(level=0).agg(", ".join)
    failed_txt = (failed["side"] + " " + failed["label"].astype(str)).groupby(level=0).agg(", ".join)
    enc = per["enclave_of"].notna()
    conds = {
        "compactness": per["polsby_popper"] < PP_FLOOR,
        "long_thin": (per["aspect"] >= ASPECT_MAX) | (per["mean_width_m"] < MIN_MEAN_WIDTH_M),
        "strips": per["strip_share"] >= STRIP_SHARE_MAX,
        "strip_joined": per["household_parts"] >= 2,
        "wraps": per["wraps"] >= WRAPS_MIN,
        "enclave": enc & ~per["enclave_allowed"],
        "empty": per["households"] <= 0,
        "arterial_inside": per["arterial_inside_m"] >= ARTERIAL_MAX_M,
        "limits_unnamed": per["named_sides"] == 0,
        "limits_missed": per["missed_sides"] > 0,
        "limits_fail": per["failed_sides"] > 0,
    }
    reasons = {
        "compactness": lambda r: f"Polsby–Popper {r.polsby_popper:.2f} < {PP_FLOOR}",
        "long_thin": lambda r: f"aspect {r.aspect:.1f}, mean width {r.mean_width_m:.0f} m",
        "strips": lambda r: f"{r.strip_share:.0%} of its area in strips narrower than {2 * OPEN_M:g} m",
        "strip_joined": lambda r: f"{r.household_parts} household parts joined only through strips",
        "wraps": lambda r: f"hull holds half of {r.wraps} grids ({', '.join(map(str, r.wrapped))})",
        "enclave": lambda r: f"inside grid {r.enclave_of}",
        "empty": lambda r: "0 households",
        "arterial_inside": lambda r: f"{r.arterial_name} {r.arterial_inside_m:.0f} m",
        "limits_unnamed": lambda r: "no side names a road",
        "limits_missed": lambda r: missed_txt.get(r.Index, ""),
        "limits_fail": lambda r: "not along or crossing: " + failed_txt.get(r.Index, ""),
    }
    for name in FLAG_NAMES:
        per[f"flag_{name}"] = conds[name].to_numpy(dtype=bool)
    text = []
    for r in per.itertuples():
        text.append("; ".join(f"{name.replace('_', ' ')}: {reasons[name](r)}"
                              for name in FLAG_NAMES if getattr(r, f"flag_{name}")))
    per["flags"] = text


def _summary(per: pd.DataFrame, sides: pd.DataFrame) -> pd.Series:
    named = sides["named"]
    n_named = int(named.sum())
    return pd.Series({
        "grids": float(len(per)),
        "snake_pp": float(per["flag_compactness"].sum()),
        "long_thin": float(per["flag_long_thin"].sum()),
        "strips": float(per["flag_strips"].sum()),
        "strips_atoms": float((per["strip_share_atoms"] >= STRIP_SHARE_MAX).sum()),
        "strip_joined": float(per["flag_strip_joined"].sum()),
        "wraps": float(per["flag_wraps"].sum()),
        "wraps_max": float(per["wraps"].max()) if len(per) else 0.0,
        "enclaves": float(per["enclave_of"].notna().sum()),
        "enclaves_not_dedicated": float(per["flag_enclave"].sum()),
        "empty": float(per["flag_empty"].sum()),
        "arterial_inside": float(per["flag_arterial_inside"].sum()),
        "fallback_side_share": float((~named).mean()) if len(sides) else float("nan"),
        "named_side_share": float(named.mean()) if len(sides) else float("nan"),
        "limits_no_named_side": float(per["flag_limits_unnamed"].sum()),
        "missed_sides": float(sides["missed"].sum()),
        "pass_share": float(sides.loc[named, "passes"].astype(bool).mean()) if n_named else float("nan"),
        "polsby_popper_mean": float(per["polsby_popper"].mean()) if len(per) else float("nan"),
        "hull_ratio_mean": float(per["hull_ratio"].mean()) if len(per) else float("nan"),
        "flagged": float((per["flags"] != "").sum()),
    })
