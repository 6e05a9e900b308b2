"""Four limits (四至): which road bounds each grid on the east, south, west and north.

Rule (DESIGN §4 "Four limits", §8; issue 18)
---------------------------------------------
1. A side's *body* (its fallback and the tie-break of rule 5): strips
   narrower than ``min_width_m`` are taken off each grid first
   (the bits of road space between two carriageways that a grid can hold);
   a grid made only of such strips is kept whole.
2. The body's outer boundary (exterior rings of the parts, holes ignored, rings
   oriented counter-clockwise) is cut into pieces of at most ``spacing_m``.
   A piece is on the east side when its outward normal is within 45° of east
   *and* it lies east of the grid's centroid, and so on; pieces that face one
   way but lie on the other side (the inner edges of an L or a U) count for
   no side.  A side with no piece (a triangle, say) takes the pieces whose
   normals point most nearly that way.
3. A side names a road only where issue 18's geometric check confirms it,
   measured as that check measures (``gridpart.outputs.review``): the *whole* outer
   boundary cut into pieces of ``spacing_m``, each on the side its outward
   normal faces (strips and the inner edges of an L or a U included); a named
   road (all lines of one name: a corridor of carriageways, side roads and
   sidewalks is one road, measured from its nearest line) is along a piece when
   one of its lines lies within ``near_m`` (15 m) of the piece's midpoint and
   runs within ``max_angle_deg`` (30°) of it where it passes nearest.  The road
   must be along at least ``min_named_share`` (half) of the side.
4. A named road crosses the grid, and names none of its sides, when its lines
   run ``max_inside_m`` (20 m) or more inside the grid shrunk by ``shrink_m``
   (15 m): its bounding lines; or all its lines, carriageways inside the street
   space a block took in included, when they part the grid's households (land
   of the grid beyond the road).  A grid whose edge follows the middle of a
   corridor wider than 30 m (学清路: four lines across 48 m) holds carriageways
   of it more than 15 m inside: the corridor still names the side
   (``corridor_bounds=False`` reads every line as crossing, as the check does).
5. Among the roads that qualify: the higher class (road, street, lane,
   barrier) first, then the one along more of the side's body (strips
   narrower than ``min_width_m`` and pieces beyond the centroid left out), then
   along more of the whole side, then the nearer.
6. Otherwise the side takes the fallback of the lines along its pieces
   (pieces along a named road left out where others remain), by length, on
   the side's body (strips narrower than ``min_width_m`` taken off, and a
   piece counted for the side it faces only when it lies on that side of the
   centroid):
   无名路 / 无名街 / 无名巷 / 无名界线 by class; along a community boundary the
   neighbouring community (与XX社区交界), along the study-area edge 辖区边界;
   along no line, 楼栋间 (between buildings).  Given the atoms, 楼栋间 is kept
   for a cut between two atoms of one block and names the compound or unit
   beyond it (楼栋间（邻XX）); a piece with no atom beyond it is 辖区边界.
7. A grid whose area is under ``min_area_ratio`` of its convex hull is
   ``limits_loose``: its four limits describe a larger area than the grid (a
   ring or a snake named by the four roads of a superblock).

Text: ``东至学院路，南至清华东路，西至…，北至…`` (full-width commas) and, in
English, ``East: Xueyuan Road; South: Qinghua East Road; …`` with the road's
``name_en`` where the data has one, else a romanisation (:func:`romanize`:
pinyin of the name's stem, then its direction and road type in English).
:func:`check_limits` is the geometric check of issue 18's acceptance.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import Problems
from gridpart.geometry.lines import parallel_at_nearest

__all__ = [
    "EDGE_ZH",
    "FALLBACK_EN",
    "FALLBACK_ZH",
    "SIDES",
    "check_limits",
    "four_limits",
    "is_fallback",
    "limits_text",
    "romanize",
]

#: Sides in the order of the text.
SIDES = ("east", "south", "west", "north")
_SIDE_ZH = {"east": "东", "south": "南", "west": "西", "north": "北"}
_SIDE_EN = {"east": "East", "south": "South", "west": "West", "north": "North"}
_SIDE_DIR = {"east": (1.0, 0.0), "south": (0.0, -1.0), "west": (-1.0, 0.0), "north": (0.0, 1.0)}

#: Labels for pieces of boundary along no named road, by segment kind.
FALLBACK_ZH = {
    "road": "无名路", "street": "无名街", "lane": "无名巷", "barrier": "无名界线",
    "community": "社区边界", "limit": "辖区边界", "none": "楼栋间",
}
#: English for the fallback labels.
FALLBACK_EN = {
    "无名路": "unnamed road", "无名街": "unnamed street", "无名巷": "unnamed lane",
    "无名界线": "unnamed barrier", "社区边界": "community boundary", "楼栋间": "between buildings",
    "辖区边界": "edge of the area",
}
#: The label of a side along the edge of the study area (or of a community with no neighbour there).
EDGE_ZH = "辖区边界"
_CLASS_RANK = {"road": 0, "street": 1, "lane": 2, "barrier": 3}
_KIND_ORDER = {k: i for i, k in enumerate(("road", "street", "lane", "barrier", "community", "limit"))}

# Chinese road-name endings -> English, longest first (GB/T 17733 style: 学院路 -> Xueyuan Road).
_TYPES = (
    ("高速公路", "Expressway"), ("快速路", "Expressway"), ("高速", "Expressway"), ("辅路", "Side Road"),
    ("大街", "Street"), ("大道", "Avenue"), ("胡同", "Hutong"), ("环路", "Ring Road"), ("公路", "Highway"),
    ("天桥", "Overpass"), ("路", "Road"), ("街", "Street"), ("巷", "Lane"), ("道", "Road"), ("桥", "Bridge"),
    ("河", "River"), ("渠", "Canal"), ("里", "Li"), ("社区", "Community"),
)
_DIRECTIONS = {"东": "East", "南": "South", "西": "West", "北": "North", "中": "Middle"}
_HAN = re.compile(r"[\u3400-\u9fff]")
_RUNS = re.compile(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]+")
_PUNCT = re.compile(r"[()（）·,，、\s]+")


def romanize(name: str) -> str:
    """An English rendering of a Chinese road name: pinyin stem, direction, road type.

    Names without Chinese characters are returned unchanged.  Characters are
    read with pypinyin's phrase dictionary; a polyphonic character outside a
    known phrase may get its commoner reading (京藏 -> "Jingcang", not
    "Jingzang"): give ``name_en`` (OSM ``name:en``) where that matters.

    Examples
    --------
    >>> romanize("学院路")
    'Xueyuan Road'
    >>> romanize("清华东路")
    'Qinghua East Road'
    >>> romanize("G6辅路")
    'G6 Side Road'
    """
    from pypinyin import Style, lazy_pinyin

    name = str(name).strip()
    if not _HAN.search(name):
        return name
    stem, suffix = name, ""
    for zh, en in _TYPES:
        if stem.endswith(zh) and len(stem) > len(zh):
            stem, suffix = stem[: -len(zh)], en
            break
    direction = ""
    if suffix and len(stem) > 1 and stem[-1] in _DIRECTIONS:
        stem, direction = stem[:-1], _DIRECTIONS[stem[-1]]
    words = []
    for run in _RUNS.findall(stem):
        if _HAN.match(run):
            words.append("".join(lazy_pinyin(run, style=Style.NORMAL)).capitalize())
        else:
            run = _PUNCT.sub(" ", run).strip()
            if run:
                words.append(run)
    return " ".join(w for w in (" ".join(words), direction, suffix) if w)


def _segment_labels(segments: gpd.GeoDataFrame) -> np.ndarray:
    """The label every segment gives the boundary along it: its name, else its class fallback."""
    kinds = pd.Series(segments["kind"].to_numpy(), dtype=object)
    names = (pd.Series(segments["name"].to_numpy(), dtype=object) if "name" in segments
             else pd.Series([None] * len(segments), dtype=object))
    clean = names.where(names.notna(), "").astype(str).str.strip()
    fall = kinds.map(FALLBACK_ZH).fillna(FALLBACK_ZH["limit"])
    return np.where(clean.to_numpy() != "", clean.to_numpy(), fall.to_numpy()).astype(object)


def _opened(geoms: np.ndarray, min_width_m: float) -> np.ndarray:
    """Geometries without the strips narrower than ``min_width_m`` (a morphological
    opening with mitred corners); a geometry the opening would empty is kept whole."""
    if min_width_m <= 0:
        return geoms
    half = min_width_m / 2
    geoms = shapely.make_valid(geoms)
    out = shapely.make_valid(shapely.buffer(shapely.buffer(geoms, -half, join_style="mitre"), half,
                                            join_style="mitre"))
    try:
        out = shapely.intersection(out, geoms)
    except shapely.errors.GEOSException:  # a robustness failure in GEOS: snap both to 1 mm
        out = shapely.intersection(out, geoms, grid_size=1e-3)
    lost = shapely.is_empty(out) | (shapely.area(out) < 0.5 * shapely.area(geoms))
    return np.where(lost, geoms, out)


def _pieces(geoms: np.ndarray, spacing_m: float):
    """Boundary pieces of each geometry: owner, midpoint, length, outward unit normal."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, owner = parts[poly], owner[poly]
    rings = shapely.get_exterior_ring(shapely.orient_polygons(parts, exterior_cw=False))
    rings = shapely.segmentize(rings, spacing_m)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    p, q = xy[:-1][same], xy[1:][same]
    who = owner[ring[:-1][same]]
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    ok = length > 1e-9
    p, q, d, length, who = p[ok], q[ok], d[ok], length[ok], who[ok]
    normal = np.column_stack([d[:, 1], -d[:, 0]]) / length[:, None]  # CCW exterior: outward is right
    return who, (p + q) / 2, length, normal


