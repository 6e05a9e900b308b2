"""Maps of a :class:`~gridpart.plan.GridPlan`.

:func:`plot_plan` draws the grids in the plan's metric working CRS (so the map
is not stretched the way longitude/latitude would be), filled from a small
qualitative palette by a greedy colouring of the grid adjacency graph, so that
neighbouring grids never share a colour.  Roads are drawn by class, grid
boundaries bold, grids forced out of the band hatched, with labels, a scale
bar, a north arrow, a legend and an attribution line.

Chinese text (a title such as ``"学院路街道"``) needs a CJK-capable font.
:func:`cjk_font` looks for one among matplotlib's fonts (and, when its font
cache predates a newly installed font, among the system's font files); when
none is found and the map holds CJK text, a single :class:`UserWarning` says
which package to install.  gridpart itself does not require such a font: the
map's own legend is then in English only.

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

__all__ = ["plot_plan", "grid_colours", "grid_adjacency", "cjk_font", "PALETTE", "ROAD_STYLES",
           "OSM_ATTRIBUTION"]

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

#: The attribution line for maps of OpenStreetMap data.
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

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


def cjk_font() -> str | None:
    """The family name of a CJK-capable font matplotlib can use, or None.

    Looks among matplotlib's known fonts for Noto Sans/Serif CJK, WenQuanYi,
    SimHei, Source Han, Droid Sans Fallback or AR PL faces, preferring
    simplified-Chinese sans-serif ones.  When none is known, the system's font
    files are scanned once and matching ones are added to matplotlib (its font
    cache does not see fonts installed after it was built).  The answer is
    cached for the session.

    Returns
    -------
    str or None

    Examples
    --------
    >>> name = cjk_font()
    >>> name is None or isinstance(name, str)
    True
    """
    if "name" in _font_cache:
        return _font_cache["name"]
    names = _known_cjk_names()
    if not names:
        from matplotlib import font_manager

        try:
            files = [p for p in font_manager.findSystemFonts() if _CJK_FILES.search(p.rsplit("/", 1)[-1])]
        except Exception as exc:  # a broken font directory must not break plotting
            log.debug("scanning system fonts failed: %s", exc)
            files = []
        for path in sorted(files):
            try:
                font_manager.fontManager.addfont(path)
            except Exception as exc:
                log.debug("could not add font %s: %s", path, exc)
        names = _known_cjk_names()
    _font_cache["name"] = names[0] if names else None
    log.debug("CJK font: %s", _font_cache["name"])
    return _font_cache["name"]


def _has_cjk(text: str | None) -> bool:
    return bool(text) and bool(_CJK_TEXT.search(text))


def _warn_no_cjk_font() -> None:
    if "cjk" in _warned:
        return
    _warned.add("cjk")
    warnings.warn(
        "gridpart.plot: the map holds Chinese text but matplotlib knows no CJK font, so those "
        "characters will show as empty boxes. Install one (Debian/Ubuntu: apt-get install "
        "fonts-noto-cjk; or fonts-wqy-microhei), then delete matplotlib's font cache "
        "(matplotlib.get_cachedir()) if it is still not found.",
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


def plot_plan(
    plan: GridPlan,
    ax: Axes | None = None,
    *,
    labels: bool = True,
    roads: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] = (10, 10),
    attribution: str | None = "auto",
) -> Axes:
    """Draw a plan's grids, roads and labels on a map in metres.

    Parameters
    ----------
    plan : GridPlan
        The plan to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure of ``figsize`` (through
        :mod:`matplotlib.pyplot`, so it shows in Jupyter).
    labels : bool
        Label each grid with its ``grid_id`` and households at a point inside it.
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
    texts = [title or ""]
    attribution_text = (plan.params.get("attribution") or OSM_ATTRIBUTION) if attribution == "auto" else attribution
    texts.append(attribution_text or "")
    font = cjk_font()
    needs_cjk = any(_has_cjk(t) for t in texts)
    if needs_cjk and font is None:
        _warn_no_cjk_font()
    fontfamily = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    ax.set_aspect("equal")

    colours = grid_colours(plan)
    face = colours.reindex(grids["grid_id"].to_numpy()).to_numpy()
    if len(grids):
        grids.plot(ax=ax, color=face, edgecolor="none", linewidth=0, zorder=1)

    present: list[str] = []
    if roads and plan.roads is not None and len(plan.roads):
        road_m = _metric(plan.roads, crs)
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
        minx, miny, maxx, maxy = grids.total_bounds
        pad = max(maxx - minx, maxy - miny) * 0.03
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)

    if labels and len(grids):
        points = grids.geometry.representative_point()
        size = 8 if len(grids) <= 80 else 6
        hh = grids["households"].to_numpy(dtype=float)
        for gid, pt, n in zip(grids["grid_id"].to_numpy(), points, hh):
            count = "–" if not np.isfinite(n) else f"{n:.0f}"
            ax.text(pt.x, pt.y, f"{gid}\n{count}", ha="center", va="center", fontsize=size,
                    fontfamily=fontfamily, linespacing=1.0, zorder=10, path_effects=_halo(2.0))

    handles = []
    for kind in present:
        style = ROAD_STYLES[kind]
        label = f"{style['zh']} {style['label']}" if font else style["label"]
        handles.append(Line2D([], [], color=style["color"], linewidth=style["linewidth"],
                              linestyle=style["linestyle"], label=label))
    handles.append(Line2D([], [], color="black", linewidth=2.0, label="grid boundary"))
    if len(grids) and "forced" in grids and grids["forced"].astype(bool).any():
        handles.append(Patch(facecolor="white", edgecolor="#444444", hatch="///", label="forced out of band"))
    legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                       framealpha=0.9,
                       title="label: grid id / households" if labels else None, title_fontsize=7,
                       prop={"family": fontfamily, "size": 8})
    legend.set_zorder(30)

    if len(grids):
        _scale_bar(ax, fontfamily)
    _north_arrow(ax, fontfamily)
    if attribution_text:
        ax.text(0.995, 0.005, attribution_text, transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#333333", fontfamily=fontfamily, zorder=20, path_effects=_halo(2.0))
    if title:
        ax.set_title(title, fontfamily=fontfamily)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    return ax
