"""Maps of a :class:`~gridpart.plan.GridPlan`.

:func:`plot_plan` draws the grids in the plan's metric working CRS (so the map
is not stretched the way longitude/latitude would be), filled from a small
qualitative palette by a greedy colouring of the grid adjacency graph, so that
neighbouring grids never share a colour.  Roads are drawn by class, grid
boundaries bold, grids forced out of the band hatched, with labels, a scale
bar, a north arrow, a legend and an attribution line.

Chinese text (a title such as ``"学院路街道"``, four-limit text in the atlas)
needs a CJK-capable font.  :func:`cjk_font` looks for one, in this order: a
font file named by the ``GRIDPART_CJK_FONT`` environment variable, the fonts
matplotlib knows, the Noto/Source Han fonts shipped inside the optional
``mplfonts`` package (``pip install "gridpart[cjk]"``), and the system's font
files (Debian: ``fonts-noto-cjk``).  When none is found and a map holds CJK
text, a single :class:`UserWarning` says what to install.  gridpart itself
does not require such a font: the map's own legend is then in English only.

:func:`plot_compare` draws several plans side by side, and :func:`plot_sizes`
a histogram of households per grid against the band.

The figure is created with :mod:`matplotlib.pyplot` only when no ``ax`` is
given; nothing here calls ``plt.show`` or changes the backend, so the map
renders with Agg on headless machines.
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

__all__ = ["plot_plan", "plot_compare", "plot_sizes", "plan_html", "grid_colours", "grid_adjacency",
           "grid_labels", "road_name_labels", "cjk_font", "PALETTE", "ROAD_STYLES", "OSM_ATTRIBUTION",
           "COMMUNITY_STYLE", "CJK_FONT_ENV"]

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
_MAX_ROAD_NAMES = 20

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


def _font_family() -> list[str]:
    """Font family list for map text: the CJK font (when one is found), then DejaVu Sans."""
    font = cjk_font()
    return [font, "DejaVu Sans"] if font else ["DejaVu Sans"]


def _has_cjk(text: str | None) -> bool:
    return isinstance(text, str) and bool(_CJK_TEXT.search(text))


def _warn_no_cjk_font() -> None:
    if "cjk" in _warned:
        return
    _warned.add("cjk")
    warnings.warn(
        "gridpart.plot: the map holds Chinese text but no CJK font was found, so those "
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


def _scale_bar(ax: Axes, fontfamily: list[str]) -> None:
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
        text.set_path_effects(_halo())
    bar.set_zorder(20)
    ax.add_artist(bar)


def _north_arrow(ax: Axes, fontfamily: list[str]) -> None:
    ax.annotate("N", xy=(0.95, 0.96), xytext=(0.95, 0.87), xycoords="axes fraction",
                textcoords="axes fraction", ha="center", va="center", fontsize=10, fontweight="bold",
                fontfamily=fontfamily, zorder=20,
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5,
                            "mutation_scale": 14, "shrinkA": 6, "shrinkB": 0})


def _halo(width: float = 2.5) -> list:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


# --------------------------------------------------------------------------- the map


def _metric(gdf: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    if gdf is None or len(gdf) == 0 or gdf.crs is None or crs is None:
        return gdf
    return gdf.to_crs(crs)


def _polygon_parts(geom) -> list:
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


def _tidy(geoms: gpd.GeoSeries, *, min_hole_m2: float = 1.0) -> gpd.GeoSeries:
    """Geometries for drawing: valid, without zero-area holes or slits.

    Dissolved grids can carry slivers of holes a few centimetres wide; drawn
    as bold boundary they look like cuts inside a grid.  Only the map uses
    this: the plan's geometries are not changed.
    """
    out = []
    for geom in shapely.make_valid(geoms.values):
        polys = [shapely.Polygon(p.exterior, [r for r in p.interiors if shapely.Polygon(r).area >= min_hole_m2])
                 for p in _polygon_parts(geom)]
        out.append(shapely.union_all(polys) if polys else geom)
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)


def _work_crs(plan: GridPlan):
    work = plan.params.get("work_crs") if plan.params else None
    if work:
        return work
    if plan.grids.crs is None or len(plan.grids) == 0:
        return plan.grids.crs
    from gridpart.crs import working_crs

    return working_crs(plan.grids.crs, plan.grids.total_bounds)


def _label_kind(grids: gpd.GeoDataFrame, full_codes: bool) -> str:
    if "code" not in grids or not grids["code"].notna().any():
        return "grid id"
    return "code" if full_codes else "code (sequence in community)"


def _attribution(plan: GridPlan, attribution: str | None) -> str | None:
    if attribution == "auto":
        return (plan.params.get("attribution") if plan.params else None) or OSM_ATTRIBUTION
    return attribution


def _community_outlines(grids: gpd.GeoDataFrame) -> gpd.GeoSeries:
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


def _displayable_names(roads: gpd.GeoDataFrame, font: str | None) -> gpd.GeoDataFrame:
    """Roads whose ``name`` can be drawn: as is with a CJK font; without one, ``name_en`` where
    the data has it, and Chinese-only names left out (rather than drawn as boxes)."""
    if font is not None or "name" not in roads:
        return roads
    local = roads["name"]
    if "name_en" in roads:
        local = roads["name_en"].where(roads["name_en"].notna(), local)
    return roads.assign(name=local.where(~local.map(_has_cjk), None))


def plot_plan(
    plan: GridPlan,
    ax: Axes | None = None,
    *,
    labels: bool = True,
    roads: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] = (10, 10),
    attribution: str | None = "auto",
    communities: bool = True,
    road_names: bool = True,
    full_codes: bool = False,
) -> Axes:
    """Draw a plan's grids, roads and labels on a map in metres.

    Parameters
    ----------
    plan : GridPlan
        The plan to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure of ``figsize`` (through
        :mod:`matplotlib.pyplot`, so it shows in Jupyter) with constrained
        layout, so that ``ax.figure.savefig(path)`` saves the legend drawn
        right of the map too.  On axes of your own figure, leave room for the
        legend (``layout="constrained"``, or ``bbox_inches="tight"`` when saving).
    labels : bool
        Label each grid with its ``code`` (its ``grid_id`` where the plan has
        no codes) and its households, at a point inside it.
    roads : bool
        Draw ``plan.roads`` by class: road wide, street medium, lane thin,
        barrier dashed.
    title : str, optional
        Title of the map (Chinese text is fine when a CJK font is installed).
    figsize : (float, float)
        Size in inches of a new figure.
    attribution : str or None
        The attribution line in the lower right corner: ``"auto"`` uses
        ``plan.params["attribution"]`` when set, else ``"© OpenStreetMap
        contributors"`` (gridpart's inputs normally come from OSM); any other
        text is shown as given; None hides the line.
    communities : bool
        Draw community boundaries (the outline of each community's grids)
        bold and dashed over the grid boundaries.
    road_names : bool
        Write the names of roads and streets (one label per name, along its
        longest piece; the 20 longest), e.g. 学院路.  Without a CJK font, ``name_en`` is used
        where the roads have it and Chinese-only names are left out.
    full_codes : bool
        Label grids with their whole code; by default only the sequence
        number within the community (see :func:`grid_labels`).

    Returns
    -------
    matplotlib.axes.Axes
        Coordinates are in the plan's working CRS (``plan.params["work_crs"]``).

    Warns
    -----
    UserWarning
        Once per session, when the map holds CJK text and no CJK font is found.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> ax = plan.plot(title="Xueyuan Road")
    >>> ax.get_title()
    'Xueyuan Road'
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    crs = _work_crs(plan)
    grids = _metric(plan.grids, crs)
    if len(grids):
        grids = grids.set_geometry(_tidy(grids.geometry))
    names = grid_labels(grids, short=not full_codes) if len(grids) else pd.Series(dtype=str)
    texts = [title or ""]
    attribution_text = _attribution(plan, attribution)
    texts.append(attribution_text or "")
    if labels:
        texts += names.tolist()
    font = cjk_font()
    road_m = _metric(plan.roads, crs) if plan.roads is not None and len(plan.roads) else None
    name_labels = pd.DataFrame(columns=["name", "x", "y", "angle", "length_m"])
    if roads and road_names and road_m is not None and len(grids):
        named = _displayable_names(road_m, font)
        minx, miny, maxx, maxy = grids.total_bounds
        # the longest few only: a wall map names its main roads, not every street
        name_labels = road_name_labels(named, min_length_m=0.08 * max(maxx - minx, maxy - miny)).head(
            _MAX_ROAD_NAMES)
        texts += name_labels["name"].tolist()
    needs_cjk = any(_has_cjk(t) for t in texts)
    if needs_cjk and font is None:
        _warn_no_cjk_font()
    fontfamily = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]

    own_figure = ax is None
    if own_figure:
        import matplotlib.pyplot as plt

        # constrained layout, with the legend's width reserved on the right (below), keeps the
        # legend inside the figure, so that ax.figure.savefig(...) saves all of it without
        # bbox_inches="tight"; the map keeps to the left of its slot
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
        ax.set_anchor("W")
    ax.set_aspect("equal")

    colours = grid_colours(plan)
    face = colours.reindex(grids["grid_id"].to_numpy()).to_numpy()
    if len(grids):
        grids.plot(ax=ax, color=face, edgecolor="none", linewidth=0, zorder=1)

    present: list[str] = []
    if roads and road_m is not None:
        kinds = road_m["kind"].astype(str) if "kind" in road_m else pd.Series("street", index=road_m.index)
        for kind, style in ROAD_STYLES.items():
            part = road_m[(kinds == kind).to_numpy()]
            if len(part):
                part.plot(ax=ax, color=style["color"], linewidth=style["linewidth"],
                          linestyle=style["linestyle"], zorder=3 if kind != "barrier" else 4)
                present.append(kind)

    if len(grids):
        forced = grids["forced"].astype(bool).to_numpy() if "forced" in grids else np.zeros(len(grids), bool)
        if forced.any():
            grids[forced].plot(ax=ax, facecolor="none", edgecolor="#444444", hatch="///", linewidth=0, zorder=2)
        grids.boundary.plot(ax=ax, color="black", linewidth=2.0, zorder=5)
        if communities:
            _community_outlines(grids).plot(ax=ax, zorder=6, **COMMUNITY_STYLE)
        minx, miny, maxx, maxy = grids.total_bounds
        pad = max(maxx - minx, maxy - miny) * 0.03
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)

    if labels and len(grids):
        points = grids.geometry.representative_point()
        size = 8 if len(grids) <= 80 else 6
        hh = grids["households"].to_numpy(dtype=float)
        for name, pt, n in zip(names.to_numpy(), points, hh):
            count = "–" if not np.isfinite(n) else f"{n:.0f}"
            ax.text(pt.x, pt.y, f"{name}\n{count}", ha="center", va="center", fontsize=size,
                    fontfamily=fontfamily, linespacing=1.0, zorder=10, clip_on=True, path_effects=_halo(2.0))

    for row in name_labels.itertuples(index=False):
        ax.text(row.x, row.y, row.name, ha="center", va="center", rotation=row.angle, rotation_mode="anchor",
                fontsize=7, color="#303030", fontstyle="italic", fontfamily=fontfamily, zorder=9,
                clip_on=True, path_effects=_halo(2.0), gid="road_name")

    handles = []
    for kind in present:
        style = ROAD_STYLES[kind]
        label = f"{style['zh']} {style['label']}" if font else style["label"]
        handles.append(Line2D([], [], color=style["color"], linewidth=style["linewidth"],
                              linestyle=style["linestyle"], label=label))
    handles.append(Line2D([], [], color="black", linewidth=2.0, label="grid boundary"))
    if communities and len(grids):
        handles.append(Line2D([], [], label="community boundary", **COMMUNITY_STYLE))
    if len(grids) and "forced" in grids and grids["forced"].astype(bool).any():
        handles.append(Patch(facecolor="white", edgecolor="#444444", hatch="///", label="forced out of band"))
    legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                       framealpha=0.9,
                       title=(f"label: {_label_kind(grids, full_codes)} / households"
                              if labels else None), title_fontsize=7,
                       prop={"family": fontfamily, "size": 8})
    legend.set_zorder(30)

    if len(grids):
        _scale_bar(ax, fontfamily)
    _north_arrow(ax, ["DejaVu Sans"])
    if attribution_text:
        ax.text(0.995, 0.005, attribution_text, transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#333333", fontfamily=fontfamily, zorder=20, path_effects=_halo(2.0))
    if title:
        ax.set_title(title, fontfamily=fontfamily)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    if own_figure:
        _reserve_legend(ax, legend)
    return ax


def _reserve_legend(ax, legend) -> None:
    """Pull the layout in from the right by as much as the legend sticks out of the figure.

    Constrained layout reserves the legend's strip for most maps; a map taller than
    its slot shrinks sideways first and can still push the legend past the edge.
    """
    fig = ax.figure
    right = 1.0
    for _ in range(3):
        fig.draw_without_rendering()
        over = legend.get_window_extent(fig.canvas.get_renderer()).x1 - fig.bbox.x1
        if over <= 0:
            return
        right = max(0.5, right - (over + 0.01 * fig.bbox.width) / fig.bbox.width)
        fig.get_layout_engine().set(rect=(0.0, 0.0, right, 1.0))


# --------------------------------------------------------------------------- comparison and sizes


def _named_plans(plans) -> dict[str, GridPlan]:
    from gridpart.errors import Problems
    from gridpart.plan import GridPlan

    if isinstance(plans, GridPlan):
        plans = {"plan": plans}
    elif not isinstance(plans, dict):
        plans = {f"plan {i + 1}": p for i, p in enumerate(plans)}
    problems = Problems()
    bad = [name for name, p in plans.items() if not isinstance(p, GridPlan)]
    if bad:
        problems.add("plans", "every value must be a GridPlan", rows=bad,
                     fix="pass {'name': gp.partition(...), ...}")
    if not plans:
        problems.add("plans", "no plan given", fix="pass at least one GridPlan")
    problems.raise_if_any()
    return {str(k): v for k, v in plans.items()}


def plot_sizes(
    plans,
    ax: Axes | None = None,
    *,
    bins: int | None = None,
    figsize: tuple[float, float] = (7, 4),
) -> Axes:
    """Histogram of households per grid, against the band.

    Parameters
    ----------
    plans : GridPlan, dict of str to GridPlan, or list of GridPlan
        One plan, or several drawn as overlaid step histograms on shared bins.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure of ``figsize``.
    bins : int, optional
        Number of bins (default: about one per 5 % of the band's centre).

    Returns
    -------
    matplotlib.axes.Axes
        The band is shaded and its centre marked (when the plans' bands
        differ, each plan's band is shaded in its colour); grids forced out
        of the band are counted too.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> ax = gp.plot_sizes(plan)
    >>> ax.get_xlabel()
    'households per grid'
    """
    named = _named_plans(plans)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    sizes = {name: p.grids["households"].to_numpy(dtype=float) for name, p in named.items()}
    bands = {name: tuple(float(b) for b in p.params["band"]) for name, p in named.items()
             if p.params and p.params.get("band") is not None and len(p.params["band"]) == 2}
    values = np.concatenate([v[np.isfinite(v)] for v in sizes.values()]) if sizes else np.zeros(0)
    lo_all = float(values.min()) if len(values) else 0.0
    hi_all = float(values.max()) if len(values) else 1.0
    if bands:
        lo_all = min(lo_all, *(b[0] for b in bands.values()))
        hi_all = max(hi_all, *(b[1] for b in bands.values()))
        first = next(iter(bands.values()))
        step = max((first[0] + first[1]) / 2 * 0.05, 1.0)
    else:
        step = max((hi_all - lo_all) / 20, 1.0)
    if bins is None:
        edges = np.arange(math.floor(lo_all / step) * step, hi_all + step * 1.001, step)
    else:
        edges = np.linspace(lo_all, hi_all + 1e-9, int(bins) + 1)
    colours = ["#1f78b4", "#e31a1c", "#ff7f00", "#6a3d9a", "#33a02c", "#b15928"]
    colour_of = {name: colours[k % len(colours)] for k, name in enumerate(sizes)}
    if len(set(bands.values())) == 1:  # one band for all: shade it, mark its centre
        lo, hi = next(iter(bands.values()))
        ax.axvspan(lo, hi, color="#b2df8a", alpha=0.45, zorder=0, label=f"band {lo:g}–{hi:g}")
        ax.axvline((lo + hi) / 2, color="#33a02c", linewidth=1.2, linestyle="--", zorder=1,
                   label=f"target {(lo + hi) / 2:g}")
    else:  # each plan's own band, in its colour
        for name, (lo, hi) in bands.items():
            ax.axvspan(lo, hi, color=colour_of[name], alpha=0.10, zorder=0, label=f"{name}: band {lo:g}–{hi:g}")
    many = len(sizes) > 1
    for k, (name, v) in enumerate(sizes.items()):
        ax.hist(v[np.isfinite(v)], bins=edges, histtype="step" if many else "stepfilled",
                color=colour_of[name], alpha=1.0 if many else 0.75, linewidth=1.8, zorder=2 + k,
                label=f"{name} ({len(v)} grids)")
    ax.set_xlabel("households per grid")
    ax.set_ylabel("grids")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_compare(
    plans,
    *,
    sizes: bool = True,
    labels: bool | None = None,
    figsize: tuple[float, float] | None = None,
    attribution: str | None = "auto",
):
    """Two or more plans side by side, with a histogram of grid sizes against the band.

    Parameters
    ----------
    plans : dict of str to GridPlan, or list of GridPlan
        The plans, in the order to draw them; keys are the panel titles.
    sizes : bool
        Add a row under the maps with :func:`plot_sizes` of all plans.
    labels : bool, optional
        Label grids (default: when every plan has at most 60 grids).
    figsize : (float, float), optional
        Default: 6 inches per plan wide, 6.5 high (+3 with ``sizes``).
    attribution : str or None
        As in :func:`plot_plan`; shown on the last map only.

    Returns
    -------
    matplotlib.figure.Figure
        One map Axes per plan (titled with its name, grid count and share in
        the band), then the histogram Axes when ``sizes``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> a = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> b = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed", target=400)
    >>> fig = gp.plot_compare({"300": a, "400": b})
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    named = _named_plans(plans)
    n = len(named)
    if labels is None:
        labels = all(len(p.grids) <= 60 for p in named.values())
    if figsize is None:
        figsize = (6.0 * n, 6.5 + (3.0 if sizes else 0.0))
    fig = plt.figure(figsize=figsize, layout="constrained")
    spec = fig.add_gridspec(2 if sizes else 1, n, height_ratios=[6.5, 3.0] if sizes else [1.0])
    for k, (name, plan) in enumerate(named.items()):
        ax = fig.add_subplot(spec[0, k])
        last = k == n - 1
        plot_plan(plan, ax=ax, labels=labels, attribution=attribution if last else None)
        legend = ax.get_legend()
        if legend is not None and not last:
            legend.remove()
        card = plan.score().summary
        ax.set_title(f"{name}: {len(plan.grids)} grids, {card['share_in_band']:.0%} in band",
                     fontfamily=_font_family(), fontsize=11)
    if sizes:
        plot_sizes(named, ax=fig.add_subplot(spec[1, :]))
    return fig


# --------------------------------------------------------------------------- Jupyter


_HTML_MAX_GRIDS = 2000
_HTML_MAX_ROADS = 20_000


def plan_html(plan: GridPlan, *, image: bool = True, size_in: float = 4.0, dpi: int = 72) -> str:
    """HTML for Jupyter: a summary table and a small static map (an inline PNG).

    The map is left out (with a note) for plans of more than 2,000 grids or
    20,000 road pieces, so that showing a city-sized plan stays quick.

    Parameters
    ----------
    plan : GridPlan
    image : bool
        Include the map (a PNG, base64-encoded in the HTML).
    size_in : float
        Width and height of the map in inches.
    dpi : int
        Resolution of the map.

    Returns
    -------
    str

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> html = plan_html(plan)
    >>> "data:image/png;base64," in html and "<table" in html
    True
    """
    import base64
    import html as html_lib
    import io

    card = plan.score().summary
    band = plan.params.get("band") if plan.params else None
    hh = plan.households["households"].sum() if "households" in plan.households else float("nan")
    rows = [
        ("grids", f"{int(card['grids'])}"),
        ("communities", f"{plan.grids['community_id'].nunique()}" if "community_id" in plan.grids else "–"),
        ("households", f"{hh:,.0f}"),
        ("band (households)", f"{band[0]:g}–{band[1]:g}" if band and len(band) == 2 else "–"),
        ("within the band", f"{card['share_in_band']:.1%} of grids not forced out "
                            f"({card['share_in_band_raw']:.1%} of all)"),
        ("forced out", f"{int(card['forced_out'])}"),
        ("within ±10% / ±20%", f"{card['share_within_10pct']:.1%} / {card['share_within_20pct']:.1%}"),
        ("contiguous", f"{card['contiguous_share']:.0%}"),
        ("internal boundary on roads", f"{card['road_share']:.1%}"),
        ("unplaced households", f"{card['unplaced_households']:,.0f}"),
        ("status", ", ".join(f"{k} {v}" for k, v in plan.status["status"].value_counts().sort_index().items())
         if plan.status is not None and "status" in plan.status else "–"),
        ("CRS", plan.crs.to_string() if plan.crs is not None else "–"),
    ]
    table = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html_lib.escape(k)}</th>"
                    f"<td style='text-align:left'>{html_lib.escape(v)}</td></tr>" for k, v in rows)
    picture = ""
    n_roads = len(plan.roads) if plan.roads is not None else 0
    if image and (len(plan.grids) > _HTML_MAX_GRIDS or n_roads > _HTML_MAX_ROADS):
        image = False
        picture = (f"<div style='color:#666'>map left out of this summary ({len(plan.grids)} grids, "
                   f"{n_roads} road pieces): plan.plot() draws it</div>")
    if image and len(plan.grids):
        from matplotlib.figure import Figure

        try:
            fig = Figure(figsize=(size_in, size_in))
            ax = fig.add_subplot()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # the full map warns; this thumbnail need not
                plot_plan(plan, ax=ax, labels=len(plan.grids) <= 30, road_names=False)
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
            data = base64.b64encode(buffer.getvalue()).decode("ascii")
            picture = (f"<img src='data:image/png;base64,{data}' alt='map of {int(card['grids'])} grids' "
                       f"style='max-width:{int(size_in * dpi)}px'/>")
        except Exception as exc:  # a repr must never raise
            log.warning("GridPlan map for the notebook failed: %s", exc)
    return ("<div style='display:flex;gap:1.5em;align-items:flex-start'>"
            f"<div><b>GridPlan</b><table>{table}</table></div>{picture}</div>")