def _sides_of_pieces(who, mid, normal, cen) -> pd.DataFrame:
    """``piece``, ``grid``, ``side`` rows: each piece on the side it faces and lies on; a side
    no piece faces takes the pieces facing most nearly its way (a piece may then serve two)."""
    angle = np.degrees(np.arctan2(normal[:, 1], normal[:, 0]))
    side = np.select([(angle > -45) & (angle <= 45), (angle > 45) & (angle <= 135), (angle <= -45) & (angle > -135)],
                     ["east", "north", "south"], "west").astype(object)
    rel = mid - cen[who] if len(who) else np.zeros((0, 2))
    sx = np.select([side == "east", side == "west"], [1.0, -1.0], 0.0)
    sy = np.select([side == "north", side == "south"], [1.0, -1.0], 0.0)
    side[rel[:, 0] * sx + rel[:, 1] * sy <= 0] = None  # faces that way but lies on the other side
    rows = pd.DataFrame({"piece": np.arange(len(who)), "grid": who, "side": side}).dropna(subset=["side"])
    extra = []
    owners = np.unique(who)
    for s in SIDES:
        empty = np.setdiff1d(owners, who[side == s]).astype(np.int64)
        if not len(empty):
            continue
        dx, dy = _SIDE_DIR[s]
        dot = normal[:, 0] * dx + normal[:, 1] * dy
        facing = pd.DataFrame({"piece": np.arange(len(who)), "grid": who, "dot": dot})
        facing = facing[facing["grid"].isin(empty)]
        top = facing.groupby("grid")["dot"].transform("max")
        pick = facing[facing["dot"] >= top - 0.05]
        extra.append(pd.DataFrame({"piece": pick["piece"].to_numpy(), "grid": pick["grid"].to_numpy(), "side": s}))
    return pd.concat([rows, *extra], ignore_index=True) if extra else rows.reset_index(drop=True)


#: Kinds of line whose names a side may take (the plan's roads: what the review measures against).
_ROAD_KINDS = ("road", "street", "lane", "barrier")


def _side_pieces(geoms: np.ndarray, spacing_m: float):
    """Pieces of the whole outer boundary, each on the side its outward normal faces (within 45°),
    wherever it lies: owner, side, midpoint, length, unit tangent.  These are the sides the
    geometric check of issue 18 measures (``gridpart.outputs.review``), strips and the inner edges of an
    L or a U included, so a name chosen on them is one that check can confirm."""
    who, mid, length, normal = _pieces(geoms, spacing_m)
    angle = np.degrees(np.arctan2(normal[:, 1], normal[:, 0])) if len(who) else np.zeros(0)
    side = np.select([(angle > -45) & (angle <= 45), (angle > 45) & (angle <= 135), (angle <= -45) & (angle > -135)],
                     ["east", "north", "south"], "west").astype(object)
    tangent = np.column_stack([-normal[:, 1], normal[:, 0]]) if len(who) else np.zeros((0, 2))
    return who, side, mid, length, tangent


