"""Street blocks and atoms: the faces of the noded road network.

Blocks are the faces of the road centrelines (lanes included), barriers,
community boundaries and the study-area limit, noded together and
polygonized (as in momepy's ``enclosures``).  Slivers (the thin strips
between a carriageway and its sidewalk, say) are merged into the neighbour
they share most boundary with, so the blocks still tile the area.  Household
points are attached to blocks; blocks holding more households than the band
allows are cut into *building cells* (a Voronoi tessellation of their distinct
household locations, clipped to the block), which become atoms of their own.

All geometry here is in the metric working CRS.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import BigBlockWarning

__all__ = [
    "KIND_PRIORITY",
    "Blocks",
    "noded_segments",
    "faces",
    "blocks_from_roads",
    "close_undershoots",
    "attach_households",
    "split_big_blocks",
    "surface_blocks",
    "share_out_gaps",
    "absorb_hubs",
    "street_space",
    "share_street_space",
    "STREET_SPACE_WIDTH_M",
    "close_gaps",
    "dead_end_pieces",
]

log = logging.getLogger(__name__)

#: When linework of several kinds coincides, the first kind here names the
#: noded segment (a road that is also the community boundary is a road).
KIND_PRIORITY = ("road", "street", "lane", "barrier", "community", "limit")

#: Household points within this distance of a block (on a centreline, or a
#: little outside the limit) are attached to the nearest block.
SNAP_DISTANCE_M = 30.0

#: A line that ends this close to another line without touching it (an
#: undershoot: digitising, reprojection or a GCJ-02 round trip leaves T-junctions
#: a hair short) is extended to cross it, so the block it closes is closed.
UNDERSHOOT_M = 0.5

#: Household-free faces narrower than this nearly everywhere are street space
#: (medians, carriageway–sidewalk corridors, gaps between tracks), not blocks.
STREET_SPACE_WIDTH_M = 20.0
#: A face is "narrow nearly everywhere" when its opening by half the width
#: keeps less than this share of its area.
STREET_SPACE_OPEN_SHARE = 0.25
#: Household-free bands up to this mean width that are long (see
#: :data:`STRIP_ELONGATION`) or sprawling are street space too: the green
#: belts, rivers and rail corridors that run along arterials.
STRIP_WIDTH_M = 36.0
#: Length over width of the oriented bounding rectangle from which a band is long.
STRIP_ELONGATION = 6.0
#: Polsby–Popper below which a household-free band is sprawling.
STRIP_POLSBY_POPPER = 0.15
#: Household-free faces with at least this share of their boundary on the study
#: area's edge are margin (the land beyond the last road), shared like street space.
MARGIN_LIMIT_SHARE = 0.3
#: A boundary drawn through street space takes the nearest road; roads up to this
#: much farther compete, and the higher class wins.
NEAREST_ROAD_SLACK_M = 2.0
#: Grid (metres) that blocks grown over street space are snapped to.
SHARE_GRID_M = 0.01


@dataclass(frozen=True)
class Blocks:
    """Street blocks and the linework that bounds them (metric CRS).

    Attributes
    ----------
    blocks : GeoDataFrame
        One row per block: ``block_id`` (0..n-1, canonical order),
        ``community_id``, ``area_m2``, geometry.
    segments : GeoDataFrame
        The noded linework: ``kind`` (road/street/lane/barrier/community/limit),
        ``name``, ``name_en``, ``length_m``, geometry; ``street_space`` marks
        the lines that now run inside a block, in the street space it took in
        (the carriageways either side of a median), and the lines drawn
        through street space between blocks follow.
    """

    blocks: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame
    #: every free end of the linework: ``closed`` (joined across a small gap) and
    #: ``reason`` (see :func:`close_gaps`); ``None`` where not computed
    dead_ends: gpd.GeoDataFrame | None = None


def noded_segments(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Node linework and give every noded piece the attributes of its source.

    Parameters
    ----------
    lines : GeoDataFrame
        Linear geometries with ``kind`` and ``name`` (``name_en`` optional).

    Returns
    -------
    GeoDataFrame
        One row per noded piece with ``kind``, ``name``, ``name_en``,
        ``length_m``; where lines of several kinds coincide the piece takes the
        first kind of :data:`KIND_PRIORITY`.
    """
    geoms = shapely.force_2d(lines.geometry.values)
    noded = shapely.get_parts(shapely.union_all(geoms))
    noded = noded[~shapely.is_empty(noded) & (shapely.length(noded) > 0)]
    if len(noded) == 0:
        return gpd.GeoDataFrame(
            {"kind": [], "name": [], "name_en": [], "length_m": []}, geometry=[], crs=lines.crs
        )
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    seg_idx, src_idx = tree.query(mid, predicate="dwithin", distance=1e-6)
    priority = {k: i for i, k in enumerate(KIND_PRIORITY)}
    kinds = lines["kind"].to_numpy()
    names = lines["name"].to_numpy() if "name" in lines else np.full(len(lines), None)
    names_en = lines["name_en"].to_numpy() if "name_en" in lines else np.full(len(lines), None)
    cand = pd.DataFrame(
        {
            "seg": seg_idx,
            "src": src_idx,
            "prio": [priority.get(k, len(priority)) for k in kinds[src_idx]],
            "unnamed": pd.isna(names[src_idx]),
        }
    ).sort_values(["seg", "prio", "unnamed", "src"], kind="stable")
    best = cand.drop_duplicates("seg")
    out_kind = np.full(len(noded), "limit", dtype=object)
    out_name = np.full(len(noded), None, dtype=object)
    out_name_en = np.full(len(noded), None, dtype=object)
    out_kind[best["seg"].to_numpy()] = kinds[best["src"].to_numpy()]
    out_name[best["seg"].to_numpy()] = names[best["src"].to_numpy()]
    out_name_en[best["seg"].to_numpy()] = names_en[best["src"].to_numpy()]
    return gpd.GeoDataFrame(
        {"kind": out_kind, "name": out_name, "name_en": out_name_en, "length_m": shapely.length(noded)},
        geometry=noded,
        crs=lines.crs,
    )


