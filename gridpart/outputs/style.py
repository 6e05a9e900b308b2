"""The drawing style every map of gridpart shares: fonts, colours, halos, scale bar, north arrow.

:func:`plot_plan <gridpart.outputs.plot.plot_plan>`, the atlas pages and
:func:`explore <gridpart.outputs.explore.explore>` draw with these, so a grid
has the same colour, a road the same line and a label the same halo on every
map.  Chinese text needs a CJK-capable font: :func:`cjk_font` looks for one,
in this order: a font file named by the ``GRIDPART_CJK_FONT`` environment
variable, the fonts matplotlib knows, the Noto/Source Han fonts shipped inside
the optional ``mplfonts`` package (``pip install "gridpart[cjk]"``), and the
system's font files (Debian: ``fonts-noto-cjk``).
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from gridpart.plan import GridPlan

log = logging.getLogger(__name__)

#: Qualitative fill colours (light, so that roads and labels stay readable).
PALETTE: tuple[str, ...] = (
    "#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#fb9a99", "#ffff99",
    "#8dd3c7", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#80b1d3",
)

#: How each road class is drawn: colour, line width (points), line style, legend label.
ROAD_STYLES: dict[str, dict[str, Any]] = {
    "road": {"color": "#5a5a5a", "linewidth": 2.6, "linestyle": "-", "label": "road", "zh": "路"},
    "street": {"color": "#7a7a7a", "linewidth": 1.4, "linestyle": "-", "label": "street", "zh": "街"},
    "lane": {"color": "#9a9a9a", "linewidth": 0.6, "linestyle": "-", "label": "lane", "zh": "巷"},
    "barrier": {"color": "#3b6fb6", "linewidth": 1.2, "linestyle": (0, (4, 2)), "label": "barrier",
                "zh": "障碍"},
}

#: How community boundaries are drawn (over grid boundaries).
COMMUNITY_STYLE: dict[str, Any] = {"color": "#8c1c13", "linewidth": 3.2, "linestyle": (0, (6, 2))}

#: The attribution line for maps of OpenStreetMap data.
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

#: Environment variable naming a CJK font file to use before any other.
CJK_FONT_ENV = "GRIDPART_CJK_FONT"

_CJK_NAMES = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "SimHei", "Source Han",
              "Droid Sans Fallback", "AR PL")
# file names of the same families, for fonts installed after matplotlib built its cache
_CJK_FILES = re.compile(r"(cjk|wqy|wenquanyi|simhei|sourcehan|droidsansfallback|uming|ukai|gkai|gbsn)",
                        re.IGNORECASE)
_CJK_TEXT = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]")
_ROUND_LENGTHS = (1, 2, 5)

_font_cache: dict[str, str | None] = {}
_warned: set[str] = set()


# --------------------------------------------------------------------------- fonts


def _rank_font(name: str) -> tuple:
    """Sort key: Chinese (SC/CN) faces first, sans before serif, proportional before mono."""
    upper = name.upper()
    chinese = any(tag in upper.split() for tag in ("SC", "CN", "GB")) or "WENQUANYI" in upper \
        or "SIMHEI" in upper or "AR PL" in upper
    return (not chinese, "SERIF" in upper, "MONO" in upper, name)


def _known_cjk_names() -> list[str]:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return sorted((n for n in names if any(key.lower() in n.lower() for key in _CJK_NAMES)), key=_rank_font)


def _add_font_files(paths: list[str]) -> list[str]:
    """Add font files to matplotlib; return the family names they brought."""
    from matplotlib import font_manager

    before = {f.name for f in font_manager.fontManager.ttflist}
    for path in paths:
        try:
            font_manager.fontManager.addfont(path)
        except Exception as exc:  # an unreadable file must not break plotting
            log.debug("could not add font %s: %s", path, exc)
    return sorted({f.name for f in font_manager.fontManager.ttflist} - before)


def _packaged_cjk_files() -> list[str]:
    """Noto / Source Han font files shipped inside the ``mplfonts`` package, if installed.

    The package is located without importing it (importing it changes nothing
    here, but costs time); only its open-licence (SIL OFL) faces are used.
    """
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("mplfonts")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    files: list[str] = []
    for root in spec.submodule_search_locations:
        folder = Path(root) / "fonts"
        if folder.is_dir():
            files += [str(p) for p in sorted(folder.iterdir())
                      if p.suffix.lower() in (".otf", ".ttf", ".ttc")
                      and p.name.lower().startswith(("noto", "sourcehan"))]
    # Noto Sans CJK SC first: it is the face a map label wants
    return sorted(files, key=lambda f: ("sanscjk" not in f.lower(), "mono" in f.lower(), f))


def _system_cjk_files() -> list[str]:
    from matplotlib import font_manager

    try:
        return sorted(p for p in font_manager.findSystemFonts() if _CJK_FILES.search(p.rsplit("/", 1)[-1]))
    except Exception as exc:  # a broken font directory must not break plotting
        log.debug("scanning system fonts failed: %s", exc)
        return []


def cjk_font() -> str | None:
    """The family name of a CJK-capable font matplotlib can use, or None.

    Looks, in this order, at

    1. the font file named by the ``GRIDPART_CJK_FONT`` environment variable;
    2. matplotlib's known fonts: Noto Sans/Serif CJK, WenQuanYi, SimHei,
       Source Han, Droid Sans Fallback or AR PL faces, simplified-Chinese
       sans-serif ones first;
    3. the Noto CJK fonts shipped in the optional ``mplfonts`` package
       (``pip install "gridpart[cjk]"``), added to matplotlib;
    4. the system's font files (matplotlib's font cache does not see fonts
       installed after it was built), added to matplotlib.

    Nothing is downloaded.  The answer is cached for the session.

    Returns
    -------
    str or None

    Examples
    --------
    >>> name = cjk_font()
    >>> name is None or isinstance(name, str)
    True
    """
    import os

    if "name" in _font_cache:
        return _font_cache["name"]
    name: str | None = None
    chosen = os.environ.get(CJK_FONT_ENV)
    if chosen:
        added = _add_font_files([chosen])
        if added:
            name = sorted(added, key=_rank_font)[0]
        else:
            log.warning("%s=%s: no font could be read from that file", CJK_FONT_ENV, chosen)
    if name is None:
        names = _known_cjk_names()
        if not names:
            _add_font_files(_packaged_cjk_files())
            names = _known_cjk_names()
        if not names:
            _add_font_files(_system_cjk_files())
            names = _known_cjk_names()
        name = names[0] if names else None
    _font_cache["name"] = name
    log.debug("CJK font: %s", name)
    return name


def font_family() -> list[str]:
    """Font family list for map text: the CJK font (when one is found), then DejaVu Sans."""
    font = cjk_font()
    return [font, "DejaVu Sans"] if font else ["DejaVu Sans"]


def has_cjk(text: str | None) -> bool:
    return isinstance(text, str) and bool(_CJK_TEXT.search(text))


def warn_no_cjk_font() -> None:
    if "cjk" in _warned:
        return
    _warned.add("cjk")
    warnings.warn(
        "gridpart.outputs.plot: the map holds Chinese text but no CJK font was found, so those "
        "characters will show as empty boxes. Install one: pip install \"gridpart[cjk]\" "
        "(Noto Sans CJK SC from PyPI), or apt-get install fonts-noto-cjk (Debian/Ubuntu), or "
        f"set {CJK_FONT_ENV} to a font file.",
        UserWarning, stacklevel=3,
    )


# --------------------------------------------------------------------------- colours


def grid_adjacency(plan: GridPlan) -> nx.Graph:
    """Graph of grids (by ``grid_id``) that share a boundary.

    Built from the atom graph (``plan.edges`` with ``plan.blocks``'s
    atom → grid map); when the plan carries no edges, from grids whose
    geometries share more than a point.

    Parameters
    ----------
    plan : GridPlan

    Returns
    -------
    networkx.Graph
        Nodes are grid ids in ascending order.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> g = grid_adjacency(plan)
    >>> g.number_of_nodes() == len(plan.grids)
    True
    """
    ids = np.sort(plan.grids["grid_id"].to_numpy())
    graph = nx.Graph()
    graph.add_nodes_from(int(i) for i in ids)
    edges = plan.edges
    blocks = plan.blocks
    if (edges is not None and len(edges) and {"a", "b"} <= set(edges.columns)
            and {"atom_id", "grid_id"} <= set(blocks.columns)):
        grid_of = pd.Series(blocks["grid_id"].to_numpy(), index=blocks["atom_id"].to_numpy())
        ga = grid_of.reindex(edges["a"].to_numpy()).to_numpy()
        gb = grid_of.reindex(edges["b"].to_numpy()).to_numpy()
        keep = pd.notna(ga) & pd.notna(gb)
        ga, gb = ga[keep].astype(np.int64), gb[keep].astype(np.int64)
        diff = ga != gb
        pairs = {(int(min(a, b)), int(max(a, b))) for a, b in zip(ga[diff], gb[diff])}
    else:
        geoms = plan.grids.geometry.values
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        shared = shapely.intersection(geoms[left], geoms[right])
        touch = shapely.get_dimensions(shared) >= 1
        gid = plan.grids["grid_id"].to_numpy()
        pairs = {(int(min(gid[a], gid[b])), int(max(gid[a], gid[b]))) for a, b in zip(left[touch], right[touch])}
    graph.add_edges_from(sorted(pairs))
    return graph


def grid_colours(plan: GridPlan, *, palette: tuple[str, ...] = PALETTE) -> pd.Series:
    """A fill colour per grid such that neighbouring grids differ.

    Greedy colouring (largest degree first, ties by grid id) of
    :func:`grid_adjacency`; deterministic for a given plan.  When the
    colouring needs more colours than ``palette`` holds (rare: road maps are
    nearly planar), further colours come from matplotlib's ``tab20``.

    Parameters
    ----------
    plan : GridPlan
    palette : tuple of str
        Colours, in order of use.

    Returns
    -------
    pandas.Series
        Indexed by ``grid_id``: hex colour strings.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> colours = grid_colours(plan)
    >>> g = grid_adjacency(plan)
    >>> all(colours[a] != colours[b] for a, b in g.edges)
    True
    """
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    graph = grid_adjacency(plan)
    # largest_first sorts by degree with a stable sort over the node order (ascending ids)
    index = nx.greedy_color(graph, strategy="largest_first")
    n_colours = max(index.values(), default=-1) + 1
    colours = list(palette)
    if n_colours > len(colours):
        extra = [to_hex(c) for c in colormaps["tab20"].colors]
        colours += [c for c in extra if c not in colours]
        log.debug("grid colouring needs %d colours; palette extended", n_colours)
    if n_colours > len(colours):  # pragma: no cover - needs a graph with a 33-clique
        colours = [to_hex(colormaps["hsv"](i / n_colours)) for i in range(n_colours)]
    ids = plan.grids["grid_id"].to_numpy()
    return pd.Series([colours[index[int(i)]] for i in ids], index=pd.Index(ids, name="grid_id"), name="colour")


def grid_labels(grids: gpd.GeoDataFrame, *, short: bool = False) -> pd.Series:
    """The name each grid is labelled with: its ``code`` where the column holds one, else its ``grid_id``.

    Parameters
    ----------
    grids : GeoDataFrame
        ``plan.grids`` (any frame with ``grid_id`` and optionally ``code``
        and ``community_id``).
    short : bool
        Drop the part of the codes that all grids of a community share (the
        community's code), keeping the sequence number: what a map of one
        district needs, where 14-digit codes would crowd the labels.  A
        community with a single coded grid keeps its full code.

    Returns
    -------
    pandas.Series
        Indexed like ``grids``: strings.

    Examples
    --------
    >>> import geopandas as gpd
    >>> grids = gpd.GeoDataFrame({"grid_id": [1, 2, 3], "community_id": ["a", "a", "a"],
    ...                           "code": ["11010800100101", "11010800100102", None]})
    >>> grid_labels(grids).tolist()
    ['11010800100101', '11010800100102', '3']
    >>> grid_labels(grids, short=True).tolist()
    ['01', '02', '3']
    """
    ids = grids["grid_id"].astype(str)
    if "code" not in grids:
        return ids.rename("label")
    code = grids["code"]
    has = code.notna() & (code.astype(str).str.strip() != "")
    text = code.astype(str).where(has, ids)
    if short and has.any():
        import os

        community = grids["community_id"].astype(str) if "community_id" in grids else pd.Series("", index=grids.index)
        for _, rows in text[has].groupby(community[has], sort=False):
            if len(rows) < 2:
                continue
            prefix = os.path.commonprefix(rows.tolist())
            keep = max(min(len(c) for c in rows) - len(prefix), 2)
            text.loc[rows.index] = [c[-keep:] for c in rows]
    return text.rename("label")


# --------------------------------------------------------------------------- map furniture


def _round_length(span_m: float) -> float:
    """A round length (1, 2 or 5 × 10^k metres) of about a fifth of ``span_m``."""
    want = max(span_m / 5.0, 1e-9)
    exp = math.floor(math.log10(want))
    best = 10.0 ** exp
    for m in _ROUND_LENGTHS:
        if m * 10.0 ** exp <= want:
            best = m * 10.0 ** exp
    return best


def _length_text(metres: float) -> str:
    if metres >= 1000:
        km = metres / 1000
        return f"{km:g} km"
    return f"{metres:g} m"


def scale_bar(ax: Axes, fontfamily: list[str]) -> None:
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _round_length(x1 - x0)
    bar = AnchoredSizeBar(ax.transData, length, _length_text(length), loc="lower left", pad=0.4,
                          borderpad=0.6, sep=3, frameon=False, size_vertical=(y1 - y0) * 0.006,
                          color="black", label_top=True,
                          fontproperties=FontProperties(family=fontfamily, size=8))
    for text in bar.txt_label.get_children():
        text.set_path_effects(halo())
    bar.set_zorder(20)
    ax.add_artist(bar)


def north_arrow(ax: Axes, fontfamily: list[str]) -> None:
    ax.annotate("N", xy=(0.95, 0.96), xytext=(0.95, 0.87), xycoords="axes fraction",
                textcoords="axes fraction", ha="center", va="center", fontsize=10, fontweight="bold",
                fontfamily=fontfamily, zorder=20,
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5,
                            "mutation_scale": 14, "shrinkA": 6, "shrinkB": 0})


def halo(width: float = 2.5) -> list:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


# --------------------------------------------------------------------------- the map


def to_metric(gdf: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    if gdf is None or len(gdf) == 0 or gdf.crs is None or crs is None:
        return gdf
    return gdf.to_crs(crs)


def polygon_parts(geom) -> list:
    parts, done = [geom], []
    while parts:
        g = parts.pop()
        kind = g.geom_type
        if kind == "Polygon":
            if not g.is_empty:
                done.append(g)
        elif kind in ("MultiPolygon", "GeometryCollection"):
            parts.extend(shapely.get_parts(g))
    return done


def tidy(geoms: gpd.GeoSeries, *, min_hole_m2: float = 1.0) -> gpd.GeoSeries:
    """Geometries for drawing: valid, without zero-area holes or slits.

    Dissolved grids can carry slivers of holes a few centimetres wide; drawn
    as bold boundary they look like cuts inside a grid.  Only the map uses
    this: the plan's geometries are not changed.
    """
    out = []
    for geom in shapely.make_valid(geoms.values):
        polys = [shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= min_hole_m2])
                 for p in polygon_parts(geom)]
        out.append(shapely.union_all(polys) if polys else geom)
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)


def work_crs(plan: GridPlan):
    """The metric CRS maps of ``plan`` are drawn in (:attr:`GridPlan.metric_crs`)."""
    return plan.metric_crs


def attribution_line(plan: GridPlan, attribution: str | None) -> str | None:
    if attribution == "auto":
        return plan.record.attribution or OSM_ATTRIBUTION
    return attribution


def community_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Boundary lines of each community: the union of its grids, in ``grids``'s CRS."""
    key = grids["community_id"].astype(str) if "community_id" in grids else pd.Series("", index=grids.index)
    geoms = [shapely.union_all(shapely.make_valid(grids.geometry.values[(key == k).to_numpy()]))
             for k in sorted(key.unique())]
    return gpd.GeoSeries(shapely.boundary(np.array(geoms, dtype=object)), crs=grids.crs)


def road_name_labels(roads: gpd.GeoDataFrame, *, min_length_m: float = 0.0,
                     kinds: tuple[str, ...] = ("road", "street")) -> pd.DataFrame:
    """Where to write each road name: one label per name, on its longest straight-ish piece.

    Parameters
    ----------
    roads : GeoDataFrame
        Road lines in a metric CRS with ``name`` (and ``kind``).
    min_length_m : float
        Names whose pieces are all shorter than this are left out.
    kinds : tuple of str
        Road classes to label (lanes are left out by default).

    Returns
    -------
    DataFrame
        ``name``, ``x``, ``y``, ``angle`` (degrees, in (-90, 90]), ``length_m``,
        sorted by length (longest first), then name.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"name": ["学院路", "学院路"], "kind": ["road", "road"]},
    ...     geometry=[shapely.LineString([(0, 0), (0, 100)]), shapely.LineString([(0, 100), (0, 150)])])
    >>> road_name_labels(roads)[["name", "x", "y", "angle"]].values.tolist()
    [['学院路', 0.0, 75.0, 90.0]]
    """
    columns = ["name", "x", "y", "angle", "length_m"]
    if roads is None or len(roads) == 0 or "name" not in roads:
        return pd.DataFrame(columns=columns)
    names = roads["name"]
    keep = names.notna() & (names.astype(str).str.strip() != "")
    if "kind" in roads:
        keep &= roads["kind"].astype(str).isin(kinds)
    part = roads[keep.to_numpy()]
    rows = []
    for name, group in part.groupby(part["name"].astype(str), sort=True):
        merged = shapely.line_merge(shapely.union_all(group.geometry.values))
        pieces = [g for g in shapely.get_parts(merged) if g.geom_type == "LineString"]
        if not pieces:
            continue
        best = max(pieces, key=lambda g: (g.length, g.wkb))
        if best.length < min_length_m:
            continue
        mid = best.interpolate(0.5, normalized=True)
        a = best.interpolate(max(best.length / 2 - best.length * 0.1, 0))
        b = best.interpolate(min(best.length / 2 + best.length * 0.1, best.length))
        angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
        if angle > 90:
            angle -= 180
        elif angle <= -90:
            angle += 180
        rows.append((name, round(mid.x, 2), round(mid.y, 2), round(angle, 1), best.length))
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["length_m", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)


def displayable_names(roads: gpd.GeoDataFrame, font: str | None) -> gpd.GeoDataFrame:
    """Roads whose ``name`` can be drawn: as is with a CJK font; without one, ``name_en`` where
    the data has it, and Chinese-only names left out (rather than drawn as boxes)."""
    if font is not None or "name" not in roads:
        return roads
    local = roads["name"]
    if "name_en" in roads:
        local = roads["name_en"].where(roads["name_en"].notna(), local)
    return roads.assign(name=local.where(~local.map(has_cjk), None))