def _roads_along_sides(geoms, seg_geoms, seg_name, seg_rank, inside: pd.Series, *, spacing_m: float,
                       near_m: float, max_angle_deg: float) -> pd.DataFrame:
    """Each named road (all lines of one name: a corridor of carriageways, side roads and
    sidewalks is one road) along each side of each grid: ``grid``, ``side``, ``name``, ``share``
    (of the side's length whose pieces have a line of that name within ``near_m`` of their
    midpoint, running within ``max_angle_deg`` of the piece where it passes nearest),
    ``inside_m`` (from ``inside``, metres by grid and name inside the shrunk grid), ``rank`` (best
    class), ``d`` (mean distance over the pieces it is along)."""
    cols = ["grid", "side", "name", "share", "inside_m", "rank", "d"]
    who, side, mid, length, tangent = _side_pieces(geoms, spacing_m)
    named = np.flatnonzero(pd.notna(seg_name))
    if not len(who) or not len(named):
        return pd.DataFrame(columns=cols)
    lines, names, ranks = seg_geoms[named], seg_name[named], seg_rank[named]
    pts = shapely.points(mid)
    pi, sj = shapely.STRtree(lines).query(pts, predicate="dwithin", distance=near_m)
    keep = parallel_at_nearest(lines[sj], pts[pi], tangent[pi], max_angle_deg, slack=1e-12)
    pi, sj = pi[keep], sj[keep]
    if not len(pi):
        return pd.DataFrame(columns=cols)
    near = pd.DataFrame({"piece": pi, "name": names[sj], "rank": ranks[sj],
                         "dist": shapely.distance(pts[pi], lines[sj])})
    near = near.groupby(["piece", "name"], sort=False).agg(rank=("rank", "min"), dist=("dist", "min")).reset_index()
    p = near["piece"].to_numpy()
    near["grid"], near["side"], near["len"] = who[p], side[p], length[p]
    near["dlen"] = near["dist"] * near["len"]
    out = near.groupby(["grid", "side", "name"], sort=False).agg(
        len=("len", "sum"), rank=("rank", "min"), dlen=("dlen", "sum")).reset_index()
    side_len = pd.Series(length).groupby([who, side]).sum()
    out["share"] = out["len"].to_numpy() / side_len.reindex(
        pd.MultiIndex.from_frame(out[["grid", "side"]])).to_numpy()
    out["d"] = out["dlen"] / out["len"]
    out["inside_m"] = inside.reindex(pd.MultiIndex.from_frame(out[["grid", "name"]])).fillna(0.0).to_numpy()
    return out[cols]


def _parts_households(geoms, seg_geoms, seg_name, pairs: pd.DataFrame, atoms) -> dict:
    """For (grid, name) pairs: whether the lines of that name part the grid's households (the
    grid cut along them has two or more parts holding an atom with households).  Unknown (no
    atoms) is True: the road is then taken to cross the grid."""
    out: dict = {}
    if atoms is None or not len(atoms):
        return {(g, nm): True for g, nm in zip(pairs["grid"], pairs["name"])}
    held = atoms[atoms["households"].to_numpy(dtype=float) > 0] if "households" in atoms else atoms
    pts = shapely.point_on_surface(np.asarray(held.geometry.values, dtype=object))
    tree = shapely.STRtree(pts)
    for g, nm in zip(pairs["grid"].to_numpy(), pairs["name"].to_numpy()):
        geom = shapely.make_valid(geoms[g])
        lines = seg_geoms[(seg_name == nm)]
        lines = lines[shapely.intersects(lines, geom)]
        inner = pts[tree.query(geom, predicate="contains")]
        if len(inner) < 2 or not len(lines):
            out[(g, nm)] = False
            continue
        try:
            cut = shapely.difference(geom, shapely.buffer(shapely.union_all(lines), 0.5))
        except shapely.errors.GEOSException:
            cut = shapely.difference(geom, shapely.buffer(shapely.union_all(lines), 0.5), grid_size=1e-3)
        parts = shapely.get_parts(cut)
        pi, _ = shapely.STRtree(inner).query(parts, predicate="contains")
        out[(g, nm)] = len(np.unique(pi)) >= 2
    return out


def _straight_parts(seg_geoms, max_len_m: float = 25.0):
    """The lines cut into straight two-point parts: start and end coordinates and owner index."""
    parts, owner = shapely.get_parts(seg_geoms, return_index=True)
    xy, idx = shapely.get_coordinates(shapely.segmentize(parts, max_len_m), return_index=True)
    same = idx[1:] == idx[:-1]
    a, b = xy[:-1][same], xy[1:][same]
    keep = np.hypot(*(b - a).T) > 1e-9
    return a[keep], b[keep], owner[idx[:-1][same][keep]]


def _candidates(mid, tangent, seg_geoms, *, near_m: float, snap_m: float, max_angle_deg: float):
    """Pairs (piece, segment) of lines within ``near_m`` of a piece's midpoint, their distance,
    and whether the line runs along the piece: within ``snap_m``, or beside it (not beyond its
    end) and within ``max_angle_deg`` of parallel to it.  A segment may appear more than once
    (once per straight part of it)."""
    if not len(seg_geoms) or not len(mid):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool)
    a, b, owner = _straight_parts(seg_geoms)
    pi, k = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1))).query(
        shapely.points(mid), predicate="dwithin", distance=near_m)
    p, a, b = mid[pi], a[k], b[k]
    d = b - a
    norm2 = (d * d).sum(axis=1)
    t = np.clip(((p - a) * d).sum(axis=1) / norm2, 0.0, 1.0)
    off = p - (a + t[:, None] * d)
    dist = np.hypot(off[:, 0], off[:, 1])
    norm = np.sqrt(norm2)
    cos = np.abs((d * tangent[pi]).sum(axis=1)) / norm
    with np.errstate(invalid="ignore", divide="ignore"):
        across = np.abs((off * d).sum(axis=1)) / (norm * dist)  # 0: the offset is across the line
    angle = np.radians(max_angle_deg)
    ok = (dist <= snap_m) | ((cos >= np.cos(angle) - 1e-12) & (np.nan_to_num(across, nan=0.0) <= np.sin(angle)))
    return pi, owner[k], dist, ok


def _inside_table(geoms, seg_geoms, seg_names, *, shrink_m: float) -> pd.DataFrame:
    """Metres of each named line inside each grid shrunk by ``shrink_m``: ``grid``, ``seg``, ``name``, ``m``."""
    empty = pd.DataFrame({"grid": np.zeros(0, np.int64), "seg": np.zeros(0, np.int64), "name": [], "m": []})
    named = np.flatnonzero(pd.notna(seg_names))
    if not len(geoms) or not len(named):
        return empty
    shrunk = shapely.buffer(shapely.make_valid(geoms), -shrink_m)
    if shapely.is_empty(shrunk).all():
        return empty
    gi, sj = shapely.STRtree(seg_geoms[named]).query(shrunk, predicate="intersects")
    if not len(gi):
        return empty
    length = shapely.length(shapely.intersection(seg_geoms[named][sj], shrunk[gi]))
    return pd.DataFrame({"grid": gi, "seg": named[sj], "name": seg_names[named][sj], "m": length})