def _shared_length(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Length of the common boundary of polygon pairs ``a[i]``, ``b[i]``."""
    inter = shapely.intersection(shapely.boundary(a), shapely.boundary(b), grid_size=None)
    return shapely.length(inter)


def merge_into_neighbours(
    polys: np.ndarray, small: np.ndarray, group: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Merge the polygons flagged ``small`` into the neighbour sharing most boundary.

    A small polygon goes to its neighbour with the longest common boundary,
    preferring neighbours that are not small; between small polygons only
    towards a larger one (ties by index), so chains of slivers end in a big
    polygon and no two polygons swap.

    Returns the new polygon array and, for every input polygon, the index of the
    output polygon it went into.  A small polygon with no neighbour along a
    line is kept on its own.  With ``group`` (a label per polygon, such as its
    community), polygons only merge within their group.
    """
    n = len(polys)
    target = np.arange(n)
    small_idx = np.flatnonzero(small)
    if len(small_idx) and n > 1:
        tree = shapely.STRtree(polys)
        s, b = tree.query(polys[small_idx], predicate="intersects")
        s = small_idx[s]
        keep = s != b
        s, b = s[keep], b[keep]
        if len(s):
            area = shapely.area(polys)
            length = _shared_length(polys[s], polys[b])
            cand = pd.DataFrame({"s": s, "b": b, "len": length, "b_small": small[b]})
            # towards a non-small neighbour, or a larger small one
            larger = (area[b] > area[s]) | ((area[b] == area[s]) & (b > s))
            same = np.ones(len(s), bool) if group is None else (group[s] == group[b])
            cand = cand[(cand["len"] > 0) & (~cand["b_small"] | larger) & same]
            cand = cand.sort_values(["s", "b_small", "len", "b"], ascending=[True, True, False, True])
            best = cand.drop_duplicates("s")
            target[best["s"].to_numpy()] = best["b"].to_numpy()
            for _ in range(64):  # follow chains small -> small -> big
                nxt = target[target]
                if np.array_equal(nxt, target):
                    break
                target = nxt
    groups = pd.Series(np.arange(n)).groupby(target).apply(list)
    keep = groups.index.to_numpy()
    merged = np.empty(len(keep), dtype=object)
    single = groups.map(len).to_numpy() == 1
    merged[single] = polys[keep[single]]
    if (~single).any():
        merged[~single] = [shapely.union_all(polys[g]) for g in groups[~single]]
    remap = np.full(n, -1)
    remap[keep] = np.arange(len(keep))
    return merged, remap[target]


def faces(
    segments: gpd.GeoDataFrame,
    *,
    limit,
    communities: gpd.GeoDataFrame | None = None,
    min_width_m: float = 4.0,
    min_area_m2: float = 150.0,
) -> np.ndarray:
    """Polygonize noded linework into faces inside ``limit``, slivers merged away.

    A face is a sliver when it is smaller than ``min_area_m2`` or narrower than
    ``min_width_m`` (2·area/perimeter), the strips between carriageways and
    sidewalks for instance.  Slivers are merged into the neighbour they share
    most boundary with, inside the same community, so the faces still tile
    ``limit`` and nest in the communities.
    """
    polys = shapely.get_parts(shapely.polygonize(segments.geometry.values))
    if len(polys) == 0:
        return polys
    pts = shapely.point_on_surface(polys)
    polys = polys[shapely.covered_by(pts, limit)]
    area = shapely.area(polys)
    width = 2 * area / np.maximum(shapely.length(shapely.get_exterior_ring(polys)), 1e-9)
    small = (area < min_area_m2) | (width < min_width_m)
    group = None
    if communities is not None and len(communities):
        group = _community_of(gpd.GeoDataFrame(geometry=polys, crs=communities.crs), communities).to_numpy()
        group = pd.factorize(pd.Series(group).fillna("\0none"))[0]
    merged, _ = merge_into_neighbours(polys, small, group)
    # merged polygons can be multipart when a sliver only touched at a point
    return shapely.make_valid(merged)


def blocks_from_roads(
    roads: gpd.GeoDataFrame,
    *,
    limit,
    barriers: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    households=None,
    min_width_m: float = 4.0,
    min_area_m2: float = 150.0,
    street_width_m: float = STREET_SPACE_WIDTH_M,
) -> Blocks:
    """Blocks from road centrelines, barriers and community boundaries.

    The faces of the noded linework are the candidate blocks.  Faces that are
    street space, not land (medians between carriageways, corridors between a
    carriageway and its sidewalk, gaps between tracks: household-free faces
    narrower than ``street_width_m`` nearly everywhere, see
    :func:`street_space`), are shared between the real blocks on either side,
    so blocks meet along the middle of the street space and no strip of road
    glues blocks together.  The new boundaries inside street space are added
    to the segments with the class and name of the road they run in.

    Parameters
    ----------
    roads : GeoDataFrame
        Validated roads (``kind``, ``name``) as lines, in a metric CRS.
    limit : shapely Polygon or MultiPolygon
        The study area (or the union of the communities); blocks tile it.
    barriers : GeoDataFrame, optional
        Rivers, railways, walls: they bound blocks like roads.
    communities : GeoDataFrame, optional
        Polygons with ``community_id``; their boundaries bound blocks and every
        block takes the community its interior point lies in.
    households : array of Points or GeoSeries, optional
        Household locations (same CRS): a face holding one is land, never
        street space.  Without them every narrow face counts as street space.
    min_width_m, min_area_m2 : float
        Slivers smaller or narrower than these merge into a neighbour.
    street_width_m : float
        Household-free faces narrower than this (nearly everywhere) are street
        space; 0 keeps every face as a block.

    Returns
    -------
    Blocks

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"kind": ["street"] * 2, "name": ["A", "B"]},
    ...     geometry=[shapely.LineString([(0, 50), (100, 50)]),
    ...               shapely.LineString([(50, 0), (50, 100)])], crs=3857)
    >>> len(blocks_from_roads(roads, limit=shapely.box(0, 0, 100, 100)).blocks)
    4

    A dual carriageway 12 m apart: the median is street space, shared by the
    blocks on either side, which now meet along the middle of the road.

    >>> dual = gpd.GeoDataFrame({"kind": ["road"] * 2, "name": ["学院路"] * 2},
    ...     geometry=[shapely.LineString([(0, 44), (100, 44)]),
    ...               shapely.LineString([(0, 56), (100, 56)])], crs=3857)
    >>> b = blocks_from_roads(dual, limit=shapely.box(0, 0, 100, 100))
    >>> sorted(b.blocks.area.round().tolist())
    [5000.0, 5000.0]
    """
    crs = roads.crs
    # clip to a slightly larger area so that roads cross the limit and are
    # noded with it (a road cut exactly at a curved limit would end a hair
    # inside it and bound nothing); the bits outside are dangles
    reach = shapely.buffer(limit, 1.0)
    parts = [roads[["kind", "name"] + (["name_en"] if "name_en" in roads else [])]
             .set_geometry(shapely.intersection(roads.geometry.values, reach), crs=crs)]
    if barriers is not None and len(barriers):
        b = barriers[["kind", "name"]].set_geometry(
            shapely.intersection(shapely.force_2d(barriers.geometry.values), reach), crs=crs
        )
        parts.append(b)
    if communities is not None and len(communities):
        rings = shapely.boundary(communities.geometry.values)
        parts.append(gpd.GeoDataFrame({"kind": ["community"] * len(rings), "name": [None] * len(rings)},
                                      geometry=rings, crs=crs))
    parts.append(gpd.GeoDataFrame({"kind": ["limit"], "name": [None]}, geometry=[shapely.boundary(limit)], crs=crs))
    lines = pd.concat(parts, ignore_index=True)
    g = lines.geometry.values
    lines = lines[~shapely.is_missing(g) & ~shapely.is_empty(g)]
    lines = lines[lines.geometry.geom_type.isin(["LineString", "MultiLineString", "LinearRing"])
                  | lines.geometry.geom_type.eq("GeometryCollection")]
    lines = lines.set_geometry(shapely.force_2d(lines.geometry.values))
    hh_layer = None if households is None else gpd.GeoDataFrame(
        geometry=np.asarray(getattr(households, "values", households), dtype=object), crs=crs)
    lines, dead_ends = close_gaps(lines.reset_index(drop=True), households=hh_layer)
    segments = noded_segments(lines.reset_index(drop=True))
    if street_width_m and street_width_m > 0:
        polys = _raw_faces(segments, limit)
        group = _community_group(polys, communities)
        lived = _holds_points(polys, households)
        space = street_space(polys, width_m=street_width_m) & ~lived
        # the margin: household-free land along the study area's edge, outside the last road
        empty = ~space & ~lived
        if households is not None and empty.any():
            share = _face_roads(polys[empty], segments)[3]
            space[np.flatnonzero(empty)[share >= MARGIN_LIMIT_SHARE]] = True
        segments = segments.assign(street_space=False)
        if space.any():
            inside = _within_street_space(segments, polys[space])
            polys, extra = share_street_space(polys, space, segments, group=group)
            segments.loc[inside & ~_on_boundaries(segments, polys), "street_space"] = True
            if len(extra):
                segments = pd.concat([segments, extra.assign(street_space=False)], ignore_index=True)
        polys = _merge_slivers(polys, communities, min_width_m=min_width_m, min_area_m2=min_area_m2)
    else:
        polys = faces(segments, limit=limit, communities=communities, min_width_m=min_width_m,
                      min_area_m2=min_area_m2)
    polys = polys[~shapely.is_empty(polys) & (shapely.area(polys) > 0)]
    blocks = gpd.GeoDataFrame({"area_m2": shapely.area(polys)}, geometry=polys, crs=crs)
    blocks["community_id"] = _community_of(blocks, communities)
    blocks = blocks[blocks["community_id"].notna()]
    blocks = canonical_order(blocks, ["community_id"])
    blocks.insert(0, "block_id", np.arange(len(blocks)))
    log.info("%d blocks from %d noded segments", len(blocks), len(segments))
    return Blocks(blocks=blocks, segments=segments, dead_ends=dead_ends)


def _raw_faces(segments: gpd.GeoDataFrame, limit) -> np.ndarray:
    """The faces inside ``limit``, in a canonical order (by interior point and
    area, not by the order of the input lines), each normalised: street space is
    shared out in this order, so the blocks do not depend on the row order."""
    polys = shapely.get_parts(shapely.polygonize(segments.geometry.values))
    if len(polys) == 0:
        return polys
    polys = shapely.normalize(polys[shapely.covered_by(shapely.point_on_surface(polys), limit)])
    pts = shapely.point_on_surface(polys)
    order = np.lexsort((np.round(shapely.area(polys), 2), np.round(shapely.get_y(pts), 2),
                        np.round(shapely.get_x(pts), 2)))
    return polys[order]


def _community_group(polys: np.ndarray, communities) -> np.ndarray | None:
    if communities is None or not len(communities) or not len(polys):
        return None
    group = _community_of(gpd.GeoDataFrame(geometry=polys, crs=communities.crs), communities).to_numpy()
    return pd.factorize(pd.Series(group).fillna("\0none"))[0]


def _merge_slivers(polys: np.ndarray, communities, *, min_width_m: float, min_area_m2: float) -> np.ndarray:
    if len(polys) == 0:
        return polys
    area = shapely.area(polys)
    width = 2 * area / np.maximum(shapely.length(shapely.get_exterior_ring(polys)), 1e-9)
    small = (area < min_area_m2) | (width < min_width_m)
    merged, _ = merge_into_neighbours(polys, small, _community_group(polys, communities))
    return shapely.make_valid(merged)


def street_space(polys: np.ndarray, households=None, *, width_m: float = STREET_SPACE_WIDTH_M,
                 open_share: float = STREET_SPACE_OPEN_SHARE) -> np.ndarray:
    """Which faces are street space rather than land.

    A face is street space when it holds no household and is narrower than
    ``width_m`` nearly everywhere: its morphological opening by ``width_m / 2``
    (erode, then dilate) keeps less than ``open_share`` of its area.  Medians
    between carriageways, the corridors between a carriageway and a sidewalk
    drawn beside it, and the gaps between parallel tracks are such faces.  So
    is a household-free band of mean width (2·area/perimeter) under
    :data:`STRIP_WIDTH_M` that is long (oriented bounding rectangle at least
    :data:`STRIP_ELONGATION` times longer than wide) or sprawling
    (Polsby–Popper under :data:`STRIP_POLSBY_POPPER`): the green belt or river
    beside an arterial.

    Parameters
    ----------
    polys : array of Polygons
        Faces in a metric CRS.
    households : array of Points or GeoSeries, optional
        A face holding any of them is land.
    width_m, open_share : float

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> import shapely
    >>> faces = np.array([shapely.box(0, 0, 300, 12), shapely.box(0, 12, 300, 120)])
    >>> street_space(faces).tolist()
    [True, False]
    >>> street_space(faces, [shapely.Point(10, 6)]).tolist()
    [False, False]
    """
    polys = np.asarray(polys, dtype=object)
    if len(polys) == 0:
        return np.zeros(0, bool)
    area = shapely.area(polys)
    opened = shapely.buffer(shapely.buffer(polys, -width_m / 2, quad_segs=4), width_m / 2, quad_segs=4)
    narrow = shapely.area(opened) < open_share * np.maximum(area, 1e-9)
    perimeter = np.maximum(shapely.length(polys), 1e-9)
    band = 2 * area / perimeter < STRIP_WIDTH_M
    if band.any():
        rect = shapely.get_coordinates(shapely.oriented_envelope(polys[band])).reshape(-1, 5, 2)
        sides = np.hypot(*(rect[:, 1] - rect[:, 0]).T), np.hypot(*(rect[:, 2] - rect[:, 1]).T)
        elong = np.maximum(*sides) / np.maximum(np.minimum(*sides), 1e-9)
        pp = 4 * np.pi * area[band] / perimeter[band] ** 2
        idx = np.flatnonzero(band)
        narrow[idx[(elong >= STRIP_ELONGATION) | (pp < STRIP_POLSBY_POPPER)]] = True
    return narrow & ~_holds_points(polys, households)


def _holds_points(polys: np.ndarray, points) -> np.ndarray:
    """Whether each polygon holds at least one of ``points`` (none given: all False)."""
    out = np.zeros(len(polys), bool)
    if points is None or not len(polys):
        return out
    pts = np.asarray(getattr(points, "values", points), dtype=object)
    if len(pts):
        out[np.unique(shapely.STRtree(pts).query(polys, predicate="intersects")[0])] = True
    return out


def _face_roads(polys: np.ndarray, segments: gpd.GeoDataFrame, *, spacing_m: float = 5.0,
                snap_m: float = 1.0, min_share: float = 0.2, exclude: tuple[str, ...] = ("limit", "community"),
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The road each face lies along: the first class of :data:`KIND_PRIORITY`
    (other than ``exclude``) making at least ``min_share`` of its boundary, and
    that class's longest name; also the share of each face's boundary on the
    study area's edge (``limit``)."""
    n = len(polys)
    kind = np.full(n, "lane", dtype=object)
    name = np.full(n, None, dtype=object)
    name_en = np.full(n, None, dtype=object)
    limit_share = np.zeros(n)
    if n == 0 or not len(segments):
        return kind, name, name_en, limit_share
    rings = shapely.segmentize(shapely.get_exterior_ring(polys), spacing_m)
    xy, owner = shapely.get_coordinates(rings, return_index=True)
    same = owner[1:] == owner[:-1]
    a, b, owner = xy[:-1][same], xy[1:][same], owner[:-1][same]
    length = np.hypot(*(b - a).T)
    pts = shapely.points((a + b) / 2)
    p, q = shapely.STRtree(segments.geometry.values).query_nearest(pts, max_distance=snap_m, all_matches=False)
    df = pd.DataFrame({"face": owner[p], "len": length[p], "kind": segments["kind"].to_numpy()[q],
                       "name": segments["name"].to_numpy()[q],
                       "name_en": (segments["name_en"].to_numpy()[q] if "name_en" in segments
                                   else np.full(len(q), None))})
    total = pd.Series(length).groupby(owner).sum()
    by_kind = df.groupby(["face", "kind"])["len"].sum().reset_index()
    by_kind["share"] = by_kind["len"] / total.reindex(by_kind["face"]).to_numpy()
    on_limit = by_kind[by_kind["kind"] == "limit"]
    limit_share[on_limit["face"].to_numpy()] = on_limit["share"].to_numpy()
    prio = {k: i for i, k in enumerate(KIND_PRIORITY)}
    by_kind["prio"] = by_kind["kind"].map(prio).fillna(len(prio))
    by_kind = by_kind[~by_kind["kind"].isin(exclude)]
    ok = by_kind[by_kind["share"] >= min_share].sort_values(["face", "prio"]).drop_duplicates("face")
    kind[ok["face"].to_numpy()] = ok["kind"].to_numpy()
    named = df[df["name"].notna()].merge(ok[["face", "kind"]], on=["face", "kind"])
    if len(named):
        best = (named.groupby(["face", "name"], sort=True).agg(len=("len", "sum"), name_en=("name_en", "first"))
                .reset_index().sort_values(["face", "len", "name"], ascending=[True, False, True])
                .drop_duplicates("face"))
        name[best["face"].to_numpy()] = best["name"].to_numpy()
        name_en[best["face"].to_numpy()] = best["name_en"].to_numpy()
    return kind, name, name_en, limit_share


def share_street_space(polys: np.ndarray, space: np.ndarray, segments: gpd.GeoDataFrame, *,
                       group: np.ndarray | None = None) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Share street-space faces between the land faces around them.

    Every point of street space goes to the nearest land face of the same
    ``group`` (community), as road surfaces are shared (:func:`share_out_gaps`),
    so a median or a sidewalk corridor is split down its middle and across at
    the ends of the blocks, instead of joining one block whole.  Street space
    with no land face in its group stays as it is.

    Returns
    -------
    polys : ndarray
        The land faces grown over the street space (same order, street-space
        faces dropped unless kept).
    extra_segments : GeoDataFrame
        The new boundaries inside street space, each with the ``kind``,
        ``name`` and ``name_en`` of the road that space belongs to.
    """
    polys = np.asarray(polys, dtype=object)
    group = np.zeros(len(polys), np.int64) if group is None else np.asarray(group)
    kind, name, name_en, _ = _face_roads(polys[space], segments)
    # street space goes to land of the same community and the same connected piece of
    # the area (never across land outside it)
    piece = np.zeros(len(polys), np.int64)
    areas: dict = {}
    for gid in np.unique(group).tolist():
        idx = np.flatnonzero(group == gid)
        if not space[idx].any():
            continue
        parts = shapely.get_parts(shapely.union_all(polys[idx]))
        if len(parts) > 1:
            at = shapely.point_on_surface(polys[idx])
            piece[idx] = np.argmax(shapely.contains(parts[:, None], at[None, :]), axis=0)
        areas.update({(gid, k): part for k, part in enumerate(parts)})
    out, keep_space = [], []
    for gid, k in sorted(set(zip(group.tolist(), piece.tolist()))):
        mine = (group == gid) & (piece == k)
        land = np.flatnonzero(mine & ~space)
        if not len(land):
            keep_space.extend(np.flatnonzero(mine & space).tolist())
            continue
        if not (mine & space).any():
            out.extend(polys[land].tolist())
            continue
        out.extend(share_out_gaps(polys[land], limit=areas[gid, k]).tolist())
    grown = np.array(out + polys[keep_space].tolist(), dtype=object)
    # every block on the 1 cm grid the shared street space was dissolved on, so that
    # blocks of neighbouring communities still meet along a common line
    grown = shapely.make_valid(shapely.set_precision(shapely.make_valid(grown), SHARE_GRID_M))
    grown = _polygonal(grown)
    # the new boundaries inside street space, named after the road of that space
    gap = polys[space]
    lines = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(grown))))
    lines = shapely.get_parts(shapely.intersection(lines, shapely.union_all(gap)))
    lines = lines[np.isin(shapely.get_type_id(lines), (1, 2)) & (shapely.length(lines) > 0.01)]
    empty = gpd.GeoDataFrame({"kind": [], "name": [], "name_en": [], "length_m": []}, geometry=[],
                             crs=segments.crs)
    if not len(lines):
        return grown, empty
    mid = _midpoints(lines)
    on_seg = shapely.STRtree(segments.geometry.values).query(mid, predicate="dwithin", distance=0.5)[0]
    fresh = np.ones(len(lines), bool)
    fresh[on_seg] = False
    lines, mid = lines[fresh], mid[fresh]
    li, fi = shapely.STRtree(gap).query(mid, predicate="intersects")
    first = pd.DataFrame({"l": li, "f": fi}).sort_values(["l", "f"]).drop_duplicates("l")
    lines, mid = lines[first["l"].to_numpy()], mid[first["l"].to_numpy()]
    f = first["f"].to_numpy()
    out_kind, out_name, out_name_en = kind[f].copy(), name[f].copy(), name_en[f].copy()
    # a piece takes the road nearest to it (within a couple of metres, the higher
    # class wins, then a named road): the middle of a median is its carriageways'
    # road, a piece that crosses the median where a lane does is that lane
    roads_only = segments[~segments["kind"].isin(["limit", "community"])]
    if len(roads_only):
        rg = roads_only.geometry.values
        p, q = shapely.STRtree(rg).query(mid, predicate="dwithin", distance=2 * STREET_SPACE_WIDTH_M)
        if len(p):
            prio = {k: i for i, k in enumerate(KIND_PRIORITY)}
            near = pd.DataFrame({"p": p, "q": q, "d": shapely.distance(mid[p], rg[q]),
                                 "prio": roads_only["kind"].map(prio).fillna(len(prio)).to_numpy()[q],
                                 "parallel": _cos_angle(lines[p], rg[q]) >= 0.7})
            # roads running along the piece first (a stub across a median is not the median's road)
            near = near[near["parallel"] | ~near.groupby("p")["parallel"].transform("any")]
            near = near[near["d"] <= near.groupby("p")["d"].transform("min") + NEAREST_ROAD_SLACK_M]
            near["unnamed"] = pd.isna(roads_only["name"].to_numpy()[near["q"].to_numpy()])
            best = near.sort_values(["p", "prio", "unnamed", "d", "q"]).drop_duplicates("p")
            bp, bq = best["p"].to_numpy(), best["q"].to_numpy()
            out_kind[bp] = roads_only["kind"].to_numpy()[bq]
            out_name[bp] = roads_only["name"].to_numpy()[bq]
            out_name_en[bp] = (roads_only["name_en"].to_numpy()[bq] if "name_en" in roads_only
                               else np.full(len(bq), None))
    extra = gpd.GeoDataFrame({"kind": out_kind, "name": out_name, "name_en": out_name_en,
                              "length_m": shapely.length(lines)}, geometry=lines, crs=segments.crs)
    log.info("%d street-space faces shared among the blocks beside them", int(space.sum()))
    return grown, extra


def _midpoints(lines) -> np.ndarray:
    """The midpoint of each line (a GeoDataFrame's or an array's)."""
    return shapely.line_interpolate_point(np.asarray(getattr(lines, "geometry", lines)), 0.5, normalized=True)


def _within_street_space(segments: gpd.GeoDataFrame, space: np.ndarray) -> np.ndarray:
    """Whether each segment runs in or along street space (its midpoint touches a street-space face)."""
    out = np.zeros(len(segments), bool)
    if len(space) and len(segments):
        out[np.unique(shapely.STRtree(space).query(_midpoints(segments), predicate="dwithin", distance=0.01)[0])] = True
    return out


def _on_boundaries(segments: gpd.GeoDataFrame, polys: np.ndarray, *, tol_m: float = 0.5) -> np.ndarray:
    """Whether each segment's midpoint lies on the boundary of one of ``polys``."""
    out = np.zeros(len(segments), bool)
    if len(polys) and len(segments):
        rings = shapely.boundary(np.asarray(polys, dtype=object))
        near = shapely.STRtree(rings).query(_midpoints(segments), predicate="dwithin", distance=tol_m)[0]
        out[np.unique(near)] = True
    return out


def _cos_angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|cos| of the angle between the end-to-end directions of lines ``a[i]`` and ``b[i]``."""
    def direction(g):
        xy = shapely.get_coordinates(shapely.get_point(g, -1)) - shapely.get_coordinates(shapely.get_point(g, 0))
        return xy / np.maximum(np.hypot(*xy.T), 1e-9)[:, None]
    if not len(a):
        return np.zeros(0)
    return np.abs((direction(a) * direction(b)).sum(axis=1))


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry."""
    geoms = np.asarray(geoms, dtype=object).copy()
    for k in np.flatnonzero(~np.isin(shapely.get_type_id(geoms), (3, 6))).tolist():
        parts = shapely.get_parts(geoms[k])
        geoms[k] = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
    return geoms


def close_undershoots(lines: gpd.GeoDataFrame, *, tolerance: float = UNDERSHOOT_M, max_gap_m: float | None = None,
                      households: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Join lines that end short of another line, so that the blocks they bound close.

    A free end (touching no other line) whose straight extension meets
    another line within ``max_gap_m`` (default :data:`GAP_M`, 25 m), or
    whose nearest other line within that distance lies within
    :data:`GAP_ANGLE_DEG` of its direction, or which is a hair gap within
    ``tolerance`` of a line in any direction (digitising, reprojection or a
    GCJ-02 round trip leave T-junctions a hair short), gets the join as an
    extra row with the attributes of its line; noding then makes the
    junction, and the few centimetres beyond it are a harmless dangle.  With
    ``households``, no join passes within :data:`GAP_CLEARANCE_M` of a
    household point: a cul-de-sac ending at a building stays a dead end.
    The other dead ends stay as they are; they are counted in the log, and
    :func:`close_gaps` returns them with the reason.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> ring = shapely.LineString([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)])
    >>> stem = shapely.LineString([(50, 0), (50, 100 - 1e-9)])  # a hair short of the ring
    >>> lines = gpd.GeoDataFrame({"kind": ["street"] * 2, "name": [None] * 2},
    ...                          geometry=[ring, stem], crs=3857)
    >>> len(close_undershoots(lines))
    3
    """
    gap = GAP_M if max_gap_m is None else max_gap_m
    out, dead_ends = close_gaps(lines, max_gap_m=max(gap, tolerance), households=households, undershoot_m=tolerance)
    if len(dead_ends):
        reasons = dead_ends["reason"].value_counts()
        log.info("joined %d line ends that stopped within %g m of another line; %d dead ends left open (%s)",
                 int(dead_ends["closed"].sum()), gap, int((~dead_ends["closed"]).sum()),
                 ", ".join(f"{k}: {v}" for k, v in reasons.items() if k != "joined") or "none")
    return out


def _community_of(polys: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None) -> pd.Series:
    if communities is None or len(communities) == 0:
        return pd.Series("1", index=polys.index, dtype=object)
    pts = shapely.point_on_surface(polys.geometry.values)
    tree = shapely.STRtree(communities.geometry.values)
    p, c = tree.query(pts, predicate="within")
    out = pd.Series(None, index=polys.index, dtype=object)
    # a point on a shared community edge: first community wins (canonical order of ids)
    ids = communities["community_id"].astype(str).to_numpy()
    df = pd.DataFrame({"p": p, "cid": ids[c]}).sort_values(["p", "cid"]).drop_duplicates("p")
    out.iloc[df["p"].to_numpy()] = df["cid"].to_numpy()
    return out


def canonical_order(gdf: gpd.GeoDataFrame, keys: list[str]) -> gpd.GeoDataFrame:
    """Sort rows by ``keys`` then by their interior point (rounded to cm) and area.

    Makes ids independent of the input row order.
    """
    pts = shapely.point_on_surface(gdf.geometry.values)
    order = pd.DataFrame({k: gdf[k].to_numpy() for k in keys})
    order["_x"] = np.round(shapely.get_x(pts), 2)
    order["_y"] = np.round(shapely.get_y(pts), 2)
    order["_a"] = np.round(shapely.area(gdf.geometry.values), 2)
    idx = order.sort_values(keys + ["_x", "_y", "_a"], kind="stable").index.to_numpy()
    return gdf.iloc[idx].reset_index(drop=True)


def attach_households(
    households: gpd.GeoDataFrame, polys: gpd.GeoDataFrame, *, id_col: str, snap_m: float = SNAP_DISTANCE_M
) -> tuple[pd.Series, pd.Series]:
    """Find the polygon (``id_col``) of every household point.

    Points inside (or on the edge of) a polygon take it (the smallest id on a
    shared edge); points up to ``snap_m`` outside go to the nearest polygon;
    the rest get ``NA`` and a reason.

    Returns
    -------
    ids : Series
        Index-aligned with ``households``; nullable integer.
    reasons : Series
        Reason text for the points left without a polygon (empty otherwise).
    """
    pts = households.geometry.values
    geoms = polys.geometry.values
    ids = polys[id_col].to_numpy()
    tree = shapely.STRtree(geoms)
    p, q = tree.query(pts, predicate="intersects")
    out = np.full(len(pts), -1, dtype=np.int64)
    if len(p):
        df = pd.DataFrame({"p": p, "id": ids[q]}).sort_values(["p", "id"]).drop_duplicates("p")
        out[df["p"].to_numpy()] = df["id"].to_numpy()
    missing = np.flatnonzero(out < 0)
    if len(missing):
        p2, q2 = tree.query_nearest(pts[missing], max_distance=snap_m, all_matches=True, return_distance=False)
        if len(p2):
            df = pd.DataFrame({"p": missing[p2], "id": ids[q2]}).sort_values(["p", "id"]).drop_duplicates("p")
            out[df["p"].to_numpy()] = df["id"].to_numpy()
    result = pd.Series(out, index=households.index).astype("Int64")
    result[result < 0] = pd.NA
    reasons = pd.Series("", index=households.index, dtype=object)
    reasons[result.isna()] = f"no block within {snap_m:g} m: outside the study area or every community"
    return result, reasons


def _cluster_points(xy: np.ndarray, w: np.ndarray, max_cells: int) -> np.ndarray:
    """Group point locations into at most ``max_cells`` clusters by a square grid.

    Returns a cluster label per point; identical locations always share one.
    """
    _, labels = np.unique(np.round(xy, 3), axis=0, return_inverse=True)
    labels = labels.ravel()
    if labels.max() + 1 <= max_cells:
        return labels
    span = max(np.ptp(xy[:, 0]), np.ptp(xy[:, 1]), 1.0)
    size = span / np.sqrt(max_cells)
    while True:
        key = np.floor((xy - xy.min(axis=0)) / size).astype(np.int64)
        _, labels = np.unique(key, axis=0, return_inverse=True)
        labels = labels.ravel()
        if labels.max() + 1 <= max_cells:
            return labels
        size *= 1.25


#: An empty block touching at least this many others is a hub (see :func:`absorb_hubs`).
HUB_NEIGHBOURS = 12


def absorb_hubs(blocks: gpd.GeoDataFrame, *, min_neighbours: int = HUB_NEIGHBOURS,
                spacing_m: float = 10.0) -> gpd.GeoDataFrame:
    """Share empty hub blocks out among the blocks they touch.

    The margin between the outermost roads and the study area's edge (and
    any large empty area that touches many blocks) is one block without
    households that borders a dozen or more others.  As one atom it would tie
    grids together along the whole edge of the area: a grid holding it wraps
    around others.  Each such block is cut by the Voronoi diagram of points
    along its boundaries with its neighbours (same community), and each piece
    joins the neighbour it faces, so grids still cover the area and reach
    its edge where they meet it.

    Parameters
    ----------
    blocks : GeoDataFrame
        ``block_id``, ``community_id``, ``households``, geometry (metric CRS).
    min_neighbours : int
        Empty blocks touching at least this many blocks are shared out.
    spacing_m : float
        Spacing of the Voronoi seeds along the shared boundaries.

    Returns
    -------
    GeoDataFrame
        The blocks without the hubs (other ids unchanged), neighbours grown.

    Examples
    --------
    >>> import shapely
    >>> cells = [shapely.box(100 * i, 100 * j, 100 * i + 100, 100 * j + 100) for i in range(4) for j in range(4)]
    >>> ring = shapely.box(-50, -50, 450, 450).difference(shapely.box(0, 0, 400, 400))
    >>> b = gpd.GeoDataFrame({"block_id": range(17), "community_id": "1", "households": [10] * 16 + [0]},
    ...                      geometry=cells + [ring], crs=32650)
    >>> out = absorb_hubs(b)
    >>> len(out), round(out.area.sum())
    (16, 250000)
    """
    geoms = blocks.geometry.values
    empty = blocks["households"].to_numpy() <= 0
    comm = blocks["community_id"].astype(str).to_numpy()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = (i != j) & (comm[i] == comm[j]) & empty[i]
    i, j = i[keep], j[keep]
    # a block touching fewer than min_neighbours blocks at all cannot share a line with that many
    keep = np.bincount(i, minlength=len(blocks))[i] >= min_neighbours
    i, j = i[keep], j[keep]
    shared = shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
    linear = shapely.length(shared) > 1.0
    i, j, shared = i[linear], j[linear], shared[linear]
    degree = np.bincount(i, minlength=len(blocks))
    hubs = np.flatnonzero(empty & (degree >= min_neighbours))
    if len(hubs) == 0:
        return blocks
    new = geoms.copy()
    hub_set = set(hubs.tolist())
    for h in hubs.tolist():  # a few per area: the margin of each community
        mine = (i == h) & ~np.isin(j, hubs)
        if not mine.any():
            continue
        xy, part = shapely.get_coordinates(shapely.segmentize(shared[mine], spacing_m), return_index=True)
        label = j[mine][part]
        xy, first = np.unique(xy.round(3), axis=0, return_index=True)
        label = label[first]
        if len(xy) < 3:
            continue
        pts = shapely.points(xy)
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=geoms[h]))
        ci, pi = shapely.STRtree(pts).query(cells, predicate="contains")
        owner = np.full(len(cells), -1)
        owner[ci] = label[pi]
        for nb in np.unique(owner[owner >= 0]).tolist():
            piece = shapely.intersection(shapely.union_all(cells[owner == nb]), geoms[h])
            new[nb] = shapely.union_all([new[nb], piece])
    new = _polygonal(shapely.make_valid(new))
    out = blocks.copy()
    out = out.set_geometry(new, crs=blocks.crs)
    if "area_m2" in out:
        out["area_m2"] = out.geometry.area
    gone = np.isin(np.arange(len(blocks)), list(hub_set))
    out = out[~gone]
    log.info("%d empty hub blocks shared out among their neighbours", int(gone.sum()))
    return out


def _building_cells(block, xy: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One big block cut into cells, one polygon each, and the cell of every point.

    The Voronoi cells of the point clusters' centres are clipped to the block.
    A piece that holds a household point is a cell, and so is the largest
    piece of a cluster whose points all lie outside the block (buildings
    snapped in from across a road); other pieces merge into their neighbours.
    A point goes to the cell it lies in, else to its cluster's cell, else to
    the nearest cell.
    """
    n = int(labels.max()) + 1
    if n == 1:
        return np.array([block]), np.zeros(len(xy), dtype=np.int64)
    count = np.bincount(labels, minlength=n)
    seeds = np.column_stack([np.bincount(labels, weights=xy[:, d], minlength=n) / count for d in range(2)])
    vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=block, ordered=True)
    parts, owner = shapely.get_parts(shapely.intersection(shapely.make_valid(shapely.get_parts(vor)), block),
                                     return_index=True)
    ok = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    parts, owner = parts[ok], owner[ok]
    if len(parts) == 0:
        return np.array([block]), np.zeros(len(xy), dtype=np.int64)
    pts = shapely.points(xy)
    pt, part = shapely.STRtree(parts).query(pts, predicate="intersects")
    holding = np.zeros(len(parts), bool)
    holding[part] = True
    area = shapely.area(parts)
    # each cluster's own piece: the largest one holding points, else its largest piece
    order = np.lexsort((-area, ~holding, owner))
    own = np.full(n, -1, dtype=np.int64)
    firsts = np.unique(owner[order], return_index=True)[1]
    own[owner[order][firsts]] = order[firsts]
    holding[own[own >= 0]] = True
    merged, where = merge_into_neighbours(parts, ~holding)
    cell = np.full(len(xy), -1, dtype=np.int64)
    by_point = np.lexsort((part, pt))
    first = by_point[np.unique(pt[by_point], return_index=True)[1]]  # on a shared edge: the first piece
    cell[pt[first]] = where[part[first]]
    outside = np.flatnonzero(cell < 0)
    if len(outside):
        mine = own[labels[outside]]
        cell[outside] = np.where(mine >= 0, where[np.maximum(mine, 0)], -1)
        left = outside[cell[outside] < 0]
        if len(left):
            cell[left] = shapely.STRtree(merged).nearest(pts[left])
    return merged, cell


