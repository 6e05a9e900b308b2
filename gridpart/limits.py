"""Four limits (四至): which road bounds each grid on the east, south, west and north.

Rule (DESIGN §4, "Four limits")
-------------------------------
1. Strips narrower than ``min_width_m`` are taken off each grid first
   (the bits of road space between two carriageways that a grid can hold);
   a grid made only of such strips is kept whole.
2. The outer boundary (exterior rings of the parts, holes ignored, rings
   oriented counter-clockwise) is cut into pieces: its own edges, cut to at
   most ``spacing_m``.  Grids are unions of faces of the noded linework, so
   their vertices fall where one road meets another and an edge runs along
   one road; each piece is labelled at its midpoint and weighs its length.
   A piece is on the east side when its outward normal is within 45° of east
   *and* it lies east of the grid's centroid, and so on; pieces that face one
   way but lie on the other side (the inner edges of an L or a U) count for
   no side.  A side with no piece (a triangle, say) takes the pieces whose
   normals point most nearly that way.
3. Each piece takes the label of the noded linework it runs along (the
   nearest segment within ``snap_m`` of its midpoint): the road's name; for an
   unnamed road its class (无名路 / 无名街 / 无名巷, 无名界线 for a barrier);
   社区边界 for a community boundary or the edge of the study area; 楼栋间
   (between buildings) where it runs along no line at all, which is a cut
   inside a block.
4. A side names the named road with most length along it when that road
   makes at least ``min_named_share`` of the side (a few metres of fallback
   should not hide the street a side really follows); otherwise the label
   with most length, fallbacks included.  Ties go to the label that sorts
   first.

Text: ``东至学院路，南至清华东路，西至…，北至…`` (full-width commas) and, in
English, ``East: Xueyuan Road; South: Qinghua East Road; …`` with the road's
``name_en`` where the data has one, else a romanisation (:func:`romanize`:
pinyin of the name's stem, then its direction and road type in English).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import Problems

__all__ = [
    "SIDES",
    "FALLBACK_ZH",
    "FALLBACK_EN",
    "four_limits",
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
    "community": "社区边界", "limit": "社区边界", "none": "楼栋间",
}
#: English for the fallback labels.
FALLBACK_EN = {
    "无名路": "unnamed road", "无名街": "unnamed street", "无名巷": "unnamed lane",
    "无名界线": "unnamed barrier", "社区边界": "community boundary", "楼栋间": "between buildings",
}

# Chinese road-name endings -> English, longest first (GB/T 17733 style: 学院路 -> Xueyuan Road).
_TYPES = (
    ("高速公路", "Expressway"), ("快速路", "Expressway"), ("高速", "Expressway"), ("辅路", "Side Road"),
    ("大街", "Street"), ("大道", "Avenue"), ("胡同", "Hutong"), ("环路", "Ring Road"), ("公路", "Highway"),
    ("天桥", "Overpass"), ("路", "Road"), ("街", "Street"), ("巷", "Lane"), ("道", "Road"), ("桥", "Bridge"),
    ("河", "River"), ("渠", "Canal"), ("里", "Li"),
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


def four_limits(
    grids: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    spacing_m: float = 50.0,
    snap_m: float = 2.0,
    min_named_share: float = 0.25,
    min_width_m: float = 12.0,
) -> pd.DataFrame:
    """The label of each side of each grid, and the four-limit text in Chinese and English.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons in a projected CRS (metres).
    segments : GeoDataFrame
        The noded linework the grids were cut along, same CRS: ``kind``
        (road/street/lane/barrier/community/limit), ``name``, optional
        ``name_en`` (as :func:`gridpart.blocks.noded_segments` returns).
    spacing_m : float
        Longest boundary piece, in metres.
    snap_m : float
        How far a piece's midpoint may lie from the line it runs along.
    min_named_share : float
        Share of a side a named road must make to name it before fallbacks.
    min_width_m : float
        Strips narrower than this are left out (0 keeps everything).

    Returns
    -------
    DataFrame
        Index of ``grids``: ``east``, ``south``, ``west``, ``north`` (labels
        in Chinese), ``east_en`` … ``north_en``, ``limits`` (Chinese text) and
        ``limits_en``.

    Raises
    ------
    InputError
        A geographic CRS, a CRS mismatch, missing columns, bad parameters.

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
    '东至学院路，南至清华东路，西至无名巷，北至社区边界'
    >>> out.loc[0, "limits_en"]
    'East: Xueyuan Road; South: Qinghua East Road; West: unnamed lane; North: community boundary'
    """
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
    if "kind" not in segments.columns:
        problems.add("segments['kind']", "the column is missing", fix="pass noded segments with kind and name")
    if not (isinstance(min_width_m, (int, float)) and min_width_m >= 0):
        problems.add("min_width_m", f"must be a number of metres >= 0, got {min_width_m!r}", fix="e.g. 12")
    for name, value in (("spacing_m", spacing_m), ("snap_m", snap_m)):
        if not (isinstance(value, (int, float)) and value > 0):
            problems.add(name, f"must be a positive number of metres, got {value!r}", fix=f"e.g. {name}=5")
    if not (isinstance(min_named_share, (int, float)) and 0 <= min_named_share <= 1):
        problems.add("min_named_share", f"must lie in [0, 1], got {min_named_share!r}", fix="e.g. 0.25")
    problems.raise_if_any()

    n = len(grids)
    geoms = np.asarray(grids.geometry.values, dtype=object)
    who, mid, length, normal = _pieces(_opened(geoms, float(min_width_m)), float(spacing_m))
    cen = shapely.get_coordinates(shapely.centroid(geoms))
    seg_geoms = segments.geometry.values
    seg_of = np.full(len(mid), -1, dtype=np.int64)
    if len(seg_geoms) and len(mid):
        p, q = shapely.STRtree(seg_geoms).query_nearest(shapely.points(mid), max_distance=snap_m, all_matches=False)
        seg_of[p] = q
    label = np.where(seg_of >= 0, _segment_labels(segments)[np.maximum(seg_of, 0)], FALLBACK_ZH["none"])
    angle = np.degrees(np.arctan2(normal[:, 1], normal[:, 0]))
    side = np.select([(angle > -45) & (angle <= 45), (angle > 45) & (angle <= 135), (angle <= -45) & (angle > -135)],
                     ["east", "north", "south"], "west").astype(object)
    rel = mid - cen[who] if len(who) else np.zeros((0, 2))
    sx = np.select([side == "east", side == "west"], [1.0, -1.0], 0.0)
    sy = np.select([side == "north", side == "south"], [1.0, -1.0], 0.0)
    side[rel[:, 0] * sx + rel[:, 1] * sy <= 0] = None  # faces that way but lies on the other side
    pieces = pd.DataFrame({"grid": who, "side": side, "label": label, "len": length}).dropna(subset=["side"])
    fallback_labels = set(FALLBACK_ZH.values())
    pieces["named"] = ~pieces["label"].isin(fallback_labels)
    agg = pieces.groupby(["grid", "side", "label"], sort=True).agg(len=("len", "sum"), named=("named", "first"))
    agg = agg.reset_index()
    agg["share"] = agg["len"] / agg.groupby(["grid", "side"])["len"].transform("sum")
    agg["prefer"] = agg["named"] & (agg["share"] >= min_named_share)
    best = agg.sort_values(["grid", "side", "prefer", "len", "label"], ascending=[True, True, False, False, True])
    best = best.drop_duplicates(["grid", "side"]).set_index(["grid", "side"])["label"]
    out = pd.DataFrame(index=pd.RangeIndex(n))
    for s in SIDES:
        col = best.xs(s, level="side") if s in best.index.get_level_values("side") else pd.Series(dtype=object)
        col = col.reindex(range(n))
        empty = col.isna().to_numpy() & np.isin(np.arange(n), who)
        if empty.any():  # no piece faces this way: the pieces facing most nearly that way
            dx, dy = _SIDE_DIR[s]
            facing = pd.DataFrame({"grid": who, "dot": normal[:, 0] * dx + normal[:, 1] * dy, "label": label})
            facing = facing[facing["grid"].isin(np.flatnonzero(empty))]
            top = facing.sort_values(["grid", "dot", "label"], ascending=[True, False, True]).drop_duplicates("grid")
            col.iloc[top["grid"].to_numpy()] = top["label"].to_numpy()
        out[s] = col.fillna(FALLBACK_ZH["limit"]).to_numpy()
    en_names = _english_names(segments)
    labels = pd.unique(out[list(SIDES)].to_numpy().ravel())
    english = {v: _english(v, en_names) for v in labels}
    for s in SIDES:
        out[f"{s}_en"] = out[s].map(english)
    out["limits"] = limits_text(out, language="zh")
    out["limits_en"] = limits_text(out, language="en")
    out.index = grids.index
    return out


def _english_names(segments: gpd.GeoDataFrame) -> dict[str, str]:
    if "name_en" not in segments.columns or "name" not in segments.columns:
        return {}
    pairs = segments.loc[segments["name"].notna() & segments["name_en"].notna(), ["name", "name_en"]]
    pairs = pairs.astype(str)
    # the most frequent English name per Chinese name (ties: alphabetical)
    counts = pairs.groupby(["name", "name_en"]).size().reset_index(name="n")
    counts = counts.sort_values(["name", "n", "name_en"], ascending=[True, False, True]).drop_duplicates("name")
    return dict(zip(counts["name"].str.strip(), counts["name_en"].str.strip()))


def _english(label: str, en_names: dict[str, str]) -> str:
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