def _inside_lengths(geoms, seg_geoms, seg_names, *, shrink_m: float) -> pd.Series:
    """Metres of each named road inside each grid shrunk by ``shrink_m``, by (grid, name)."""
    table = _inside_table(geoms, seg_geoms, seg_names, shrink_m=shrink_m)
    return table.groupby(["grid", "name"])["m"].sum() if len(table) else pd.Series(dtype=float)


def _community_name(name, cid) -> str:
    name = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name).strip()
    if not name:
        return f"{cid}号社区"
    return name if (name.endswith("社区") or not _HAN.search(name)) else name + "社区"


def _edge_labels(mid, who, kinds, grids, communities, *, near_m: float, en: dict) -> np.ndarray:
    """Labels of pieces along a community boundary or the study-area edge: the neighbouring
    community (与XX社区交界) within ``near_m`` of the piece, else the edge of the area (辖区边界)."""
    out = np.full(len(mid), EDGE_ZH, dtype=object)
    out[kinds == "community"] = FALLBACK_ZH["community"]
    own = grids["community_id"].astype(str).to_numpy() if "community_id" in grids else None
    if communities is None and own is not None:
        communities = grids[["community_id", "geometry"]].assign(community_id=own).dissolve("community_id")
        communities = communities.reset_index()
    if own is None or communities is None or not len(communities) or "community_id" not in communities:
        return out
    cid = communities["community_id"].astype(str).to_numpy()
    cname = communities["name"].to_numpy() if "name" in communities else np.full(len(cid), None)
    cname_en = communities["name_en"].to_numpy() if "name_en" in communities else np.full(len(cid), None)
    pts = shapely.points(mid)
    pi, cj = shapely.STRtree(communities.geometry.values).query(pts, predicate="dwithin", distance=near_m)
    other = cid[cj] != own[who[pi]]
    pi, cj = pi[other], cj[other]
    d = shapely.distance(pts[pi], communities.geometry.values[cj])
    best = pd.DataFrame({"p": pi, "c": cj, "d": d}).sort_values(["p", "d", "c"]).drop_duplicates("p")
    for p, c in zip(best["p"].to_numpy(), best["c"].to_numpy()):
        zh = _community_name(cname[c], cid[c])
        label = f"与{zh}交界"
        out[p] = label
        name_en = cname_en[c] if isinstance(cname_en[c], str) and cname_en[c].strip() else romanize(zh)
        en.setdefault(label, f"border with {name_en}")
    return out


def _cut_labels(mid, normal, atoms, parcels, *, probe_m: float, en: dict) -> np.ndarray:
    """Labels of pieces along no line, given the atoms: a cut between the buildings of one
    block is 楼栋间 with the compound or unit on the other side (楼栋间（邻XX）); a piece with no
    atom beyond it is the edge of the area (辖区边界); anything else (None) keeps the
    nearest line's label."""
    out = np.full(len(mid), None, dtype=object)
    geoms = atoms.geometry.values
    tree = shapely.STRtree(geoms)
    inner, outer = shapely.points(mid - normal * probe_m), shapely.points(mid + normal * probe_m)

    def first_hit(pts):
        p, a = tree.query(pts, predicate="intersects")
        hit = np.full(len(pts), -1, dtype=np.int64)
        hit[p[::-1]] = a[::-1]  # the first match per point
        return hit

    ai, ao = first_hit(inner), first_hit(outer)
    block = atoms["block_id"].to_numpy() if "block_id" in atoms else np.arange(len(atoms))
    cut = (ai >= 0) & (ao >= 0) & (block[np.maximum(ai, 0)] == block[np.maximum(ao, 0)])
    out[ao < 0] = EDGE_ZH
    pname = atoms["parcel_name"].to_numpy() if "parcel_name" in atoms else np.full(len(atoms), None)
    landmark = np.full(len(mid), None, dtype=object)
    landmark[cut] = pname[ao[cut]]
    if parcels is not None and len(parcels) and "name" in parcels:
        need = np.flatnonzero(cut & pd.isna(landmark))
        named = parcels[parcels["name"].notna()]
        if len(need) and len(named):
            p, q = shapely.STRtree(named.geometry.values).query(outer[need], predicate="intersects")
            landmark[need[p[::-1]]] = named["name"].to_numpy()[q[::-1]]
    for i in np.flatnonzero(cut):
        name = landmark[i]
        if isinstance(name, str) and name.strip():
            label = f"{FALLBACK_ZH['none']}（邻{name.strip()}）"
            en.setdefault(label, f"{FALLBACK_EN[FALLBACK_ZH['none']]} (next to {romanize(name.strip())})")
        else:
            label = FALLBACK_ZH["none"]
        out[i] = label
    return out