def split_big_blocks(
    blocks: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    *,
    max_households: float,
    cells_per_grid: int = 8,
    target: float,
    roads: gpd.GeoDataFrame | None = None,
    cut_kinds: tuple[str, ...] | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Cut blocks above ``max_households`` along their dead-end streets, then into building cells.

    With ``roads``, a big block that is also unusually large for its
    households (more than :data:`SPARSE_BLOCK_RATIO` times the median area per
    household of the blocks holding any) is first cut along the streets that
    run into it and end inside it (``cut_kinds``; each free end extended
    straight to the block's edge, see :func:`dead_end_pieces`), with a
    :class:`~gridpart.errors.BigBlockWarning` naming those blocks: a street
    on the map is a better boundary than a line between buildings, and a
    block that large often means a gap in the road data.  Only the pieces
    still above ``max_households`` are cut into building cells.

    The distinct household locations of a big block (one building = one point;
    households at one point stay together; dense layers are grouped into
    clusters first) seed a Voronoi tessellation clipped to the block.  Pieces
    that hold no household point are merged into their neighbours, so every
    cell is one piece, and every household goes to the cell its point lies in
    (a building snapped into the block from outside keeps the piece of the
    block nearest to it, see :func:`_building_cells`).

    Parameters
    ----------
    blocks : GeoDataFrame
        ``block_id``, ``community_id``, geometry; with ``households`` summed.
    households : GeoDataFrame
        Points with ``block_id`` and ``households``.
    max_households : float
        Blocks holding more are split (the band's upper limit).
    target : float
        Households per grid; a block gets at most ``cells_per_grid`` cells per
        grid it could fill (dense point layers are grouped first).
    roads : GeoDataFrame, optional
        The noded linework (``kind``, geometry), e.g. :attr:`Blocks.segments`.
    cut_kinds : tuple of str, optional
        Road classes a big block is cut along; default :data:`DEAD_END_KINDS`
        (roads and streets: lanes and footways are not).

    Returns
    -------
    atoms : GeoDataFrame
        ``atom_id`` (canonical), ``block_id``, ``community_id``, ``is_cell``, geometry.
    household_atom : Series
        The atom of every household with a block (index of ``households``).
    """
    crs = blocks.crs
    big = blocks.loc[blocks["households"] > max_households, "block_id"].to_numpy()
    keep = blocks[~blocks["block_id"].isin(big)]
    cell_geoms, cell_block, cell_key = [], [], []
    hh_cell_key = pd.Series(-1, index=households.index, dtype=np.int64)
    geom_of = dict(zip(blocks["block_id"], blocks.geometry.values))
    hh = households[households["block_id"].isin(big)]
    xy_all = shapely.get_coordinates(hh.geometry.values)
    next_key = 0
    w_all = hh["households"].to_numpy()
    cut_along: dict = {}
    sparse = _sparse_blocks(blocks)
    for bid, rows in hh.groupby("block_id", sort=True).indices.items():
        xy = xy_all[rows]
        pieces = (dead_end_pieces(geom_of[bid], roads, kinds=cut_kinds or DEAD_END_KINDS, avoid=xy)
                  if roads is not None and bid in sparse
                  else np.array([geom_of[bid]]))
        piece_of = _point_piece(pieces, xy)
        if len(pieces) > 1:
            cut_along[bid] = len(pieces)
        cells, point_cell = [], np.zeros(len(rows), dtype=np.int64)
        for k, piece in enumerate(pieces):
            mine = np.flatnonzero(piece_of == k)
            w = w_all[rows[mine]]
            if len(pieces) > 1 and w.sum() <= max_households:
                part, where = np.array([piece]), np.zeros(len(mine), dtype=np.int64)
            else:
                max_cells = max(2, int(np.ceil(cells_per_grid * w.sum() / target)))
                part, where = _building_cells(piece, xy[mine], _cluster_points(xy[mine], w, max_cells))
            point_cell[mine] = len(cells) + where
            cells.extend(part)
        for j, geom in enumerate(cells):
            cell_geoms.append(geom)
            cell_block.append(bid)
            cell_key.append(next_key + j)
        hh_cell_key.iloc[households.index.get_indexer(hh.index[rows])] = next_key + point_cell
        next_key += len(cells)
    if cut_along:
        shown = ", ".join(f"{b} ({cut_along[b]} pieces)" for b in list(cut_along)[:10])
        warnings.warn(f"{len(cut_along)} blocks above {max_households:g} households were cut along the dead-end "
                      f"streets inside them before any cut between buildings: block_id {shown}"
                      f"{', ...' if len(cut_along) > 10 else ''}.  A block that large often means a gap in the "
                      "road data: check these blocks", BigBlockWarning, stacklevel=2)
    cells = gpd.GeoDataFrame({"block_id": cell_block, "_key": cell_key}, geometry=cell_geoms, crs=crs)
    cells["community_id"] = cells["block_id"].map(dict(zip(blocks["block_id"], blocks["community_id"])))
    cells["is_cell"] = True
    whole = keep[["block_id", "community_id", "geometry"]].copy()
    whole["_key"] = -1 - whole["block_id"].to_numpy()
    whole["is_cell"] = False
    atoms = pd.concat([whole, cells], ignore_index=True)
    atoms = gpd.GeoDataFrame(atoms, geometry="geometry", crs=crs)
    atoms = canonical_order(atoms, ["community_id"])
    atoms.insert(0, "atom_id", np.arange(len(atoms)))
    key_to_atom = pd.Series(atoms["atom_id"].to_numpy(), index=atoms["_key"].to_numpy())
    hh_key = hh_cell_key.copy()
    in_whole = hh_key < 0
    hh_key[in_whole] = -1 - households.loc[in_whole, "block_id"].astype(np.int64)
    household_atom = pd.Series(key_to_atom.reindex(hh_key.to_numpy()).to_numpy(), index=households.index)
    atoms = atoms.drop(columns="_key")
    log.info("%d big blocks cut into %d building cells; %d atoms", len(big), len(cells), len(atoms))
    return atoms, household_atom


def surface_blocks(surfaces: gpd.GeoDataFrame, *, limit, spacing_m: float = 5.0, households=None,
                   street_width_m: float = STREET_SPACE_WIDTH_M) -> tuple[np.ndarray, np.ndarray]:
    """Blocks from road-surface polygons, with the road space shared out.

    The spaces between road surfaces are the blocks; every point of the road
    surface goes to the nearest block (:func:`share_out_gaps`), so the blocks
    tile ``limit`` and meet along the middle of the roads.  Spaces between
    surfaces that are street space themselves (household-free and narrow, the
    median between two carriageway surfaces: :func:`street_space`) are shared
    out with the road space.

    Returns
    -------
    blocks : ndarray of Polygons
        The expanded blocks.
    cores : ndarray of Polygons
        The spaces between the surfaces, one per block.
    """
    road_space = shapely.union_all(surfaces.geometry.values)
    cores = shapely.get_parts(shapely.difference(limit, road_space))
    cores = cores[shapely.area(cores) > 1.0]
    if street_width_m and street_width_m > 0 and len(cores) > 1:
        # the spaces between carriageway surfaces are street space too (see :func:`street_space`)
        space = street_space(cores, households, width_m=street_width_m)
        if space.all():
            space[:] = False
        cores = cores[~space]
    return share_out_gaps(cores, limit=limit, spacing_m=spacing_m), cores


def _ring_edges(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every edge of the polygons' rings as a two-point line, and the polygon it bounds."""
    parts, part_of = shapely.get_parts(np.asarray(polys, dtype=object), return_index=True)
    parts, part_of = parts[shapely.get_type_id(parts) == 3], part_of[shapely.get_type_id(parts) == 3]
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, r = shapely.get_coordinates(rings, return_index=True)
    same = r[1:] == r[:-1]
    edges = shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1))
    return edges, part_of[ring_of[r[:-1][same]]]


def _quad_tiles(polys: np.ndarray, max_vertices: int = 2_000) -> np.ndarray:
    """Polygons cut into quadrants, recursively, until each piece has at most ``max_vertices``
    (so that cutting many small shapes out of one huge polygon stays local)."""
    out, stack = [], list(polys)
    while stack:
        g = stack.pop()
        x0, y0, x1, y1 = shapely.bounds(g)
        if shapely.get_num_coordinates(g) <= max_vertices or max(x1 - x0, y1 - y0) < 1.0:
            out.append(g)
            continue
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        quads = shapely.box([x0, xm, x0, xm], [y0, y0, ym, ym], [xm, x1, xm, x1], [ym, ym, y1, y1])
        pieces = shapely.get_parts(shapely.intersection(g, quads))
        stack.extend(pieces[(shapely.get_type_id(pieces) == 3) & (shapely.area(pieces) > 0)])
    return np.array(out, dtype=object)


def _nearest_core(tree, edge_core: np.ndarray, pts: np.ndarray, touch_m: float, missing: int) -> np.ndarray:
    """The core whose edge is within ``touch_m`` of each point (the first of several), else ``missing``."""
    label = np.full(len(pts), missing, dtype=np.int64)
    p, e = tree.query_nearest(pts, max_distance=touch_m, all_matches=True)
    np.minimum.at(label, p, edge_core[e])
    return label


def _distance_to_other_core(tree, edge_core: np.ndarray, pts: np.ndarray, own: np.ndarray, *,
                            reach_m: float, start_m: float) -> np.ndarray:
    """Distance from each geometry to the nearest edge of a core other than ``own`` (capped at ``reach_m``).

    The search radius grows fourfold for the points still without an answer, so
    dense networks look only nearby and big empty gaps ask few points far out.
    """
    out = np.full(len(pts), float(reach_m))
    todo = np.arange(len(pts))
    radius = start_m
    while len(todo) and radius <= reach_m * 4:
        p, e = tree.query(pts[todo], predicate="dwithin", distance=min(radius, reach_m))
        other = edge_core[e] != own[todo][p]
        p, e = p[other], e[other]
        if len(p):
            d = shapely.distance(pts[todo][p], tree.geometries[e])
            best = np.full(len(todo), np.inf)
            np.minimum.at(best, p, d)
            found = np.isfinite(best)
            out[todo[found]] = np.minimum(best[found], reach_m)
            todo = todo[~found]
        if radius >= reach_m:
            break
        radius *= 4
    return out


def share_out_gaps(cores: np.ndarray, *, limit, spacing_m: float = 5.0, max_spacing_m: float = 200.0,
                   touch_m: float = 0.01) -> np.ndarray:
    """Grow polygons that do not overlap so that together they tile ``limit``.

    Every point of ``limit`` outside the cores goes to the nearest core; a
    core itself keeps exactly its own shape, so cores that share edges (a
    blocks layer) stay apart.  The work is in proportion to the gaps, not to
    the cores: each connected piece of the gap that touches one core goes to
    it whole (one that touches none, to the nearest core), and only pieces
    that touch several cores are cut, by a Voronoi tessellation of points
    along the piece's own edges with the cores (as in momepy's enclosed
    tessellation), spaced by a quarter of the gap's local width (the
    distance to the nearest other core), between ``spacing_m`` and
    ``max_spacing_m``.  The cells of each core's points are joined first and
    the gap is cut once per core (a huge connected gap, the road space of a
    city, in quadrant tiles), so many thin gaps between many cores stay cheap.

    Parameters
    ----------
    cores : ndarray of Polygons
        In a metric CRS; they may touch but not overlap.
    limit : Polygon or MultiPolygon
    spacing_m, max_spacing_m : float
        The finest and the coarsest spacing of the Voronoi seeds (metres).
    touch_m : float
        A gap edge this close to a core borders it.

    Returns
    -------
    ndarray of Polygons or MultiPolygons
        One per core, in the same order, clipped to ``limit``.

    Examples
    --------
    >>> import shapely
    >>> cores = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(30, 0, 40, 10)])
    >>> grown = share_out_gaps(cores, limit=shapely.box(0, 0, 40, 10))
    >>> [round(float(a)) for a in shapely.area(grown)]
    [100, 150, 150]
    """
    cores = np.asarray(cores, dtype=object)
    gap = shapely.difference(limit, shapely.union_all(cores))
    parts = shapely.get_parts(gap)
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 1e-6)]
    if len(parts) == 0 or len(cores) == 0:
        return shapely.intersection(cores, limit)
    edges, edge_core = _ring_edges(cores)
    tree = shapely.STRtree(edges)
    # seeds along each gap piece's rings, spaced by the local width of the gap: a quarter of the
    # distance to the nearest other core (between spacing_m and max_spacing_m)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coarse = shapely.segmentize(rings, max_spacing_m)
    xy, r = shapely.get_coordinates(coarse, return_index=True)
    same = r[1:] == r[:-1]
    a, b, edge_part = xy[:-1][same], xy[1:][same], ring_part[r[:-1][same]]
    coarse = shapely.linestrings(np.stack([a, b], axis=1))
    own = _nearest_core(tree, edge_core, shapely.points((a + b) / 2), touch_m, len(cores))
    gap_width = _distance_to_other_core(tree, edge_core, coarse, own, reach_m=4 * max_spacing_m,
                                        start_m=4 * spacing_m)
    fine = shapely.segmentize(coarse, np.clip(gap_width / 4, spacing_m, max_spacing_m))
    xy, e = shapely.get_coordinates(fine, return_index=True)
    part_of = edge_part[e]
    label = _nearest_core(tree, edge_core, shapely.points(xy), touch_m, len(cores))
    # seeds on the limit's edge go to no core
    on_core = label < len(cores)
    xy, part_of, label = xy[on_core], part_of[on_core], label[on_core]
    n_labels = pd.Series(label).groupby(part_of).nunique().reindex(np.arange(len(parts)), fill_value=0).to_numpy()
    owners, pieces = [np.arange(len(cores))], [cores]
    whole = np.flatnonzero(n_labels == 1)
    if len(whole):
        first = pd.Series(label).groupby(part_of).first()
        owners.append(first.reindex(whole).to_numpy())
        pieces.append(parts[whole])
    lone = np.flatnonzero(n_labels == 0)
    if len(lone):  # touches no core (or only at a point between seeds): the nearest one
        i, e = tree.query_nearest(parts[lone], all_matches=True)
        near = pd.DataFrame({"i": i, "c": edge_core[e]}).groupby("i")["c"].min()
        owners.append(near.reindex(np.arange(len(lone))).to_numpy())
        pieces.append(parts[lone])
    multi = np.flatnonzero(n_labels >= 2)
    if len(multi):
        sel = np.isin(part_of, multi)
        xy, label = xy[sel], label[sel]
        _, first = np.unique(np.round(xy, 3), axis=0, return_index=True)
        first.sort()
        xy, label = xy[first], label[first]
        # regular (co-circular) points give degenerate Voronoi cells in GEOS; a fixed
        # sub-centimetre jitter avoids that and keeps the result deterministic
        jitter = np.random.default_rng(0).uniform(-0.005, 0.005, size=xy.shape)
        bounds = np.r_[np.minimum(xy.min(axis=0), shapely.total_bounds(parts[multi])[:2]),
                       np.maximum(xy.max(axis=0), shapely.total_bounds(parts[multi])[2:])]
        region = shapely.box(*bounds)
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy + jitter), extend_to=region,
                                                           ordered=True))
        # the cells of one core's seeds form a coverage: join them first, then cut the gap once per core
        groups = pd.Series(np.arange(len(cells))).groupby(label).indices
        region_owner = np.fromiter(groups.keys(), dtype=np.int64, count=len(groups))
        regions = np.array([shapely.coverage_union_all(cells[ix]) for ix in groups.values()], dtype=object)
        tiles = _quad_tiles(parts[multi])  # a connected road space is one huge polygon: cut it first
        c, q = shapely.STRtree(tiles).query(regions, predicate="intersects")
        share = shapely.intersection(regions[c], tiles[q])
        keep = ~shapely.is_empty(share)
        owners.append(region_owner[c[keep]])
        pieces.append(share[keep])
    gdf = gpd.GeoDataFrame({"owner": np.concatenate(owners)}, geometry=np.concatenate(pieces))
    # dissolve each core with its share of the gap (snapped to 1 cm: the cells' edges are not exactly noded)
    grown = gdf.dissolve(by="owner", grid_size=0.01).reindex(np.arange(len(cores)))
    return shapely.intersection(grown.geometry.values, limit)