def four_limits(
    grids: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    spacing_m: float = 5.0,
    snap_m: float = 2.0,
    min_named_share: float = 0.5,
    min_width_m: float = 12.0,
    near_m: float = 15.0,
    max_angle_deg: float = 30.0,
    shrink_m: float = 15.0,
    max_inside_m: float = 20.0,
    min_area_ratio: float = 0.5,
    corridor_bounds: bool = True,
    atoms: gpd.GeoDataFrame | None = None,
    parcels: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The label of each side of each grid, and the four-limit text in Chinese and English.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons in a projected CRS (metres); ``community_id`` optional
        (it lets a community boundary name the community beyond it).
    segments : GeoDataFrame
        The noded linework the grids were cut along, same CRS: ``kind``
        (road/street/lane/barrier/community/limit), ``name``, optional
        ``name_en`` (as :func:`gridpart.geometry.blocks.noded_segments` returns).
    spacing_m : float
        Longest boundary piece, in metres.
    snap_m : float
        A line this close to a piece's midpoint runs along it whatever its direction.
    min_named_share : float
        Share of a side a named road must run along (within ``near_m``) to name it.
    min_width_m : float
        Strips narrower than this are left out (0 keeps everything).
    near_m : float
        How far from a side a road running along it may lie (carriageways,
        sidewalks and the middle of street space are this far apart).
    max_angle_deg : float
        A line farther than ``snap_m`` runs along a piece only within this angle of parallel.
    shrink_m, max_inside_m : float
        A named road with ``max_inside_m`` metres or more inside the grid shrunk
        by ``shrink_m`` crosses the grid and names none of its sides.
    min_area_ratio : float
        A grid whose area is below this share of its convex hull (the area its
        four limits enclose) is flagged ``limits_loose``.
    corridor_bounds : bool
        A grid whose edge runs along the middle of a wide road corridor (学清路:
        four lines of one name across 48 m) holds carriageways of that road more
        than ``shrink_m`` inside it.  True: those lines (the ones inside the street
        space a block took in, ``street_space``) cross the grid only where they
        part its households (needs ``atoms``), and the corridor names the side.
        False: any line of the road inside the shrunk grid counts, as in the
        geometric check of issue 18 (such a side then takes a fallback).
    atoms : GeoDataFrame, optional
        The atoms (``block_id``, ``parcel_name``, geometry): with them a piece
        along no line is 楼栋间 only where it cuts one block, and then names the
        compound or unit beyond it; beyond the last atom it is 辖区边界.
    parcels : GeoDataFrame, optional
        Named parcels (``name``): landmarks for cuts whose atoms carry no name.
    communities : GeoDataFrame, optional
        ``community_id``, ``name`` (``name_en``): the neighbour a community
        boundary names (与XX社区交界); without it the grids' communities are used.

    Returns
    -------
    DataFrame
        Index of ``grids``: ``east``, ``south``, ``west``, ``north`` (labels
        in Chinese), ``east_en`` … ``north_en``, ``limits`` (Chinese text),
        ``limits_en``, ``limits_area_ratio`` (area ÷ convex hull),
        ``limits_loose`` (bool: the limits describe a larger area than the
        grid) and ``limits_loose_reason`` (English, empty when not loose).

    Raises
    ------
    InputError
        A geographic CRS, a CRS mismatch, missing columns, bad parameters.

    Notes
    -----
    The rules are those of the module docstring: a named road within
    ``near_m`` of at least ``min_named_share`` of the whole side and parallel
    to it there (the measure of issue 18's check), not crossing the grid, names
    it (higher class first, then the longer run along the side's body, then
    the nearer); else the side's fallback by length.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> box = shapely.box(0, 0, 100, 100)
    >>> segs = gpd.GeoDataFrame({"kind": ["road", "street", "lane", "limit"],
    ...     "name": ["学院路", "清华东路", None, None], "name_en": [None, None, None, None]},
    ...     geometry=[shapely.LineString([(100, 0), (100, 100)]), shapely.LineString([(0, 0), (100, 0)]),
    ...               shapely.LineString([(0, 0), (0, 100)]), shapely.LineString([(0, 100), (100, 100)])],
    ...     crs=32650)
    >>> out = four_limits(gpd.GeoDataFrame(geometry=[box], crs=32650), segs)
    >>> out.loc[0, "limits"]
    '东至学院路，南至清华东路，西至无名巷，北至辖区边界'
    >>> out.loc[0, "limits_en"]
    'East: Xueyuan Road; South: Qinghua East Road; West: unnamed lane; North: edge of the area'

    A carriageway 10 m beyond the boundary names the side before the unnamed
    sidewalk on it:

    >>> segs = gpd.GeoDataFrame({"kind": ["lane", "road"], "name": [None, "清华东路"]},
    ...     geometry=[shapely.LineString([(-20, 0), (120, 0)]), shapely.LineString([(-20, -10), (120, -10)])],
    ...     crs=32650)
    >>> four_limits(gpd.GeoDataFrame(geometry=[box], crs=32650), segs).loc[0, "south"]
    '清华东路'
    """
    _check_args(grids, segments, atoms=atoms, parcels=parcels, communities=communities, spacing_m=spacing_m,
                snap_m=snap_m, min_named_share=min_named_share, min_width_m=min_width_m, near_m=near_m,
                max_angle_deg=max_angle_deg, shrink_m=shrink_m, max_inside_m=max_inside_m,
                min_area_ratio=min_area_ratio)

    geoms = np.asarray(grids.geometry.values, dtype=object)
    who, mid, length, normal = _pieces(_opened(geoms, float(min_width_m)), float(spacing_m))
    cen = shapely.get_coordinates(shapely.centroid(geoms))
    rows = _sides_of_pieces(who, mid, normal, cen)
    rows["len"] = length[rows["piece"].to_numpy()]
    seg_geoms = np.asarray(segments.geometry.values, dtype=object)
    seg_kind = segments["kind"].astype(object).to_numpy()
    raw_names = segments["name"].to_numpy() if "name" in segments else np.full(len(segments), None)
    clean = pd.Series(raw_names, dtype=object)
    clean = clean.where(clean.notna(), "").astype(str).str.strip()
    seg_name = np.where(clean.to_numpy() != "", clean.to_numpy(), None).astype(object)
    rank = pd.Series(seg_kind).map(_CLASS_RANK).fillna(len(_CLASS_RANK)).to_numpy()
    pts = shapely.points(mid) if len(mid) else np.zeros(0, dtype=object)
    tangent = np.column_stack([-normal[:, 1], normal[:, 0]]) if len(mid) else np.zeros((0, 2))
    pi, sj, dist, along = _candidates(mid, tangent, seg_geoms, near_m=float(near_m), snap_m=float(snap_m),
                               max_angle_deg=float(max_angle_deg))

    # named roads: the length of each side they run along, unless they cross the grid
    cand = pd.DataFrame({"piece": pi, "name": seg_name[sj], "rank": rank[sj], "d": dist, "along": along})
    cand = cand.dropna(subset=["name"]).groupby(["piece", "name"], sort=False).agg(
        rank=("rank", "min"), d=("d", "min"), along=("along", "any")).reset_index()
    named = rows.merge(cand, on="piece")
    # lines inside the street space a block took in (the carriageways either side of a
    # median whose middle the grid's edge follows) are the road the grid is bounded by
    in_space = (segments["street_space"].fillna(False).to_numpy(dtype=bool) if "street_space" in segments
                else np.zeros(len(segments), bool))
    road_line = np.isin(seg_kind, _ROAD_KINDS)
    # one overlay for both readings: the bounding lines, and every road line (rule 4)
    table = _inside_table(geoms, seg_geoms, np.where(~in_space | road_line, seg_name, None), shrink_m=float(shrink_m))
    seg_of = table["seg"].to_numpy()

    def by_road(mask):
        t = table[mask[seg_of]]
        return t.groupby(["grid", "name"])["m"].sum() if len(t) else pd.Series(dtype=float)

    inside, inside_all = by_road(~in_space), by_road(road_line)
    crossing = inside.index[inside.to_numpy() >= max_inside_m] if max_inside_m > 0 else inside.index
    if len(crossing) and len(named):
        named = named[~pd.MultiIndex.from_arrays([named["grid"], named["name"]]).isin(crossing)]
    side_len = rows.groupby(["grid", "side"])["len"].sum()
    named = named.assign(dlen=named["d"] * named["len"], plen=named["len"] * named["along"])
    agg = named.groupby(["grid", "side", "name"]).agg(len=("len", "sum"), plen=("plen", "sum"), rank=("rank", "min"),
                                                       dlen=("dlen", "sum")).reset_index()
    agg["d"] = agg["dlen"] / agg["len"]
    total = side_len.reindex(pd.MultiIndex.from_frame(agg[["grid", "side"]])).to_numpy()
    agg["share"] = agg["len"].to_numpy() / total  # within near_m
    agg["pshare"] = agg["plen"].to_numpy() / total  # within near_m and along
    # the name: a named road along at least ``min_named_share`` of the side as the geometric check
    # measures it (the whole outer boundary, by outward normal) and not crossing the grid
    # crossing: the road's bounding lines run ``max_inside_m`` or more inside the grid shrunk by
    # ``shrink_m``; or all its lines do (carriageways and side roads inside the street space a block
    # took in, too) and they part the grid's households (land of the grid on both sides of the road)
    along_sides = _roads_along_sides(geoms, seg_geoms, np.where(road_line, seg_name, None), rank, inside_all,
                                     spacing_m=float(spacing_m), near_m=float(near_m),
                                     max_angle_deg=float(max_angle_deg))
    key = pd.MultiIndex.from_frame(along_sides[["grid", "name"]])
    along_sides["inside_bounding_m"] = inside.reindex(key).fillna(0.0).to_numpy()
    long_enough = (along_sides["share"] >= min_named_share - 1e-9) & (along_sides["share"] > 0)
    if max_inside_m > 0:
        crosses = along_sides["inside_bounding_m" if corridor_bounds else "inside_m"] >= max_inside_m
        doubt = long_enough & ~crosses & (along_sides["inside_m"] >= max_inside_m)
        if doubt.any():
            pairs = along_sides.loc[doubt, ["grid", "name"]].drop_duplicates()
            parted = _parts_households(geoms, seg_geoms, seg_name, pairs, atoms)
            crosses = crosses | (doubt & pd.Series(list(zip(along_sides["grid"], along_sides["name"])),
                                                   index=along_sides.index).map(parted).fillna(True).astype(bool))
    else:
        crosses = pd.Series(True, index=along_sides.index) if len(along_sides) else pd.Series(dtype=bool)
    ok = along_sides[long_enough & ~crosses]
    # among those: the higher class, then the road along more of the side's body (strips left
    # out, pieces on the far side of the centroid left out), then along more of the whole side,
    # then the nearer
    body = agg.set_index(["grid", "side", "name"])
    key = pd.MultiIndex.from_frame(ok[["grid", "side", "name"]])
    ok = ok.assign(body=body["pshare"].reindex(key).fillna(0.0).to_numpy(),
                   body_d=body["d"].reindex(key).fillna(np.inf).to_numpy())
    best_named = (ok.sort_values(["grid", "side", "rank", "body", "share", "body_d", "d", "name"],
                                 ascending=[True, True, True, False, False, True, True, True])
                  .drop_duplicates(["grid", "side"]).set_index(["grid", "side"])["name"])

    # fallbacks: the nearest line along each piece
    en: dict[str, str] = {}
    piece_label = _fallback_labels(pi, sj, dist, along, mid=mid, who=who, normal=normal, pts=pts,
                                   seg_geoms=seg_geoms, seg_kind=seg_kind, grids=grids, communities=communities,
                                   atoms=atoms, parcels=parcels, near_m=near_m, en=en)
    rows["label"] = piece_label[rows["piece"].to_numpy()]
    keys = ["piece", "grid", "side"]
    rows["covered"] = (pd.MultiIndex.from_frame(rows[keys])
                       .isin(pd.MultiIndex.from_frame(named.loc[named["along"], keys]))
                       if len(rows) else np.zeros(0, bool))
    # pieces along a named road that names no side: out of the vote where other pieces remain
    # (a side along named roads only, none of them along half of it, votes with all its pieces)
    rest = rows[~rows["covered"] | rows.groupby(["grid", "side"])["covered"].transform("all")]
    fb = rest.groupby(["grid", "side", "label"])["len"].sum().reset_index()
    best_fb = (fb.sort_values(["grid", "side", "len", "label"], ascending=[True, True, False, True])
               .drop_duplicates(["grid", "side"]).set_index(["grid", "side"])["label"])
    best = best_named.combine_first(best_fb)

    return _limits_table(best, grids, geoms, segments, en, min_area_ratio)


def _check_args(grids, segments, *, atoms, parcels, communities, spacing_m, snap_m, min_named_share,
                min_width_m, near_m, max_angle_deg, shrink_m, max_inside_m, min_area_ratio) -> None:
    """Check :func:`four_limits`'s arguments; raises InputError naming every problem."""
    problems = Problems()
    for arg, gdf in (("grids", grids), ("segments", segments)):
        if not isinstance(gdf, gpd.GeoDataFrame):
            problems.add(arg, f"expected a GeoDataFrame, got {type(gdf).__name__}", fix="pass a GeoDataFrame")
        elif gdf.crs is not None and gdf.crs.is_geographic:
            problems.add(f"{arg}.crs", f"is geographic ({gdf.crs.to_string()}); limits are measured in metres",
                         fix="project both, e.g. gdf.to_crs(gdf.estimate_utm_crs())")
    problems.raise_if_any()
    if grids.crs != segments.crs:
        problems.add("segments.crs", f"{segments.crs} differs from grids.crs {grids.crs}",
                     fix="segments = segments.to_crs(grids.crs)")
    for arg, gdf in (("atoms", atoms), ("parcels", parcels), ("communities", communities)):
        if gdf is not None and isinstance(gdf, gpd.GeoDataFrame) and gdf.crs != grids.crs:
            problems.add(f"{arg}.crs", f"{gdf.crs} differs from grids.crs {grids.crs}",
                         fix=f"{arg} = {arg}.to_crs(grids.crs)")
        elif gdf is not None and not isinstance(gdf, gpd.GeoDataFrame):
            problems.add(arg, f"expected a GeoDataFrame or None, got {type(gdf).__name__}", fix=f"{arg}=None")
    if "kind" not in segments.columns:
        problems.add("segments['kind']", "the column is missing", fix="pass noded segments with kind and name")
    for name, value in (("min_width_m", min_width_m), ("shrink_m", shrink_m), ("max_inside_m", max_inside_m)):
        if not (isinstance(value, (int, float)) and value >= 0):
            problems.add(name, f"must be a number of metres >= 0, got {value!r}", fix="e.g. 12")
    for name, value in (("spacing_m", spacing_m), ("snap_m", snap_m), ("near_m", near_m)):
        if not (isinstance(value, (int, float)) and value > 0):
            problems.add(name, f"must be a positive number of metres, got {value!r}", fix=f"e.g. {name}=5")
    for name, value, hi in (("min_named_share", min_named_share, 1), ("min_area_ratio", min_area_ratio, 1),
                            ("max_angle_deg", max_angle_deg, 90)):
        if not (isinstance(value, (int, float)) and 0 <= value <= hi):
            problems.add(name, f"must lie in [0, {hi}], got {value!r}", fix=f"e.g. {name}={hi / 2}")
    problems.raise_if_any()


def _fallback_labels(pi, sj, dist, along, *, mid, who, normal, pts, seg_geoms, seg_kind, grids, communities,
                     atoms, parcels, near_m, en: dict[str, str]) -> np.ndarray:
    """The fallback label of each boundary piece: the class of the nearest line along it, the edge, or the cut."""
    # lines of a kind with no fallback (a user's own) label nothing
    usable = along & np.isin(seg_kind[sj], list(_KIND_ORDER))
    near = pd.DataFrame({"piece": pi[usable], "seg": sj[usable], "d": dist[usable],
                         "prio": [_KIND_ORDER[k] for k in seg_kind[sj[usable]]]})
    near = near.sort_values(["piece", "d", "prio", "seg"]).drop_duplicates("piece")
    piece_seg = np.full(len(mid), -1, dtype=np.int64)
    piece_seg[near["piece"].to_numpy()] = near["seg"].to_numpy()
    piece_kind = np.where(piece_seg >= 0, seg_kind[np.maximum(piece_seg, 0)], "none").astype(object)
    piece_label = pd.Series(piece_kind).map(FALLBACK_ZH).fillna(FALLBACK_ZH["limit"]).to_numpy().astype(object)
    edge = np.isin(piece_kind, ["community", "limit"])
    if edge.any():
        piece_label[edge] = _edge_labels(mid[edge], who[edge], piece_kind[edge], grids, communities,
                                         near_m=float(near_m), en=en)
    lone = piece_kind == "none"
    if lone.any() and atoms is not None and len(atoms):
        cut = _cut_labels(mid[lone], normal[lone], atoms, parcels, probe_m=2.0, en=en)
        unknown = pd.isna(cut)
        if unknown.any() and len(seg_geoms):  # neither a cut nor the edge: the nearest line's class
            idx = np.flatnonzero(lone)[unknown]
            _, q = shapely.STRtree(seg_geoms).query_nearest(pts[idx], all_matches=False)
            cut[unknown] = pd.Series(seg_kind[q]).map(FALLBACK_ZH).fillna(EDGE_ZH).to_numpy()
        cut[pd.isna(cut)] = FALLBACK_ZH["none"]
        piece_label[lone] = cut
    return piece_label


def _limits_table(best: pd.Series, grids: gpd.GeoDataFrame, geoms: np.ndarray, segments: gpd.GeoDataFrame,
                  en: dict[str, str], min_area_ratio: float) -> pd.DataFrame:
    """The sides' labels in Chinese and English, the four-limit texts and the looseness flags, one row a grid."""
    n = len(grids)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for s in SIDES:
        col = best.xs(s, level="side") if s in best.index.get_level_values("side") else pd.Series(dtype=object)
        out[s] = col.reindex(range(n)).fillna(EDGE_ZH).to_numpy()
    en_names = english_names(segments)
    labels = pd.unique(out[list(SIDES)].to_numpy().ravel())
    english = {v: en.get(v) or english_label(v, en_names) for v in labels}
    for s in SIDES:
        out[f"{s}_en"] = out[s].map(english)
    out["limits"] = limits_text(out, language="zh")
    out["limits_en"] = limits_text(out, language="en")
    area = shapely.area(geoms)
    hull = shapely.area(shapely.convex_hull(geoms))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(hull > 0, area / hull, 1.0)
    out["limits_area_ratio"] = ratio
    out["limits_loose"] = ratio < min_area_ratio
    out["limits_loose_reason"] = [
        f"the four limits enclose about {1 / r:.1f} times the grid's area (area / convex hull {r:.2f})"
        if loose else "" for r, loose in zip(ratio, out["limits_loose"])]
    out.index = grids.index
    return out


def check_limits(
    grids: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    limits: pd.DataFrame,
    *,
    near_m: float = 15.0,
    shrink_m: float = 15.0,
    max_inside_m: float = 20.0,
    min_share: float = 0.5,
    spacing_m: float = 5.0,
    min_width_m: float = 12.0,
) -> pd.DataFrame:
    """The geometric check of four limits (issue 18's acceptance), one row per grid and side.

    A side's pieces are those :func:`four_limits` uses.  A named road runs along
    a piece when any of its lines lies within ``near_m`` of the piece's midpoint
    (distance only, whatever the direction).

    Parameters
    ----------
    grids, segments : GeoDataFrame
        As for :func:`four_limits`.
    limits : DataFrame
        Index of ``grids``, with the side labels ``east`` … ``north`` (the
        output of :func:`four_limits`, or ``limit_<side>`` columns of a plan's grids).
    near_m, shrink_m, max_inside_m, min_share : float
        A named side passes when its road lies within ``near_m`` of at least
        ``min_share`` of the side and less than ``max_inside_m`` metres of it
        lie inside the grid shrunk by ``shrink_m``.
    spacing_m, min_width_m : float
        How the sides are cut into pieces (see :func:`four_limits`).

    Returns
    -------
    DataFrame
        ``grid`` (index label of ``grids``), ``side``, ``label``, ``named``
        (bool), ``side_m``, ``share`` (of the side along the named road),
        ``inside_m``, ``passes`` (named sides; True for fallbacks), ``best_road``
        and ``best_share`` (the named road, not crossing the grid, along most of
        the side) and ``misses`` (a road not crossing the grid runs along at
        least ``min_share`` of the side, and the side names none of those).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> segs = gpd.GeoDataFrame({"kind": ["road", "lane"], "name": ["清华东路", None]},
    ...     geometry=[shapely.LineString([(-20, -10), (120, -10)]), shapely.LineString([(-20, 0), (120, 0)])],
    ...     crs=32650)
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100)], crs=32650)
    >>> c = check_limits(g, segs, four_limits(g, segs)).set_index("side")
    >>> south = c.loc["south"]
    >>> south["label"], float(south["share"]), bool(south["passes"]), bool(south["misses"])
    ('清华东路', 1.0, True, False)
    """
    geoms = np.asarray(grids.geometry.values, dtype=object)
    who, mid, length, normal = _pieces(_opened(geoms, float(min_width_m)), float(spacing_m))
    rows = _sides_of_pieces(who, mid, normal, shapely.get_coordinates(shapely.centroid(geoms)))
    rows["len"] = length[rows["piece"].to_numpy()]
    names = segments["name"].to_numpy() if "name" in segments else np.full(len(segments), None)
    clean = pd.Series(names, dtype=object)
    clean = clean.where(clean.notna(), "").astype(str).str.strip()
    seg_name = np.where(clean.to_numpy() != "", clean.to_numpy(), None).astype(object)
    keep = np.flatnonzero(pd.notna(seg_name))
    seg_geoms = np.asarray(segments.geometry.values, dtype=object)[keep]
    seg_name = seg_name[keep]
    pi, sj = (shapely.STRtree(seg_geoms).query(shapely.points(mid), predicate="dwithin", distance=near_m)
              if len(seg_geoms) and len(mid) else (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    near = pd.DataFrame({"piece": pi, "name": seg_name[sj]}).drop_duplicates()
    inside = _inside_lengths(geoms, seg_geoms, seg_name, shrink_m=float(shrink_m))
    cov = rows.merge(near, on="piece").groupby(["grid", "side", "name"])["len"].sum().reset_index()
    side_len = rows.groupby(["grid", "side"])["len"].sum()
    cov["share"] = cov["len"].to_numpy() / side_len.reindex(pd.MultiIndex.from_frame(cov[["grid", "side"]])).to_numpy()
    cov["inside_m"] = [float(inside.get((g, nm), 0.0)) for g, nm in zip(cov["grid"], cov["name"])]
    free = cov[cov["inside_m"] < max_inside_m]
    top = (free.sort_values(["grid", "side", "share", "name"], ascending=[True, True, False, True])
           .drop_duplicates(["grid", "side"]).set_index(["grid", "side"]))
    cov = cov.set_index(["grid", "side", "name"])
    out = []
    index = grids.index
    for g in range(len(grids)):
        for s in SIDES:
            label = limits[s].iloc[g] if s in limits else limits[f"limit_{s}"].iloc[g]
            named = not is_fallback(label)
            share = float(cov["share"].get((g, s, label), 0.0)) if named else np.nan
            inside_m = float(inside.get((g, label), 0.0)) if named else np.nan
            ok = share >= min_share and inside_m < max_inside_m if named else True
            major = free[(free["grid"] == g) & (free["side"] == s) & (free["share"] >= min_share)]["name"]
            out.append({"grid": index[g], "side": s, "label": label, "named": named,
                        "side_m": float(side_len.get((g, s), 0.0)), "share": share, "inside_m": inside_m,
                        "passes": bool(ok),
                        "best_road": top["name"].get((g, s)), "best_share": float(top["share"].get((g, s), 0.0)),
                        "misses": bool(len(major)) and label not in set(major)})
    return pd.DataFrame(out)


def is_fallback(label: str) -> bool:
    """Whether a side label is a fallback (no road name): 无名路/街/巷, 无名界线, 社区边界,
    与XX社区交界, 辖区边界 or 楼栋间 (with or without a landmark).

    Examples
    --------
    >>> [is_fallback(x) for x in ("学院路", "无名巷", "与学院路社区交界", "楼栋间（邻静淑苑）", "辖区边界")]
    [False, True, True, True, True]
    """
    label = str(label)
    return (label in FALLBACK_ZH.values() or label == EDGE_ZH or label.startswith(FALLBACK_ZH["none"])
            or (label.startswith("与") and label.endswith("交界")))


def english_names(segments: gpd.GeoDataFrame) -> dict[str, str]:
    """The English name of each Chinese road name: the most frequent ``name_en`` beside it.

    Examples
    --------
    >>> import geopandas as gpd
    >>> roads = gpd.GeoDataFrame({"name": ["学院路"] * 3, "name_en": ["Xueyuan Rd", "Xueyuan Road", "Xueyuan Road"]})
    >>> english_names(roads)
    {'学院路': 'Xueyuan Road'}
    """
    if "name_en" not in segments.columns or "name" not in segments.columns:
        return {}
    pairs = segments.loc[segments["name"].notna() & segments["name_en"].notna(), ["name", "name_en"]]
    pairs = pairs.astype(str)
    # the most frequent English name per Chinese name (ties: alphabetical)
    counts = pairs.groupby(["name", "name_en"]).size().reset_index(name="n")
    counts = counts.sort_values(["name", "n", "name_en"], ascending=[True, False, True]).drop_duplicates("name")
    return dict(zip(counts["name"].str.strip(), counts["name_en"].str.strip()))


def english_label(label: str, en_names: dict[str, str]) -> str:
    """A side label in English: the fallback's translation, the road's English name, else pinyin.

    Examples
    --------
    >>> english_label("社区边界", {}), english_label("学院路", {"学院路": "Xueyuan Road"})
    ('community boundary', 'Xueyuan Road')
    """
    if label in FALLBACK_EN:
        return FALLBACK_EN[label]
    return en_names.get(label) or romanize(label)


def limits_text(sides: pd.DataFrame, *, language: str = "zh") -> pd.Series:
    """Four-limit text from side labels.

    Parameters
    ----------
    sides : DataFrame
        ``east``, ``south``, ``west``, ``north`` (and ``<side>_en`` for English).
    language : {"zh", "en"}

    Returns
    -------
    Series of str, index of ``sides``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"east": ["学院路"], "south": ["无名巷"], "west": ["楼栋间"], "north": ["社区边界"]})
    >>> limits_text(s).iloc[0]
    '东至学院路，南至无名巷，西至楼栋间，北至社区边界'
    """
    if language not in ("zh", "en"):
        problems = Problems()
        problems.add("language", f"must be 'zh' or 'en', got {language!r}", fix="language='zh'")
        problems.raise_if_any()
    if language == "zh":
        parts = [_SIDE_ZH[s] + "至" + sides[s].astype(str) for s in SIDES]
        sep = "，"
    else:
        parts = [_SIDE_EN[s] + ": " + sides[f"{s}_en"].astype(str) for s in SIDES]
        sep = "; "
    text = parts[0]
    for p in parts[1:]:
        text = text + sep + p
    return text