# --------------------------------------------------------------------------- broken networks

#: Dead ends within this distance of another line are joined to it (issue 18: gaps
#: in the road file leave superblocks that get cut between buildings).
GAP_M = 25.0
#: ... when the join continues the line's direction within this angle (degrees).
GAP_ANGLE_DEG = 20.0
#: ... and passes no household point closer than this (metres): never through a building.
GAP_CLEARANCE_M = 5.0
#: The direction of a line's end is taken over its last metres.
_END_DIRECTION_M = 10.0
#: A join runs this far past the line it meets, so that noding makes the junction.
_OVERSHOOT_M = 0.05


def _free_ends(parts: np.ndarray, tree) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """End points of open lines that touch no other line, the part they end, and their direction.

    The direction is the unit vector from the point ``_END_DIRECTION_M`` back
    along the line to the end (the end segment's direction on a short line).
    """
    open_ = ~shapely.is_closed(parts) & (shapely.get_num_points(parts) >= 2) & (shapely.length(parts) > 0)
    idx = np.flatnonzero(open_)
    length = shapely.length(parts[idx])
    back = np.minimum(_END_DIRECTION_M, length)
    ends = np.concatenate([shapely.get_point(parts[idx], 0), shapely.get_point(parts[idx], -1)])
    inner = np.concatenate([shapely.line_interpolate_point(parts[idx], back),
                            shapely.line_interpolate_point(parts[idx], length - back)])
    part_of = np.concatenate([idx, idx])
    if not len(ends):
        return ends, part_of, np.zeros((0, 2))
    e, q = tree.query(ends, predicate="intersects")
    touching = np.zeros(len(ends), bool)
    touching[e[q != part_of[e]]] = True
    xy = shapely.get_coordinates(ends)
    direction = xy - shapely.get_coordinates(inner)
    norm = np.hypot(direction[:, 0], direction[:, 1])
    ok = ~touching & (norm > 0)
    return ends[ok], part_of[ok], direction[ok] / norm[ok, None]


def close_gaps(
    lines: gpd.GeoDataFrame,
    *,
    max_gap_m: float = GAP_M,
    max_angle_deg: float = GAP_ANGLE_DEG,
    households: gpd.GeoDataFrame | None = None,
    clearance_m: float = GAP_CLEARANCE_M,
    undershoot_m: float = UNDERSHOOT_M,
    kinds: tuple[str, ...] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Join dead ends that stop short of another line; report every dead end.

    A free end (an end of a line touching no other line) is joined to the
    first line its straight extension meets within ``max_gap_m``, else to the
    nearest point of another line within ``max_gap_m`` that lies within
    ``max_angle_deg`` of the line's direction; within ``undershoot_m`` (a
    hair gap from digitising or reprojection) to the nearest line whatever
    the direction.  A join that would pass within ``clearance_m`` of a
    household point is not made (a cul-de-sac that ends at a building stays
    a cul-de-sac), and a join stops at the first line it crosses.  Only
    lines of ``kinds`` (by default :data:`DEAD_END_KINDS`: roads and
    streets, with a ``kind`` column) are joined across gaps; lanes, paths
    and footways often end short on purpose, and get only the hair-gap join.
    Each join is an extra row with the attributes of its line; noding then
    makes the junction.

    Parameters
    ----------
    lines : GeoDataFrame
        Linework (roads, barriers, boundaries) in a metric CRS.
    max_gap_m, max_angle_deg : float
        The longest join, and how far from the line's direction it may turn.
    households : GeoDataFrame, optional
        Household points (same CRS): joins keep ``clearance_m`` from them.
    clearance_m, undershoot_m : float
    kinds : tuple of str, optional
        The classes joined across gaps (default :data:`DEAD_END_KINDS`).

    Returns
    -------
    lines : GeoDataFrame
        ``lines`` followed by the joins (index reset).
    dead_ends : GeoDataFrame
        One point per free end: ``line`` (row position in ``lines``),
        ``gap_m`` (distance to the nearest other line, NaN beyond
        ``4 * max_gap_m``), ``closed`` (bool) and ``reason`` ("joined",
        "farther than max_gap_m", "not in the line's direction", "a household
        in the way", "a lane: only hair gaps are joined").

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> ring = shapely.LineString([(0, 0), (200, 0), (200, 100), (0, 100), (0, 0)])
    >>> stem = shapely.LineString([(100, 0), (100, 80)])  # a T that stops 20 m short
    >>> lines = gpd.GeoDataFrame({"kind": ["street"] * 2, "name": [None] * 2}, geometry=[ring, stem], crs=3857)
    >>> joined, dead_ends = close_gaps(lines)
    >>> len(joined), dead_ends[["gap_m", "closed"]].to_dict("records")
    (3, [{'gap_m': 20.0, 'closed': True}])
    """
    lines = lines.reset_index(drop=True)
    geoms = np.asarray(lines.geometry.values, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    linear = np.isin(shapely.get_type_id(parts), (1, 2)) & ~shapely.is_empty(parts)
    parts, owner = parts[linear], owner[linear]
    empty = gpd.GeoDataFrame({"line": pd.Series(dtype=np.int64), "gap_m": pd.Series(dtype=float),
                              "closed": pd.Series(dtype=bool), "reason": pd.Series(dtype=object)},
                             geometry=[], crs=lines.crs)
    if len(parts) < 2:
        return lines, empty
    tree = shapely.STRtree(parts)
    ends, part_of, direction = _free_ends(parts, tree)
    n = len(ends)
    if n == 0:
        return lines, empty
    xy = shapely.get_coordinates(ends)
    reach = 4 * max_gap_m
    if "kind" in lines:
        joinable = np.isin(lines["kind"].to_numpy()[owner[part_of]], kinds or DEAD_END_KINDS)
    else:
        joinable = np.ones(n, bool)
    # distance to the nearest other line (for the report and the candidates)
    e, q = tree.query(ends, predicate="dwithin", distance=reach)
    other = q != part_of[e]
    e, q = e[other], q[other]
    d = shapely.distance(ends[e], parts[q])
    gap = np.full(n, np.nan)
    if len(e):
        best = pd.Series(d).groupby(e).min()
        gap[best.index.to_numpy()] = best.to_numpy()
    target = np.full((n, 2), np.nan)

    def nearest_points(sel):
        """For the (end, line) pairs ``sel``: the line's nearest point to the end, taken where
        it lies within the angle or within ``undershoot_m``, the nearest first."""
        ee, qq, dd = e[sel], q[sel], d[sel]
        pt = shapely.get_coordinates(shapely.get_point(shapely.shortest_line(ends[ee], parts[qq]), 1))
        vec = pt - xy[ee]
        cos = np.einsum("ij,ij->i", vec, direction[ee]) / np.maximum(np.hypot(vec[:, 0], vec[:, 1]), 1e-12)
        ok = (cos >= np.cos(np.radians(max_angle_deg))) | (dd <= undershoot_m)
        cand = pd.DataFrame({"e": ee[ok], "d": dd[ok], "x": pt[ok, 0], "y": pt[ok, 1]})
        cand = cand.sort_values(["e", "d"], kind="stable").drop_duplicates("e")
        target[cand["e"].to_numpy()] = cand[["x", "y"]].to_numpy()

    # 0. a hair gap: the nearest line, whatever the direction
    nearest_points(d <= undershoot_m)
    # 1. the straight extension: the first line it meets
    ray = shapely.linestrings(np.stack([xy, xy + direction * max_gap_m], axis=1))
    r, s = tree.query(ray, predicate="intersects")
    keep = (s != part_of[r]) & np.isnan(target[r, 0]) & joinable[r]
    r, s = r[keep], s[keep]
    if len(r):
        along = shapely.distance(ends[r], shapely.intersection(ray[r], parts[s]))
        first = pd.Series(along).groupby(r).min()
        i = first.index.to_numpy()
        target[i] = xy[i] + direction[i] * first.to_numpy()[:, None]
    # 2. the nearest point within the angle
    nearest_points((d <= max_gap_m) & np.isnan(target[e, 0]) & joinable[e])
    has = ~np.isnan(target[:, 0])
    reason = np.where(has, "joined", np.where(np.nan_to_num(gap, nan=np.inf) > max_gap_m, "farther than max_gap_m",
                                              np.where(joinable, "not in the line's direction",
                                                       "a lane: only hair gaps are joined"))).astype(object)
    idx = np.flatnonzero(has)
    start = xy[idx]
    unit = target[idx] - start
    length = np.hypot(unit[:, 0], unit[:, 1])
    # (a join of no length, to a line the end already nearly touches, goes on in the line's direction)
    unit = np.where((length > 1e-6)[:, None], unit / np.maximum(length, 1e-12)[:, None], direction[idx])
    # a join stops at the first line it crosses, and overshoots it a little so noding makes the junction
    j, k = tree.query(shapely.linestrings(np.stack([start, target[idx]], axis=1)), predicate="intersects")
    keep = k != part_of[idx][j]
    j, k = j[keep], k[keep]
    if len(j):
        seg = shapely.linestrings(np.stack([start[j], target[idx][j]], axis=1))
        along = shapely.distance(ends[idx][j], shapely.intersection(seg, parts[k]))
        first = pd.Series(along).groupby(j).min()
        length[first.index.to_numpy()] = np.minimum(length[first.index.to_numpy()], first.to_numpy())
    join = shapely.linestrings(np.stack([start, start + unit * (length + _OVERSHOOT_M)[:, None]], axis=1))
    if households is not None and len(households) and len(join):
        h, _ = shapely.STRtree(households.geometry.values).query(join, predicate="dwithin", distance=clearance_m)
        blocked = np.zeros(len(join), bool)
        blocked[h] = True
        reason[idx[blocked]] = "a household in the way"
        idx, join = idx[~blocked], join[~blocked]
    closed = np.zeros(n, bool)
    closed[idx] = True
    dead_ends = gpd.GeoDataFrame({"line": owner[part_of], "gap_m": np.round(gap, 3), "closed": closed,
                                  "reason": reason}, geometry=ends, crs=lines.crs)
    if len(idx):
        extra = lines.iloc[owner[part_of[idx]]].copy()
        extra = extra.set_geometry(gpd.GeoSeries(join, index=extra.index, crs=lines.crs))
        lines = pd.concat([lines, extra], ignore_index=True)
    return lines, dead_ends


#: Road classes a big block is cut along (:func:`split_big_blocks`): streets, not lanes or footways.
DEAD_END_KINDS = ("road", "street")


def _point_piece(pieces: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The piece each point lies in (the first on a shared edge), else the nearest piece."""
    out = np.zeros(len(xy), dtype=np.int64)
    if len(pieces) < 2 or len(xy) == 0:
        return out
    pts = shapely.points(xy)
    tree = shapely.STRtree(pieces)
    p, k = tree.query(pts, predicate="intersects")
    out[:] = -1
    df = pd.DataFrame({"p": p, "k": k}).sort_values(["p", "k"]).drop_duplicates("p")
    out[df["p"].to_numpy()] = df["k"].to_numpy()
    left = np.flatnonzero(out < 0)
    if len(left):
        out[left] = tree.nearest(pts[left])
    return out


#: A block above the band is cut along its dead-end streets when its area per
#: household is more than this many times the median of the blocks with households:
#: a block that large for its households usually means a gap in the road data.
SPARSE_BLOCK_RATIO = 2.0


def _sparse_blocks(blocks: gpd.GeoDataFrame) -> set:
    """Ids of the blocks unusually large for their households (see :data:`SPARSE_BLOCK_RATIO`)."""
    hh = blocks["households"].to_numpy(dtype=float)
    lived = hh > 0
    if not lived.any():
        return set()
    per = shapely.area(blocks.geometry.values) / np.where(lived, hh, np.nan)
    median = float(np.nanmedian(per[lived]))
    return set(blocks["block_id"].to_numpy()[lived & (per > SPARSE_BLOCK_RATIO * median)].tolist())


def dead_end_pieces(block, roads: gpd.GeoDataFrame, *, kinds: tuple[str, ...] = DEAD_END_KINDS,
                    avoid: np.ndarray | None = None, clearance_m: float = GAP_CLEARANCE_M,
                    min_area_m2: float = 150.0, min_width_m: float = 4.0) -> np.ndarray:
    """A block cut along the streets that run into it and end inside it.

    The lines of ``roads`` of the given ``kinds`` inside the block are
    dangles (dead-end streets); each free end is extended straight, in the
    street's direction, to the block's edge or the first line it meets, and
    the block is cut along the streets and their extensions.  An extension
    that would pass within ``clearance_m`` of a point of ``avoid``
    (buildings, households) is not drawn.  Slivers (smaller than
    ``min_area_m2`` or narrower than ``min_width_m``) join the neighbour they
    share most edge with.

    Returns
    -------
    ndarray of Polygons
        The pieces (the block alone when no street cuts it).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> block = shapely.box(0, 0, 200, 100)
    >>> street = gpd.GeoDataFrame({"kind": ["street"]}, geometry=[shapely.LineString([(100, 0), (100, 60)])])
    >>> sorted(round(float(a)) for a in shapely.area(dead_end_pieces(block, street)))
    [10000, 10000]
    """
    alone = np.array([block], dtype=object)
    geoms = roads.geometry.values
    i = shapely.STRtree(geoms).query(block, predicate="intersects")
    i = i[np.isin(roads["kind"].to_numpy()[i], kinds)]
    if not len(i):
        return alone
    inner = shapely.get_parts(shapely.intersection(geoms[i], block))
    inner = inner[np.isin(shapely.get_type_id(inner), (1, 2)) & (shapely.length(inner) > 0.5)]
    if not len(inner):
        return alone
    edge = shapely.boundary(block)
    inner = inner[shapely.distance(shapely.line_interpolate_point(inner, 0.5, normalized=True), edge) > 0.01]
    inner = shapely.get_parts(shapely.line_merge(shapely.union_all(inner))) if len(inner) else inner
    if not len(inner):
        return alone
    lines = np.concatenate([inner, shapely.get_parts(edge)])
    tree = shapely.STRtree(lines)
    ends, part_of, direction = _free_ends(lines, tree)
    keep = part_of < len(inner)  # ends of the streets, not of the block's edge
    ends, part_of, direction = ends[keep], part_of[keep], direction[keep]
    ends_xy = shapely.get_coordinates(ends)
    inside = shapely.distance(ends, edge) > 0.01
    ends, part_of, direction, ends_xy = ends[inside], part_of[inside], direction[inside], ends_xy[inside]
    cuts = [*inner]
    if len(ends):
        x0, y0, x1, y1 = shapely.bounds(block)
        far = np.hypot(x1 - x0, y1 - y0)
        ray = shapely.linestrings(np.stack([ends_xy, ends_xy + direction * far], axis=1))
        r, q = tree.query(ray, predicate="intersects")
        own = q == part_of[r]
        r, q = r[~own], q[~own]
        if len(r):
            along = shapely.distance(ends[r], shapely.intersection(ray[r], lines[q]))
            first = pd.Series(along).groupby(r).min()
            k = first.index.to_numpy()
            stop = ends_xy[k] + direction[k] * (first.to_numpy() + _OVERSHOOT_M)[:, None]
            ext = shapely.linestrings(np.stack([ends_xy[k], stop], axis=1))
            if avoid is not None and len(avoid):
                h, _ = shapely.STRtree(shapely.points(avoid)).query(ext, predicate="dwithin", distance=clearance_m)
                ext = ext[~np.isin(np.arange(len(ext)), h)]
            cuts.extend(ext)
    noded = shapely.union_all(np.concatenate([np.array(cuts, dtype=object), shapely.get_parts(edge)]))
    pieces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    pieces = pieces[shapely.covered_by(shapely.point_on_surface(pieces), block) & (shapely.area(pieces) > 0)]
    if len(pieces) < 2:
        return alone
    area = shapely.area(pieces)
    width = 2 * area / np.maximum(shapely.length(shapely.get_exterior_ring(pieces)), 1e-9)
    merged, _ = merge_into_neighbours(pieces, (area < min_area_m2) | (width < min_width_m))
    merged = shapely.make_valid(merged)
    # a block with holes: the pieces are cut from the block itself
    merged = shapely.intersection(merged, block)
    merged = merged[~shapely.is_empty(merged) & (shapely.area(merged) > 0)]
    return merged if len(merged) > 1 else alone
